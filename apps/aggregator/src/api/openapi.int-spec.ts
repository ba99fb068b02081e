import { ContractCase, lintOpenApi, probeContract, useSpecServers, servedOpenApi } from '@choreo/testing';
import { startAggregatorHttp } from '../test-fixtures/aggregator-harness';

type Operation = { summary?: string; security?: unknown[]; responses: Record<string, unknown> };

// The aggregator's OpenAPI document, linted by Redocly's recommended rules, and checked against what
// the routes really answer: every status a request provokes must be documented for its operation, and
// every documented status must be provoked by some request here.
describe('aggregator OpenAPI: lint-clean, every answer documented, every documented status provoked', () => {
  const servers = useSpecServers({ postgres: true, database: 'aggregator_openapi' });
  let base: string;
  let document: { servers?: unknown[]; paths: Record<string, Record<string, Operation>> };

  beforeAll(async () => {
    const app = await startAggregatorHttp(servers.databaseUrl, 16384);
    servers.atStop(() => app.close());
    ({ base, document } = await servedOpenApi<typeof document>(app));
  });

  it('passes the Redocly linter with no error or warning', () => {
    expect(lintOpenApi(document)).toEqual([]);
  });

  it('gives every operation a summary, and the public reads security: []', () => {
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
    for (const [route, operations] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(operations)) {
        expect([route, method, typeof operation.summary]).toEqual([route, method, 'string']);
        expect([route, method, operation.security]).toEqual([route, method, []]);
      }
  });

  it('documents every status the routes answer, and each documented status is provoked', async () => {
    const get: RequestInit = { method: 'GET' };
    const cases: ContractCase[] = [['/aggregates', 'get', get]];
    for (const route of ['/aggregates/{rule}', '/aggregates/{rule}/late'])
      cases.push([route, 'get', get], [`${route}?limit=0`, 'get', get], [`${route}?colour=red`, 'get', get]);
    const known = await probeContract(base, document, cases, ['orders_per_minute']);
    const unknown = await probeContract(base, document, cases.slice(1), ['no_such_rule']);
    expect([...known.undocumented, ...unknown.undocumented]).toEqual([]);
    const seen = new Set([...known.seen, ...unknown.seen]);
    const documented = Object.entries(document.paths).flatMap(([route, operations]) =>
      Object.entries(operations).flatMap(([method, operation]) =>
        Object.keys(operation.responses).map((status) => `${method} ${route} ${status}`),
      ),
    );
    // 429 is every operation's platform answer once a rate limit is configured; the aggregator's
    // routes have none here to provoke it.
    expect(documented.filter((entry) => !seen.has(entry) && !entry.endsWith(' 429'))).toEqual([]);
  });
});
