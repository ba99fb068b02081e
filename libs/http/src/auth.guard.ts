import { createHash, timingSafeEqual } from 'node:crypto';
import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** What `authConfig` (libs/config) loads: the accepted bearer tokens, and whether reads need one too. */
export interface AuthOptions {
  tokens: string[];
  protectReads: boolean;
}

export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Writes need `Authorization: Bearer <token>` with a configured token: 401 without one, 403 for
 * a token that is not configured. Reads pass unless `protectReads`.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  private readonly digests: Buffer[];

  constructor(@Inject(AUTH_OPTIONS) private readonly options: AuthOptions) {
    this.digests = options.tokens.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (READS.has(request.method) && !this.options.protectReads) return true;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) {
      void context
        .switchToHttp()
        .getResponse<FastifyReply>()
        .header('WWW-Authenticate', 'Bearer realm="choreo"');
      throw new UnauthorizedException('this call needs Authorization: Bearer <token>');
    }
    // Compare fixed-length digests in constant time: the token list must not leak through timing.
    const presented = digest(match[1]);
    let known = false;
    for (const candidate of this.digests) known = timingSafeEqual(candidate, presented) || known;
    if (!known) throw new ForbiddenException('the bearer token is not accepted');
    return true;
  }
}
