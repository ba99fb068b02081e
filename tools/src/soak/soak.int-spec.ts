import { useSpecServers } from '@choreo/testing';
import { LiveStack, startLiveStack } from '../e2e/live-stack';
import { formatSoakReport, runSoak, SOAK_STACK_ENV } from './soak';

// `npm run soak`, CI-sized: two minutes of orders and faults against the whole system (every app as
// `npm start` runs it, its own Redis with AOF and PostgreSQL), then every check the soak prints.

const RUN_MS = 120_000;
const CHAOS_EVERY_MS = 10_000;
const DRAIN_MS = 90_000;

const servers = useSpecServers({ redis: true, postgres: true, database: 'choreo' });
let stack: LiveStack;

beforeAll(async () => {
  stack = await startLiveStack({
    redisUrl: servers.redis.url,
    databaseUrl: servers.databaseUrl,
    env: { ...SOAK_STACK_ENV, SIM_SPEED: '10' },
  });
  servers.atStop(() => stack.stop());
}, 240_000);

describe('the soak (CI-sized)', () => {
  it(
    'keeps every promise while apps, Redis and PostgreSQL die around it and clients drop',
    async () => {
      const report = await runSoak({
        stack,
        redis: servers.redis,
        postgres: servers.postgres,
        pool: servers.pool(),
        redisClient: servers.newRedisClient({ maxRetriesPerRequest: null }),
        durationMs: RUN_MS,
        rate: 3,
        clients: 10,
        chaosEveryMs: CHAOS_EVERY_MS,
        drainTimeoutMs: DRAIN_MS,
      });
      console.log(formatSoakReport(report));

      // What it did: the chaos really happened.
      expect(report.placed).toBeGreaterThanOrEqual((RUN_MS / 1000) * 3 * 0.9);
      const kinds = report.faults.map((f) =>
        f.startsWith('postgresql') ? 'postgresql' : f.replace(/^\S+ SIGKILL$/, 'app SIGKILL'),
      );
      expect(kinds).toEqual(expect.arrayContaining(['app SIGKILL', 'redis SIGKILL + restart', 'postgresql']));
      // Restarting a server takes a few seconds of the run: at least half the faults it asks for.
      expect(report.faults.length).toBeGreaterThanOrEqual(RUN_MS / CHAOS_EVERY_MS / 2);
      expect(report.drops).toBeGreaterThan(10);

      // What it found: every verdict of the table, each shown with its figures when it fails.
      const verdicts = Object.fromEntries(
        report.rows
          .filter(([, , ok]) => ok !== undefined)
          .map(([what, figures, ok]) => [what, ok ? 'ok' : `FAIL: ${figures}`]),
      );
      expect(verdicts).toEqual(Object.fromEntries(Object.keys(verdicts).map((what) => [what, 'ok'])));
      expect(Object.keys(verdicts)).toEqual(
        expect.arrayContaining([
          'delivered / cancelled',
          'timelines complete',
          'timelines in order',
          'duplicate steps delivered',
          'orders per minute = count(*)',
          'revenue = sum(total)',
          'deliveries = count(delivered)',
          'products per category = group by',
          'stream entries pending',
          'dead letters (poison injected)',
        ]),
      );
      expect(report.failures).toEqual([]);
      expect(report.timelines).toMatchObject({ duplicates: 0, incomplete: 0 });
      expect(report.ok).toBe(true);
    },
    RUN_MS + 5 * DRAIN_MS + 120_000,
  );
});
