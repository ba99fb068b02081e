import type { FastifyReply, FastifyRequest } from 'fastify';
import { JsonShape, Preferences, acceptedShape, contentRange, parsePrefer, shapeRows } from './postgrest';

/** What a PostgREST-style request asked for beyond its URL: its preferences and the body shape. */
export interface PostgrestAsk {
  prefer: Preferences;
  shape: JsonShape;
}

/** A query string with repeated keys as arrays (an entity's `QueryInput`). */
export type RawQuery = Record<string, string | string[]>;

/**
 * The raw query string, repeated keys as arrays. Read from the URL rather than `req.query` so a
 * bracket syntax (`a[b]=c`) stays a plain, unknown key whatever query parser the platform is set to.
 */
export function rawQueryOf(request: FastifyRequest): RawQuery {
  const query: RawQuery = {};
  const start = request.url.indexOf('?');
  if (start < 0) return query;
  for (const [key, value] of new URLSearchParams(request.url.slice(start + 1))) {
    const previous = query[key];
    query[key] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return query;
}

/** The request's `Prefer` and `Accept`, read the PostgREST way. */
export function postgrestAskOf(request: FastifyRequest): PostgrestAsk {
  return { prefer: parsePrefer(request.headers.prefer), shape: acceptedShape(request.headers.accept) };
}

/**
 * Whether a POST asks for PostgREST's answer (a `Prefer: return|resolution`, the single-object
 * type, or any query parameter) rather than choreo's own (the row written, with Location and ETag).
 */
export function asksPostgrestWrite(ask: PostgrestAsk, query: RawQuery): boolean {
  return (
    ask.prefer.return !== undefined ||
    ask.prefer.resolution !== undefined ||
    ask.shape.singleObject ||
    Object.keys(query).length > 0
  );
}

/**
 * PostgREST's answer to a write: with `return=representation` the rows (an array, or the one object
 * for the single-object type) and 201/200; otherwise no body and 201/204. Content-Range counts the
 * rows, Preference-Applied says what was honoured.
 */
export function answerWritten(
  reply: FastifyReply,
  rows: Record<string, unknown>[],
  ask: PostgrestAsk,
  bare: 201 | 204,
): unknown {
  const counted = ask.prefer.count !== undefined ? rows.length : undefined;
  void reply.header('Content-Range', contentRange(0, rows.length, counted).header);
  if (ask.prefer.applied.length > 0) void reply.header('Preference-Applied', ask.prefer.applied.join(', '));
  if (ask.prefer.return === 'representation') {
    void reply.status(bare === 201 ? 201 : 200);
    return shapeRows(rows, ask.shape);
  }
  void reply.status(bare);
  return undefined;
}
