import { z } from 'zod';
import { ConfigError, configSlice } from '@choreo/config';
import { JwtOptions, parseWriteRoles } from './jwt';
import { RateLimitRule, parseRateLimit } from './rate-limit';

/** JWTs of an OIDC provider, accepted beside API_TOKENS when JWT_JWKS_URL is set. */
export const jwtConfig = configSlice(
  () => ({
    JWT_JWKS_URL: z.url().optional().describe("the provider's JWKS URL; JWTs are accepted when set"),
    JWT_ISSUER: z.string().optional().describe('the iss a JWT must carry (required with JWT_JWKS_URL)'),
    JWT_AUDIENCE: z.string().optional().describe('an aud a JWT must carry (required with JWT_JWKS_URL)'),
    JWT_ROLE_CLAIM: z.string().default('role').describe('the claim with the role, a dotted path'),
    JWT_WRITE_ROLES: z
      .string()
      .optional()
      .describe('who may write: entity=role|role;*=role (absent: any verified token)'),
  }),
  (env): JwtOptions | undefined => {
    if (!env.JWT_JWKS_URL) return undefined;
    const missing = (['JWT_ISSUER', 'JWT_AUDIENCE'] as const).filter((name) => !env[name]);
    if (missing.length > 0)
      throw new ConfigError(
        missing.map((variable) => ({ variable, problem: 'must be set with JWT_JWKS_URL' })),
      );
    return {
      jwksUrl: env.JWT_JWKS_URL,
      issuer: env.JWT_ISSUER as string,
      audience: env.JWT_AUDIENCE as string,
      roleClaim: env.JWT_ROLE_CLAIM,
      writeRoles: parseWriteRoles(env.JWT_WRITE_ROLES ?? ''),
    };
  },
);

const rate = z
  .string()
  .regex(/^\d{1,9}\/\d{0,6}(s|m|h)$/, 'must be a rate such as 120/1m, 10/30s or 1000/1h')
  .optional();

/** Rate limits per token or address, per route group; counted in Redis when RATE_LIMIT_REDIS_URL is set. */
export const rateLimitConfig = configSlice(
  () => ({
    RATE_LIMIT_READS: rate.describe('GET/HEAD/OPTIONS per caller, e.g. 600/1m (absent: unlimited)'),
    RATE_LIMIT_WRITES: rate.describe('POST/PATCH/DELETE per caller, e.g. 120/1m (absent: unlimited)'),
    RATE_LIMIT_REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a URL starting with redis:// or rediss://')
      .optional()
      .describe('the Redis every replica counts in (absent: each replica counts alone)'),
  }),
  (env): { reads?: RateLimitRule; writes?: RateLimitRule; redisUrl?: string } => ({
    reads: env.RATE_LIMIT_READS ? parseRateLimit(env.RATE_LIMIT_READS) : undefined,
    writes: env.RATE_LIMIT_WRITES ? parseRateLimit(env.RATE_LIMIT_WRITES) : undefined,
    redisUrl: env.RATE_LIMIT_REDIS_URL,
  }),
);
