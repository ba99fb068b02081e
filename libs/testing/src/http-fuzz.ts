import { deepStrictEqual } from 'node:assert';
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { FILTER_OPERATORS } from '@choreo/entities';

// The pieces of the REST fuzz specs (no 5xx, no dropped connection, nothing written by a refusal):
// a raw sender that reports resets, hostile strings and bodies, PostgREST-style filters, and the
// property that drives them.

const ANSWER_WITHIN_MS = 5_000;

export interface FuzzAnswer {
  status: number;
}

/**
 * One request on a fresh connection (any method, CONNECT included); a reset, a hang-up or no answer
 * within ANSWER_WITHIN_MS rejects.
 * An event stream is answered by its head: the stream itself never ends.
 */
export function send(
  port: number,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
): Promise<FuzzAnswer> {
  // Node's client frames no body of GET/OPTIONS/DELETE…: say its length (unless the caller asked for
  // `Transfer-Encoding: chunked`, which Node then frames), as real clients do.
  if (body !== undefined && !headers['transfer-encoding'])
    headers = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method, path: url, headers, agent: false },
      (response) => {
        if (String(response.headers['content-type']).startsWith('text/event-stream')) {
          response.destroy();
          return resolve({ status: response.statusCode ?? 0 });
        }
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    // A request left unanswered is as bad as a dropped one.
    request.setTimeout(ANSWER_WITHIN_MS, () =>
      request.destroy(new Error(`${method} ${url}: no answer within ${ANSWER_WITHIN_MS} ms`)),
    );
    // CONNECT is answered on the raw socket (see libs/runtime installRefusals).
    request.on('connect', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0 });
    });
    request.end(body);
  });
}

/** Every method a client may send, those no route serves and CONNECT included. */
export const fuzzMethod = fc.constantFrom(
  'GET',
  'HEAD',
  'POST',
  'PATCH',
  'DELETE',
  'PUT',
  'OPTIONS',
  'TRACE',
  'CONNECT',
);

/** Content types a body may be labelled with, JSON and not (undefined: none sent). */
export const fuzzContentType = fc.constantFrom(
  'application/json',
  'text/plain',
  'application/merge-patch+json',
  'multipart/form-data; boundary=x',
  undefined,
);

/** Text PostgreSQL, LIKE, JSON and URL parsers choke on: NUL, lone backslash and surrogate, quotes… */
export const hostileText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme-composite' }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\\',
    'a\\',
    '%',
    '*',
    '(',
    ')',
    '"',
    ',',
    '.',
    '{',
    '}',
    "'",
    '--',
    '[',
    '1e999',
    '-1',
    '99999999999999999999',
    'null',
    'true',
    '2026-13-45',
    '{"a":',
    '(a,"b',
    '\ud800',
  ),
);

/** A filter's or parameter's value: hostile text, numbers, or JSON. */
export const hostileOperand = fc.oneof(
  hostileText,
  fc.integer().map(String),
  fc.double().map(String),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
);

/** A path segment made of hostile text, URL-encoded. */
export const hostileSegment = hostileText.map((s) => encodeURIComponent(Buffer.from(s).toString()));

/** JSON arrays nested up to 60 deep (the runtime refuses beyond MAX_JSON_DEPTH). */
export const deepJson = fc.nat({ max: 60 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth));

/** A JSON object of about `bytes` bytes (pass more than the app's body limit to provoke a 413). */
export const hugeJson = (bytes: number) => fc.constant(JSON.stringify({ name: 'x'.repeat(bytes) }));

/** Every operator choreo serves, those it refuses (range ones) and modifiers, valid and not. */
export const POSTGREST_OPERATORS = [
  ...FILTER_OPERATORS,
  'sl',
  'ov',
  'like(any)',
  'eq(all)',
  'fts(english)',
  'fts(nope)',
];

/** A query parameter as PostgREST clients write them, over `fields`, and hostile ones. */
export function postgrestFilter(fields: string[]): fc.Arbitrary<[string, string]> {
  return fc.tuple(
    fc.oneof(
      fc.constantFrom(
        ...fields,
        'or',
        'and',
        'not.or',
        'select',
        'order',
        'limit',
        'offset',
        'cursor',
        'columns',
        'on_conflict',
      ),
      hostileText,
    ),
    fc.oneof(
      fc
        .tuple(fc.boolean(), fc.constantFrom(...POSTGREST_OPERATORS), hostileOperand)
        .map(([not, op, v]) => `${not ? 'not.' : ''}${op}.${v}`),
      fc
        .tuple(fc.constantFrom(...fields), fc.constantFrom(...POSTGREST_OPERATORS), hostileOperand)
        .map(([f, op, v]) => `(${f}.${op}.${v})`),
      hostileOperand,
    ),
  );
}

