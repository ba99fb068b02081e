import { z } from 'zod';
import { ConfigError, configSlice } from './config-slice';

/** A URL with one of the given schemes, e.g. `redis://` or `postgres://`. */
export function urlWithScheme(...schemes: string[]) {
  return z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
  );
}

const port = z.coerce.number().int().min(0).max(65535);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const redisConfig = configSlice(
  () => ({ REDIS_URL: urlWithScheme('redis', 'rediss').describe('redis://[user:password@]host:port[/db]') }),
  (env) => ({ url: env.REDIS_URL }),
);

export const databaseConfig = configSlice(
  () => ({
    DATABASE_URL: urlWithScheme('postgres', 'postgresql').describe(
      'postgres://user:password@host:port/database',
    ),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10).describe('an integer 1..500'),
  }),
  (env) => ({ url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX }),
);

const UNIT_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** `100kb`, `1mb`, `512b` (already checked by the slice's pattern) in bytes. */
function bytesOf(size: string): number {
  const [, amount, unit] = /^(\d+)(b|kb|mb)$/i.exec(size) ?? [];
  return Number(amount) * UNIT_BYTES[unit.toLowerCase()];
}

/** HTTP listener; each app passes its own default port (crud 3001 … simulator 3006). */
export function httpConfig(defaultPort: number) {
  return configSlice(
    () => ({
      PORT: port.default(defaultPort).describe('a TCP port 0..65535'),
      HOST: z.string().min(1).default('0.0.0.0').describe('an interface address to bind'),
      BODY_LIMIT: z
        .string()
        .regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb or 1mb')
        .default('1mb')
        .describe('a size such as 100kb or 1mb'),
      CORS_ORIGINS: z.string().optional().describe('comma-separated origins, or * for any'),
    }),
    (env) => ({
      port: env.PORT,
      host: env.HOST,
      bodyLimitBytes: bytesOf(env.BODY_LIMIT),
      corsOrigins: env.CORS_ORIGINS
        ? env.CORS_ORIGINS.split(',')
            .map((o) => o.trim())
            .filter(Boolean)
        : [],
    }),
  );
}

/** The development token `npm start` prints; refused when NODE_ENV=production. */
export const DEV_API_TOKEN = 'choreo-dev-token';

export const authConfig = configSlice(
  () => ({
    API_TOKENS: z
      .string()
      .regex(
        /^[^\s,]{16,}(,[^\s,]{16,})*$/,
        'must be comma-separated tokens of at least 16 characters, no spaces',
      )
      .optional()
      .describe('comma-separated bearer tokens for write calls'),
    AUTH_PROTECT_READS: flag.default(false).describe('true or false'),
    NODE_ENV: z.string().optional(),
  }),
  (env) => {
    if (!env.API_TOKENS && env.NODE_ENV === 'production') {
      throw new ConfigError([{ variable: 'API_TOKENS', problem: 'must be set when NODE_ENV=production' }]);
    }
    return {
      tokens: (env.API_TOKENS ?? DEV_API_TOKEN).split(','),
      protectReads: env.AUTH_PROTECT_READS,
    };
  },
);

export const logConfig = configSlice(
  () => ({
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('fatal|error|warn|info|debug|trace|silent'),
  }),
  (env) => ({ level: env.LOG_LEVEL }),
);

export const otelConfig = configSlice(
  () => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional().describe('an http(s) URL of an OTLP collector'),
    OTEL_SERVICE_NAME: z.string().optional(),
  }),
  (env) => ({ endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: env.OTEL_SERVICE_NAME }),
);

/** A PostgreSQL identifier we create ourselves (publication, slot): lower case, at most 63 bytes. */
export const sqlIdentifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits and _ (at most 63)');

/**
 * The logical-replication publication that CDC reads. Entity tables join it in the transaction that
 * creates them (so no row is ever written before it is published); the cdc-relay owns the rest.
 */
export const publicationConfig = configSlice(
  () => ({
    CDC_PUBLICATION: sqlIdentifier.default('choreo').describe('publication name, created when missing'),
  }),
  (env) => ({ publication: env.CDC_PUBLICATION }),
);
