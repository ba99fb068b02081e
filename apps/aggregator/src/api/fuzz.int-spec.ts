import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import {
  deepJson,
  fuzzMethod,
  fuzzRequest,
  fuzzRoutes,
  hostileOperand,
  hostileSegment,
  hostileText,
  hugeJson,
  tableDigests,
  useSpecServers,
} from '@choreo/testing';
import { startAggregatorHttp } from '../test-fixtures/aggregator-harness';

const BODY_LIMIT = 16384;
const TABLES = ['aggregate_window', 'aggregate_row', 'aggregate_span', 'aggregate_source', 'aggregate_late'];

// The aggregator's REST routes (the repository's own rules), driven by generated requests: none may
// answer a 5xx or drop the connection, and a refusal may write nothing (the routes only read).
describe('aggregator fuzz: no 5xx, no dropped connection, nothing written', () => {
  const servers = useSpecServers({ postgres: true, database: 'aggregator_fuzz' });
  let port: number;
  let rules: string[];

  beforeAll(async () => {
    // No closer tick during the run: the routes only read, so any change would be the closer's.
    const app = await startAggregatorHttp(servers.databaseUrl, BODY_LIMIT);
    servers.atStop(() => app.close());
    port = (app.getHttpServer().address() as AddressInfo).port;
    const listed = (await (await fetch(`http://127.0.0.1:${port}/aggregates`)).json()) as unknown;
    rules = (Array.isArray(listed) ? listed : (listed as { rules: unknown[] }).rules).map(
      (rule) => (rule as { name: string }).name,
    );
  });

  it('answers every generated request below 500, and refusals write nothing', async () => {
    const sql = servers.pool({ max: 1 });
    const rule = fc.oneof(fc.constantFrom(...rules), hostileSegment);
    const targets = fc.oneof(
      { arbitrary: rule.map((r) => `/aggregates/${r}`), weight: 3 },
      rule.map((r) => `/aggregates/${r}/late`),
      fc.tuple(rule, hostileSegment).map(([r, s]) => `/aggregates/${r}/${s}`),
      fc.constantFrom('/aggregates', '/aggregates/', '/openapi.json', '/livez', '/readyz', '/metrics'),
    );
    const instant = fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom('2026-12-05T00:00:00+01:00', '2026-13-45T99:00:00Z', '0000-01-01T00:00:00Z'),
      hostileOperand,
    );
    const filters = fc.oneof(
      fc.tuple(
        fc.constant('key'),
        fc.oneof(
          hostileOperand,
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
        ),
      ),
      fc.tuple(fc.constantFrom('from', 'to'), instant),
      fc.tuple(fc.constant('final'), fc.oneof(fc.constantFrom('true', 'false'), hostileText)),
      fc.tuple(fc.constant('limit'), fc.oneof(fc.integer().map(String), hostileOperand)),
      fc.tuple(hostileText, hostileOperand),
    );
    const statuses = await fuzzRoutes({
      port,
      requests: fuzzRequest({
        targets,
        filters,
        bodies: fc.oneof(fc.constant(undefined), deepJson, hugeJson(BODY_LIMIT * 2), hostileText),
        methods: fc.oneof({ arbitrary: fc.constant('GET'), weight: 3 }, fuzzMethod),
      }),
      snapshot: () => tableDigests(sql, TABLES),
      numRuns: 300,
    });
    // The fuzz reached the handlers: some reads answered, many refused.
    expect([statuses.get(200) ?? 0, statuses.get(400) ?? 0].map((n) => n > 0)).toEqual([true, true]);
  }, 120_000);
});