/** One generated request: where, how, with what. */
export interface FuzzRequest {
  method: string;
  target: string;
  filters: [string, string][];
  body: string | undefined;
  token: boolean;
  /** Upload the body chunked (no Content-Length), as streaming clients do. */
  chunked: boolean;
  contentType: string | undefined;
  headers: Record<string, string>;
}

/** Optional request headers PostgREST clients send (Prefer, Accept, Range), hostile values included. */
export const postgrestHeaders: fc.Arbitrary<Record<string, string>> = fc
  .record({
    prefer: fc.subarray([
      'return=representation',
      'return=minimal',
      'count=exact',
      'count=planned',
      'resolution=merge-duplicates',
      'handling=strict',
      'max-affected=0',
      'missing=default',
      'bogus',
    ]),
    accept: fc.option(
      fc.constantFrom(
        'application/vnd.pgrst.object+json',
        'text/csv',
        '*/*',
        'application/json;nulls=stripped',
      ),
    ),
    range: fc.option(fc.constantFrom('0-1', '5-', '3-1', 'x', '999999999-')),
  })
  .map(({ prefer, accept, range }) => ({
    ...(prefer.length > 0 && { prefer: prefer.join(', ') }),
    ...(accept !== null && { accept }),
    ...(range !== null && { range }),
  }));

/**
 * Requests over `targets` with `filters` and `bodies`; `headers` adds generated headers. `methods` and
 * `contentTypes` (default fuzzMethod, fuzzContentType) can lean towards what the routes serve, so
 * that enough requests get past the refusals to the handlers.
 */
export function fuzzRequest(parts: {
  targets: fc.Arbitrary<string>;
  filters: fc.Arbitrary<[string, string]>;
  bodies: fc.Arbitrary<string | undefined>;
  headers?: fc.Arbitrary<Record<string, string>>;
  methods?: fc.Arbitrary<string>;
  contentTypes?: fc.Arbitrary<string | undefined>;
}): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    method: parts.methods ?? fuzzMethod,
    target: parts.targets,
    filters: fc.array(parts.filters, { maxLength: 4 }),
    body: parts.bodies,
    token: fc.boolean(),
    chunked: fc.boolean(),
    contentType: parts.contentTypes ?? fuzzContentType,
    headers: parts.headers ?? fc.constant({}),
  });
}

export interface FuzzRoutesOptions {
  port: number;
  requests: fc.Arbitrary<FuzzRequest>;
  /** Sent as `Authorization: Bearer …` when a request asks for one. */
  token?: string;
  /** What a refused request must leave unchanged (rows, outbox, keys…), compared deeply. */
  snapshot: () => Promise<unknown>;
  numRuns: number;
}

/**
 * The property: every generated request is answered (no reset, no hang-up) with a status in 200..499,
 * and a refused one (4xx) leaves `snapshot()` as it was. Throws fast-check's shrunk counterexample;
 * else resolves with how many answers each status got (for a spec to check it reached its routes).
 */
export async function fuzzRoutes(options: FuzzRoutesOptions): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(options.requests, async (r) => {
      const query = new URLSearchParams(r.filters).toString();
      const url = `${r.target}${query ? `?${query}` : ''}`;
      const headers: Record<string, string> = { ...r.headers };
      if (r.token && options.token) headers.authorization = `Bearer ${options.token}`;
      if (r.contentType && r.body !== undefined) headers['content-type'] = r.contentType;
      if (r.chunked && r.body !== undefined) headers['transfer-encoding'] = 'chunked';
      const before = await options.snapshot();
      const answer = await send(options.port, r.method, url, headers, r.body);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status < 200 || answer.status >= 500)
        throw new Error(`${r.method} ${url} answered ${answer.status}`);
      if (answer.status >= 400)
        deepStrictEqual(await options.snapshot(), before, `${r.method} ${url} (${answer.status}) wrote`);
    }),
    { numRuns: options.numRuns },
  );
  return statuses;
}

/** Each table's row count and an md5 of its rows in a stable order: equal digests, equal contents. */
export async function tableDigests(
  sql: { query(text: string): Promise<{ rows: unknown[] }> },
  tables: string[],
): Promise<Record<string, unknown>> {
  const digests: Record<string, unknown> = {};
  for (const table of tables)
    digests[table] = (
      await sql.query(
        `select count(*) as n, md5(coalesce(string_agg(t::text, ',' order by t::text), '')) as digest from ${table} t`,
      )
    ).rows[0];
  return digests;
}
