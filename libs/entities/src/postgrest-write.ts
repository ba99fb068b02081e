import { PostgrestAsk, notOneRow } from '@choreo/http';
import { EntityModel } from './entity-model';
import { EntityError } from './errors';
import { QueryInput } from './query-syntax';
import { applyColumns } from './write-request';

/** A batch POST writes at most this many rows in its one transaction. */
export const MAX_BATCH = 1000;

/** An upsert's resolution (`Prefer: resolution=…`) over `on_conflict` (default the primary key). */
export interface InsertConflict {
  onConflict?: string;
  ignoreDuplicates: boolean;
}

/** The rows a POST writes (after `columns=` and `missing=`) and, for an upsert, how conflicts resolve. */
export interface InsertRequest {
  bodies: unknown[];
  conflict?: InsertConflict;
}

/** The objects of a batch body: 1 to MAX_BATCH of them, or a 400. */
export function batchBodies(body: unknown[]): unknown[] {
  if (body.length === 0 || body.length > MAX_BATCH)
    throw EntityError.invalid([{ field: 'body', message: `an array of 1 to ${MAX_BATCH} objects` }], 'body');
  return body;
}

/** PostgREST's POST: one object or an array, `columns=`, `Prefer: missing=default`, upsert resolution. */
export function insertRequest(
  model: EntityModel,
  body: unknown,
  query: QueryInput,
  ask: PostgrestAsk,
): InsertRequest {
  const columns = typeof query.columns === 'string' ? query.columns : undefined;
  const bodies = applyColumns(
    model,
    Array.isArray(body) ? batchBodies(body) : [body],
    columns,
    ask.prefer.missing === 'default',
  );
  const onConflict = typeof query.on_conflict === 'string' ? query.on_conflict : undefined;
  const conflict = ask.prefer.resolution
    ? { onConflict, ignoreDuplicates: ask.prefer.resolution === 'ignore-duplicates' }
    : undefined;
  return { bodies, conflict };
}

/**
 * Refuses rows that break what the request demanded, before the caller commits: one object for the
 * single-object type (406), at most `max-affected` with `handling=strict` (400).
 */
export function checkWritten(rows: readonly unknown[], ask: PostgrestAsk): void {
  if (ask.shape.singleObject && rows.length !== 1) throw notOneRow(rows.length);
  const max = ask.prefer.maxAffected;
  if (max !== undefined && rows.length > max)
    throw EntityError.invalid(
      [{ field: 'Prefer', message: `max-affected=${max}, and the write touched ${rows.length} rows` }],
      'header',
    );
}
