import { EntityCatalog, entitiesOpenApi } from '@choreo/entities';
import { OPENAPI_ERROR_SCHEMA, OpenApiFragment } from '@choreo/http';

const WRITES = new Set(['post', 'patch', 'delete']);

type Operation = {
  operationId?: string;
  parameters?: unknown[];
  responses: Record<string, unknown>;
};

const errorAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: OPENAPI_ERROR_SCHEMA } } },
});

const header = (name: string, description: string) => ({
  name,
  in: 'header',
  required: false,
  description,
  schema: { type: 'string' },
});

const query = (name: string, description: string) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type: 'string' },
});

/**
 * The write operations of the entity routes under `/events`, described like the crud ones (the
 * same shapes, PostgREST's on the collection) plus what the events path adds: the event ids, the
 * correlation id and, on POST, Idempotency-Key.
 */
export function entityEventsOpenApi(catalog: EntityCatalog): OpenApiFragment {
  const fragment = entitiesOpenApi(catalog, '/events');
  for (const [path, operations] of Object.entries(fragment.paths)) {
    const writes = Object.fromEntries(
      Object.entries(operations as Record<string, Operation>)
        .filter(([method]) => WRITES.has(method))
        .map(([method, operation]) => [method, withEvents(method, path, operation)]),
    );
    if (Object.keys(writes).length > 0) fragment.paths[path] = writes;
    else delete fragment.paths[path];
  }
  // Same schema names as the crud fragment: they describe the same rows.
  return fragment;
}

function withEvents(method: string, path: string, operation: Operation): Operation & { description: string } {
  const collection = !path.endsWith('}');
  const parameters = [...(operation.parameters ?? [])];
  const responses = { ...operation.responses };
  if (method === 'post') {
    parameters.push(
      header('Idempotency-Key', 'a retry with the same key and request replays the first answer'),
      header(
        'Prefer',
        'return=representation|minimal|headers-only, resolution=merge-duplicates|ignore-duplicates, missing=default, count=exact',
      ),
      query('select', 'with Prefer: return=representation, the fields to answer (alias:field renames)'),
      query('columns', 'only these keys of each object are written'),
      query('on_conflict', 'the unique fields an upsert resolves on (default the primary key)'),
    );
    responses['406'] = errorAnswer('the single-object Accept type and not exactly one row (rolled back)');
    responses['422'] = errorAnswer(
      'the Idempotency-Key was used with another request (idempotency_key_reused)',
    );
  }
  return {
    ...operation,
    operationId: `${String(operation.operationId)}WithEvent`,
    parameters,
    responses,
    description:
      (collection
        ? 'Writes the rows and records `<entity>.created|updated|deleted` for each in the same transaction; '
        : 'Writes the row and records `<entity>.created|updated|deleted` in the same transaction; ') +
      'answers with X-Event-ID (comma-separated, in row order, when several rows changed) and echoes X-Correlation-ID.',
  };
}
