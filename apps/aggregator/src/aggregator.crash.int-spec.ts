import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CONFIG_REFUSED_EXIT_CODE } from '@choreo/config';
import { Streams } from '@choreo/contracts';
import { StreamPublisher } from '@choreo/streams';
import { waitFor } from '@choreo/testing';
import {
  Backbone,
  ENTITIES_DIR,
  REPO_ROOT,
  Sale,
  aggregatesStream,
  deliveryOrder,
  makeSales,
  oracleWindows,
  random,
  rulesDir,
  saleEvent,
  saleRules,
  startBackbone,
} from './test-fixtures/aggregator-harness';
import { AggregatorProcess, startAggregatorProcess } from './test-fixtures/aggregator-process';

const RULES = ['sale_tumbling', 'sale_hopping', 'sale_session'] as const;

/** What the aggregator holds per rule, in the oracle's shape. */
async function servedWindows(backbone: Backbone): Promise<Record<string, unknown[]>> {
  const { rows } = await backbone.sql.query<{
    rule: string;
    key: string;
    start_ms: string;
    end_ms: string;
    values: Record<string, unknown>;
  }>(
    "select rule, key, start_ms, end_ms, values from aggregate_window where rule like 'sale_%' and events > 0 order by start_ms, key",
  );
  const served: Record<string, unknown[]> = Object.fromEntries(RULES.map((r) => [r, []]));
  for (const row of rows) {
    served[row.rule].push({
      key: JSON.parse(row.key),
      start: Number(row.start_ms),
      end: Number(row.end_ms),
      values: { ...row.values, mean: Number((row.values['mean'] as number).toFixed(9)) },
    });
  }
  return served;
}

const byStart = (a: { start: number; key: unknown }, b: { start: number; key: unknown }) =>
  a.start - b.start || String(a.key).localeCompare(String(b.key));

async function sortedOracle(
  backbone: Backbone,
  table: string,
  sales: readonly Sale[],
): Promise<Record<string, unknown[]>> {
  const oracle = await oracleWindows(backbone.sql, table, sales);
  return Object.fromEntries(
    Object.entries(oracle).map(([rule, windows]) => [
      rule,
      (windows as { start: number; key: unknown }[]).sort(byStart),
    ]),
  );
}

/** Each window version appears on `aggregates` once; returns how many there are. */
async function expectEachVersionOnce(backbone: Backbone): Promise<number> {
  const { rows } = await backbone.sql.query<{ n: number }>(
    "select count(*)::int as n from aggregate_window where rule like 'sale_%' and final",
  );
  await waitFor(
    'the relay carried every closed window',
    async () => {
      const closed = (await aggregatesStream(backbone.redis)).filter((e) => e.type === 'aggregate.closed');
      return closed.length === rows[0].n;
    },
    30_000,
  );
  const versions = (await aggregatesStream(backbone.redis)).map((e) => `${e.subject}#${e.sequence}`);
  expect(versions.length).toBeGreaterThan(0);
  expect(new Set(versions).size).toBe(versions.length);
  return versions.length;
}

