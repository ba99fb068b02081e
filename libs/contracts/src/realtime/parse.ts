import { z } from 'zod';
import {
  CLIENT_FRAME_TYPES,
  ClientFrame,
  clientFrame,
  RealtimeErrorCode,
  ServerFrame,
  serverFrame,
} from './frames';

/** Why an inbound frame was refused: what the `error` frame says. */
export interface FrameRefusal {
  code: RealtimeErrorCode;
  message: string;
  field?: string;
  /** The request id, when the frame had a readable one. */
  id?: number;
}

export type ClientFrameResult = { ok: true; frame: ClientFrame } | { ok: false; refusal: FrameRefusal };

/** Parses a text frame from a client; a refusal names the problem (and the field) instead of throwing. */
export function parseClientFrame(text: string): ClientFrameResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, refusal: { code: 'bad_frame', message: 'the frame is not JSON' } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, refusal: { code: 'bad_frame', message: 'the frame must be a JSON object' } };
  }
  const record = value as Record<string, unknown>;
  const id =
    Number.isSafeInteger(record['id']) && (record['id'] as number) >= 0
      ? (record['id'] as number)
      : undefined;
  const type = record['type'];
  if (typeof type !== 'string' || !(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) {
    return {
      ok: false,
      refusal: {
        code: 'unknown_type',
        message: `type must be one of ${CLIENT_FRAME_TYPES.join(', ')}; got ${JSON.stringify(type) ?? 'nothing'}`,
        field: 'type',
        id,
      },
    };
  }
  const result = clientFrame.safeParse(value);
  if (result.success) return { ok: true, frame: result.data };
  return { ok: false, refusal: { ...describeIssue(result.error), id } };
}

function describeIssue(error: z.ZodError): FrameRefusal {
  const issue = error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    return {
      code: 'invalid_field',
      message: `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`,
      field: issue.keys[0],
    };
  }
  const field = issue.path.join('.');
  return { code: 'invalid_field', message: `${field}: ${issue.message}`, field };
}

/** Parses a frame from the server; throws on anything the protocol does not define. */
export function parseServerFrame(text: string): ServerFrame {
  return serverFrame.parse(JSON.parse(text));
}
