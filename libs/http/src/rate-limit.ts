import { hash } from 'node:crypto';
import type rateLimitPlugin from '@fastify/rate-limit';
import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { createRedis } from '@choreo/redis';
import { ApiError } from './api-error';

/** At most `max` requests per `windowMs` for each caller, in one group of routes. */
export interface RateLimitRule {
  max: number;
  windowMs: number;
}

/** Limits per route group (reads: GET/HEAD/OPTIONS, writes: the rest); a group without a rule is not limited. */
export interface RateLimitOptions {
  reads?: RateLimitRule;
  writes?: RateLimitRule;
  /** The store shared by every replica (a client, or a URL to connect to); without it each replica counts alone. */
  redis?: Redis;
  redisUrl?: string;
}

/** The app's limits (`rateLimitConfig`); absent or without a rule, nothing is limited. */
export const RATE_LIMIT_OPTIONS = Symbol('RATE_LIMIT_OPTIONS');

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Probes, scrapes and the API description are never limited. */
const EXEMPT = /^\/(livez|readyz|metrics|docs|openapi\.json)\b/;

function groupOf(request: FastifyRequest): 'reads' | 'writes' {
  return READS.has(request.method) ? 'reads' : 'writes';
}

/** The caller: its bearer token (digested, never stored) or else its address. */
function callerOf(request: FastifyRequest): string {
  const token = /^Bearer\s+(\S+)/i.exec(request.headers.authorization ?? '')?.[1];
  return token ? `t:${hash('sha256', token, 'base64url').slice(0, 22)}` : `a:${request.ip}`;
}

/**
 * Rate limiting per token or client address and per route group, counted in Redis when given so
 * every replica shares the count: a 429 with `Retry-After` and the `RateLimit-Limit`,
 * `RateLimit-Remaining`, `RateLimit-Reset` headers (IETF draft), which every limited answer carries.
 * `install` registers @fastify/rate-limit; `RateLimitGuard` applies it to a controller's routes.
 * The plugin is loaded by `install`, so an app without limits (the default) never loads it.
 */
@Injectable()
export class RateLimiter implements OnModuleInit, OnApplicationShutdown {
  private check?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  private ownRedis?: Redis;

  constructor(
    @Optional() @Inject(RATE_LIMIT_OPTIONS) private readonly options?: RateLimitOptions,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  /** Installs the app's limits, when it has any, before the first request. */
  async onModuleInit(): Promise<void> {
    const options = this.options;
    if (!options || (!options.reads && !options.writes) || !this.adapterHost) return;
    let redis = options.redis;
    if (!redis && options.redisUrl) {
      redis = this.ownRedis = createRedis(options.redisUrl, 'probe', { connectionName: 'rate-limit' });
      redis.on('error', () => undefined); // counted as skipped, not crashed (skipOnError below)
      redis.connect().catch(() => undefined);
    }
    await this.install(this.adapterHost.httpAdapter.getInstance(), { ...options, redis });
  }

  onApplicationShutdown(): void {
    this.ownRedis?.disconnect();
  }

  async install(fastify: FastifyInstance, options: RateLimitOptions): Promise<void> {
    const ruleOf = (request: FastifyRequest) => options[groupOf(request)];
    const rateLimit = (require('@fastify/rate-limit') as { default: typeof rateLimitPlugin }).default;
    await fastify.register(rateLimit, {
      global: false,
      enableDraftSpec: true,
      redis: options.redis,
      nameSpace: 'choreo:ratelimit:',
      // A Redis outage must not take the API down with it: requests pass uncounted meanwhile.
      skipOnError: true,
    });
    this.check = fastify.rateLimit({
      allowList: (request) => EXEMPT.test(request.url) || ruleOf(request) === undefined,
      keyGenerator: (request) => `${groupOf(request)}:${callerOf(request)}`,
      max: (request) => ruleOf(request)?.max ?? Number.MAX_SAFE_INTEGER,
      timeWindow: (request) => ruleOf(request)?.windowMs ?? 60_000,
      errorResponseBuilder: (request, context) =>
        new ApiError(
          429,
          'too_many_requests',
          `more than ${context.max} ${groupOf(request)} in ${context.after}: retry after ${Math.ceil(context.ttl / 1000)} s`,
        ),
    }) as (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }

  /** Whether `install` has run: until then nothing is limited. */
  get installed(): boolean {
    return this.check !== undefined;
  }

  /** Counts the request; throws the 429 when over the limit. A no-op until installed. */
  async count(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await this.check?.(request, reply);
  }
}

/** Applies the app's RateLimiter (when it provides one) to each request of a controller. */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(@Optional() private readonly limiter?: RateLimiter) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    // No promise when the app limits nothing: the guard runs on every request.
    if (!this.limiter?.installed) return true;
    const http = context.switchToHttp();
    return this.limiter
      .count(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>())
      .then(() => true);
  }
}

/** `120/1m`, `10/30s`, `1000/1h` → a rule; throws on anything else. */
export function parseRateLimit(text: string): RateLimitRule {
  const match = /^(\d{1,9})\/(\d{0,6})(s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`'${text}' is not a rate such as 120/1m, 10/30s or 1000/1h`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000 }[match[3] as 's' | 'm' | 'h'];
  return { max: Number(match[1]), windowMs: Number(match[2] || '1') * unit };
}
