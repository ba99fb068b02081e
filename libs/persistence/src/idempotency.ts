import { createHash } from 'node:crypto';
import { ApiError } from '@choreo/http';
import type { Queryable } from './database';

/** DDL of the idempotency keys table. Run by the owning app's migration. */
export const IDEMPOTENCY_SCHEMA = `
create table if not exists idempotency_keys (
  key text primary key,
  request_hash text not null,
  status_code integer,
  response jsonb,
  created_at timestamptz not null default now()
);
create index if not exists idempotency_keys_created_at_idx on idempotency_keys (created_at)`;

/** The response stored under a key and replayed for a retry. */
export interface StoredResponse<B = unknown> {
  statusCode: number;
  body: B;
  /** Response headers worth replaying (Location, X-Event-ID …). */
  headers?: Record<string, string>;
}

/** The same Idempotency-Key was sent with a different request: 422 `idempotency_key_reused`. */
export class IdempotencyKeyReusedError extends ApiError {
  constructor(readonly key: string) {
    super(
      422,
      'idempotency_key_reused',
      `Idempotency-Key ${JSON.stringify(key)} was already used with a different request`,
    );
    this.name = 'IdempotencyKeyReusedError';
    this.details = { idempotency_key: key };
  }
}

/** What makes a request "the same" for its Idempotency-Key; no key, no idempotency. */
export interface IdempotentRequest {
  key: string | undefined;
  method: string;
  path: string;
  body: unknown;
}

/**
 * Runs `work` at most once per Idempotency-Key, inside the caller's transaction: a new key runs it
 * and stores its response with the write; a retry of the same request gets the stored response
 * (`replayed: true`) and nothing runs; the key with another request throws IdempotencyKeyReusedError.
 * Without a request or key, `work` simply runs. See `beginIdempotentRequest` for concurrent retries.
 */
export async function withIdempotency<B>(
  tx: Queryable,
  request: IdempotentRequest | undefined,
  work: () => Promise<StoredResponse<B>>,
): Promise<{ response: StoredResponse<B>; replayed: boolean }> {
  const key = request?.key;
  if (request === undefined || key === undefined) return { response: await work(), replayed: false };
  const fingerprint = requestFingerprint(request.method, request.path, request.body);
  const stored = await beginIdempotentRequest(tx, key, fingerprint);
  // A replayed body is the JSON that was stored: what the first answer sent, not its in-memory form.
  if (stored) return { response: stored as StoredResponse<B>, replayed: true };
  const response = await work();
  await completeIdempotentRequest(tx, key, response);
  return { response, replayed: false };
}

/** A stable hash of what makes two requests "the same": method, path and body (key order ignored). */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method.toUpperCase()} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Starts an idempotent request inside the caller's transaction. Returns `undefined` when the key is
 * new: the caller does the work and calls `completeIdempotentRequest` in the same transaction.
 * Returns the stored response when the key was used with the same request; throws
 * IdempotencyKeyReusedError when it was used with another one.
 *
 * Concurrent requests with one key serialise on the primary key: the second insert waits until the
 * first transaction ends. If the first committed, the second replays its response; if it rolled back
 * (the request failed), the second runs as if it were first. Only successful responses are stored,
 * because a failure rolls the key back with everything else.
 */
export async function beginIdempotentRequest(
  client: Queryable,
  key: string,
  fingerprint: string,
): Promise<StoredResponse | undefined> {
  const inserted = await client.query(
    'insert into idempotency_keys (key, request_hash) values ($1, $2) on conflict (key) do nothing',
    [key, fingerprint],
  );
  if (inserted.rowCount === 1) return undefined;
  const { rows } = await client.query<{
    request_hash: string;
    status_code: number | null;
    response: { body: unknown; headers?: Record<string, string> } | null;
  }>('select request_hash, status_code, response from idempotency_keys where key = $1', [key]);
  const stored = rows[0];
  if (!stored || stored.request_hash !== fingerprint) throw new IdempotencyKeyReusedError(key);
  if (stored.status_code === null || stored.response === null) {
    // Unreachable while begin and complete share one transaction; a row left half-written by
    // another writer is refused rather than replayed as an empty response.
    throw new Error(`Idempotency-Key ${JSON.stringify(key)} has no stored response`);
  }
  return {
    statusCode: stored.status_code,
    body: stored.response.body,
    headers: stored.response.headers ?? {},
  };
}

/** Stores the response of a request begun with `beginIdempotentRequest`, in the same transaction. */
export async function completeIdempotentRequest(
  client: Queryable,
  key: string,
  response: StoredResponse,
): Promise<void> {
  await client.query('update idempotency_keys set status_code = $2, response = $3::jsonb where key = $1', [
    key,
    response.statusCode,
    JSON.stringify({ body: response.body, headers: response.headers ?? {} }),
  ]);
}

/** Deletes keys older than `maxAgeSeconds`, so the table stays small; returns how many went. */
export async function purgeIdempotencyKeys(client: Queryable, maxAgeSeconds: number): Promise<number> {
  const { rowCount } = await client.query(
    'delete from idempotency_keys where created_at < now() - make_interval(secs => $1)',
    [maxAgeSeconds],
  );
  return rowCount ?? 0;
}
