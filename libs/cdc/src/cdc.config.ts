import { z } from 'zod';
import { configSlice, publicationConfig, sqlIdentifier } from '@choreo/config';

const millis = (fallback: number) => z.coerce.number().int().min(100).max(3_600_000).default(fallback);

/** The relay's settings (see docs/cdc.md § Configuration). */
export const cdcConfig = configSlice(
  () => ({
    ...publicationConfig.shape,
    CDC_SLOT: sqlIdentifier
      .default('choreo_relay')
      .describe('logical replication slot name, created when missing'),
    CDC_TABLES: z
      .string()
      .regex(/^\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*$/, 'must be a comma-separated list of tables')
      .optional()
      .describe(
        'tables to publish (name or schema.name, comma-separated); unset = every REPLICA IDENTITY FULL table of public',
      ),
    CDC_HEARTBEAT_MS: millis(10_000).describe('heartbeat interval in ms'),
    CDC_STATUS_INTERVAL_MS: millis(1_000).describe('how often the confirmed LSN is reported, in ms'),
    CDC_CHUNK_EVENTS: z.coerce
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(1_000)
      .describe('events per append, 1..10000'),
    CDC_MAX_QUEUED_FRAMES: z.coerce
      .number()
      .int()
      .min(10)
      .max(1_000_000)
      .default(5_000)
      .describe('WAL messages buffered before reading pauses'),
    CDC_TABLES_REFRESH_MS: millis(10_000).describe('how often new tables are added in auto mode, in ms'),
  }),
  (env) => ({
    publication: env.CDC_PUBLICATION,
    slot: env.CDC_SLOT,
    tables: env.CDC_TABLES
      ? env.CDC_TABLES.split(',')
          .map((t) => t.trim())
          .filter(Boolean)
      : ('auto' as const),
    heartbeatIntervalMs: env.CDC_HEARTBEAT_MS,
    statusIntervalMs: env.CDC_STATUS_INTERVAL_MS,
    chunkEvents: env.CDC_CHUNK_EVENTS,
    maxQueuedFrames: env.CDC_MAX_QUEUED_FRAMES,
    tableRefreshMs: env.CDC_TABLES_REFRESH_MS,
  }),
);

export type CdcConfig = ReturnType<typeof cdcConfig.build>;