// Real processes: the aggregator app itself (main.ts), SIGKILLed mid-batch and started again, and two
// replicas in one consumer group. A long allowed lateness keeps the sales a restart delays on time.
describe('aggregator processes: SIGKILL and replicas (real PostgreSQL, Redis, cdc-relay)', () => {
  const env = (backbone: Backbone, consumer: string): Record<string, string> => ({
    DATABASE_URL: backbone.url,
    REDIS_URL: backbone.redisServer.url,
    AGGREGATIONS_DIR: rulesDir(saleRules('1m')),
    ENTITIES_DIR,
    AGGREGATOR_IDLE_MS: '5000',
    AGGREGATOR_TICK_MS: '200',
    AGGREGATOR_BATCH_MAX: '50',
    AGGREGATOR_CLAIM_TIMEOUT_MS: '1000',
    AGGREGATOR_CONSUMER: consumer,
  });
  const sales = (seed: number) => {
    const next = random(seed);
    const input = makeSales(next, 600, Math.floor((Date.now() - 180_000) / 1000) * 1000, 30_000);
    return { input, order: deliveryOrder(next, input, 2_000, 0.1) };
  };
  const publish = (backbone: Backbone, order: readonly Sale[]) =>
    new StreamPublisher(backbone.redis).publishBatch(
      order.map((s) => ({ stream: Streams.entityEvents('sale'), event: saleEvent(s) })),
    );
  const claimed = async (backbone: Backbone) =>
    (
      await backbone.sql.query<{ n: number }>(
        "select count(*)::int as n from inbox where consumer = 'aggregator'",
      )
    ).rows[0].n;
  const allClosed = async (backbone: Backbone, expected: number) => {
    await waitFor(
      'every sale applied and every window closed',
      async () => {
        const open = await backbone.sql.query<{ n: number }>(
          'select count(*)::int as n from aggregate_window where not final and end_ms is not null',
        );
        return (await claimed(backbone)) === expected && open.rows[0].n === 0;
      },
      90_000,
    );
  };

  describe('SIGKILL', () => {
    let backbone: Backbone;
    let sut: AggregatorProcess | undefined;
    beforeAll(async () => {
      backbone = await startBackbone('aggregator_crash');
    });
    afterAll(async () => {
      await sut?.stop();
      await backbone?.stop();
    });

    it('killed mid-batch 3 times and restarted: results equal the oracle, each version published once', async () => {
      const { input, order } = sales(7);
      const chunks = 5;
      const size = Math.ceil(order.length / chunks);
      let killedWithWorkInFlight = 0;
      sut = await startAggregatorProcess(env(backbone, 'aggregator-crash'));
      for (let i = 0; i < chunks; i += 1) {
        await publish(backbone, order.slice(i * size, (i + 1) * size));
        if (i >= 3) continue;
        await sleep(30 + i * 40);
        await sut.kill();
        // Sales published but not yet applied when the process died: the kill hit work in flight.
        if ((await claimed(backbone)) < new Set(order.slice(0, (i + 1) * size).map((s) => s.id)).size)
          killedWithWorkInFlight += 1;
        sut = await startAggregatorProcess(env(backbone, 'aggregator-crash'));
      }
      await allClosed(backbone, input.length);
      expect(killedWithWorkInFlight).toBeGreaterThan(0);
      expect(await servedWindows(backbone)).toEqual(await sortedOracle(backbone, 'crash_oracle', input));
      const late = await backbone.sql.query('select 1 from aggregate_late');
      expect(late.rowCount).toBe(0);
      await expectEachVersionOnce(backbone);
    });
  });

  describe('replicas', () => {
    let backbone: Backbone;
    const replicas: AggregatorProcess[] = [];
    beforeAll(async () => {
      backbone = await startBackbone('aggregator_replicas');
    });
    afterAll(async () => {
      await Promise.all(replicas.map((r) => r.stop()));
      await backbone?.stop();
    });

    it('two replicas in one consumer group give the results of one (the oracle), each version once', async () => {
      replicas.push(
        ...(await Promise.all(
          ['aggregator-a', 'aggregator-b'].map((c) => startAggregatorProcess(env(backbone, c))),
        )),
      );
      const { input, order } = sales(11);
      for (let i = 0; i < order.length; i += 50) {
        await publish(backbone, order.slice(i, i + 50));
        await sleep(20);
      }
      await allClosed(backbone, input.length);
      // Both replicas did part of the work.
      const consumers = (await backbone.redis.xinfo(
        'CONSUMERS',
        Streams.entityEvents('sale'),
        'aggregator',
      )) as unknown[][];
      expect(consumers.map((c) => c[1]).sort()).toEqual(['aggregator-a', 'aggregator-b']);
      expect(await servedWindows(backbone)).toEqual(await sortedOracle(backbone, 'replica_oracle', input));
      await expectEachVersionOnce(backbone);
    });
  });

  it('a malformed rule file stops the start with a message naming the file and path', async () => {
    const dir = rulesDir(saleRules('3s').replace('size: 2s', 'size: two seconds'));
    writeFileSync(
      path.join(dir, 'broken.yaml'),
      'rules:\n  - name: broken\n    window: { type: tumbling, size: 1m }\n    measures: {}\n',
    );
    const failure = await promisify(execFile)(
      process.execPath,
      ['-r', '@swc-node/register', 'apps/aggregator/src/main.ts'],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
          REDIS_URL: 'redis://127.0.0.1:1',
          AGGREGATIONS_DIR: dir,
          PORT: '0',
        },
        timeout: 60_000,
      },
    ).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(CONFIG_REFUSED_EXIT_CODE);
    expect(failure?.stderr).toMatch(/broken\.yaml: rules\[0\]\.measures: needs at least one measure/);
    expect(failure?.stderr).toMatch(/sales\.yaml: rules\[0\]\.window\.size: must be a duration like 500ms/);
  });
});
