import type { Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AUTH_OPTIONS, AuthOptions, BearerAuthGuard } from './auth.guard';
import { HttpErrorFilter } from './error.filter';
import { RATE_LIMIT_OPTIONS, RateLimitGuard, RateLimitOptions, RateLimiter } from './rate-limit';

/** What an app's REST edge is configured with: `authConfig` (+ `jwtConfig`), `rateLimitConfig`. */
export interface EdgeOptions {
  auth: AuthOptions;
  rateLimit?: RateLimitOptions;
}

/**
 * The providers of an app's REST edge, the same in every app: bearer tokens and JWTs
 * (BearerAuthGuard), rate limits per route group counted in Redis (RateLimitGuard, installed at
 * module init), and errors answered by one filter. Controllers put the guards on their routes.
 */
export function edgeProviders(options: EdgeOptions): Provider[] {
  return [
    { provide: AUTH_OPTIONS, useValue: options.auth },
    { provide: RATE_LIMIT_OPTIONS, useValue: options.rateLimit ?? {} },
    { provide: APP_FILTER, useClass: HttpErrorFilter },
    BearerAuthGuard,
    RateLimiter,
    RateLimitGuard,
  ];
}
