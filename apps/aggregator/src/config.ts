import { APP_PORTS } from '@choreo/contracts';
import path from 'node:path';
import { z } from 'zod';
import { configSlice, databaseConfig, httpConfig, logConfig, redisConfig } from '@choreo/config';
import type { LoadedConfig } from '@choreo/config';
import { entitiesConfig } from '@choreo/entities';

/** The aggregator's own settings: where its rules are, and how time moves on idle sources. */
export const aggregationConfig = configSlice(
  () => ({
    AGGREGATIONS_DIR: z
      .string()
      .min(1)
      .default('aggregations')
      .describe('a directory of rule files (*.yaml); entity files add their aggregations:'),
    AGGREGATOR_IDLE_MS: z.coerce
      .number()
      .int()
      .min(0)
      .default(5_000)
      .describe('milliseconds without events after which a source watermark follows the clock (0: never)'),
    AGGREGATOR_TICK_MS: z.coerce
      .number()
      .int()
      .min(10)
      .default(1_000)
      .describe('how often idle watermarks advance and due windows close, in milliseconds'),
    AGGREGATOR_BATCH_MAX: z.coerce
      .number()
      .int()
      .min(1)
      .max(5_000)
      .default(200)
      .describe('events applied in one transaction at most (also the stream handlers running at once)'),
    AGGREGATOR_CLAIM_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(100)
      .default(30_000)
      .describe("milliseconds after which a crashed consumer's pending entries are taken over"),
    AGGREGATOR_CONSUMER: z
      .string()
      .regex(/^[\w.:-]{1,200}$/, 'must be 1..200 letters, digits, _ . : or -')
      .optional()
      .describe('a stable consumer name, e.g. the pod name (aggregator-<hostname> by default)'),
  }),
  (env) => ({
    dir: path.resolve(env.AGGREGATIONS_DIR),
    consumer: env.AGGREGATOR_CONSUMER,
    claimTimeoutMs: env.AGGREGATOR_CLAIM_TIMEOUT_MS,
    idleMs: env.AGGREGATOR_IDLE_MS,
    tickMs: env.AGGREGATOR_TICK_MS,
    batchMax: env.AGGREGATOR_BATCH_MAX,
  }),
);

/** Every environment variable the aggregator app reads, validated at start-up. */
export const aggregatorConfig = {
  http: httpConfig(APP_PORTS.aggregator),
  log: logConfig,
  database: databaseConfig,
  redis: redisConfig,
  entities: entitiesConfig,
  aggregation: aggregationConfig,
};

export type AggregatorConfig = LoadedConfig<typeof aggregatorConfig>;
export type AggregationSettings = AggregatorConfig['aggregation'];
