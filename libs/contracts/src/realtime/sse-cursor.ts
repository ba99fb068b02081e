import type { StreamPosition } from './frames';

/**
 * The SSE `id:` of an event stream: every channel's position in one opaque, URL-safe text, so a
 * `Last-Event-ID` resumes all of the stream's channels at once. base64url of
 * `{"<channel>":[offset,"<epoch>"]}` (epoch omitted for order channels).
 */
export function encodeSseCursor(positions: ReadonlyMap<string, StreamPosition>): string {
  const compact: Record<string, [number] | [number, string]> = {};
  for (const [channel, { offset, epoch }] of positions) {
    compact[channel] = epoch === undefined ? [offset] : [offset, epoch];
  }
  return base64url(JSON.stringify(compact));
}

/** Reads a cursor written by encodeSseCursor; undefined when it is not one (a stale or forged id). */
export function decodeSseCursor(cursor: string): Map<string, StreamPosition> | undefined {
  try {
    const value: unknown = JSON.parse(fromBase64url(cursor));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const positions = new Map<string, StreamPosition>();
    for (const [channel, entry] of Object.entries(value)) {
      if (!Array.isArray(entry)) return undefined;
      const [offset, epoch] = entry as unknown[];
      if (!Number.isSafeInteger(offset) || (offset as number) < 0) return undefined;
      if (epoch !== undefined && typeof epoch !== 'string') return undefined;
      positions.set(
        channel,
        epoch === undefined ? { offset: offset as number } : { offset: offset as number, epoch },
      );
    }
    return positions;
  } catch {
    return undefined;
  }
}

// btoa/atob exist in browsers and in Node 16+, so the client bundle needs no Buffer.
function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url');
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}
