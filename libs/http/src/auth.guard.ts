import { hash, timingSafeEqual } from 'node:crypto';
import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JwtOptions, JwtVerifier, TokenRefused } from './jwt';

/**
 * What `authConfig` (libs/config) loads: the accepted bearer tokens, and whether reads need one too;
 * with `jwt`, JWTs of an OIDC provider are accepted too (`jwtConfig`).
 */
export interface AuthOptions {
  tokens: string[];
  protectReads: boolean;
  jwt?: JwtOptions;
}

export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

// One-shot hashing: no Hash object per request (the guard runs on every write).
function digest(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}

/**
 * Writes need `Authorization: Bearer <token>`: a configured static token, or (with `jwt`) a JWT
 * that verifies against the JWKS with the right issuer and audience and whose role may write the
 * route's `:entity`. 401 without a token or for a refused JWT (saying why), 403 for a token that is
 * not configured or a role that may not write. Reads pass unless `protectReads`.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  private readonly digests: Buffer[];
  private readonly jwt?: JwtVerifier;

  constructor(@Inject(AUTH_OPTIONS) private readonly options: AuthOptions) {
    this.digests = options.tokens.map(digest);
    this.jwt = options.jwt && new JwtVerifier(options.jwt);
  }

  // Synchronous for static tokens and public reads: only a JWT needs a promise (its JWKS).
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
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
    if (known) return true;
    if (this.jwt && match[1].split('.').length === 3) return this.verifyJwt(this.jwt, match[1], context);
    throw new ForbiddenException('the bearer token is not accepted');
  }

  /** A JWT: verified against the JWKS; a write also needs a role that may write the route's entity. */
  private async verifyJwt(jwt: JwtVerifier, token: string, context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    let claims;
    try {
      claims = await jwt.verify(token);
    } catch (error) {
      if (error instanceof TokenRefused)
        void context
          .switchToHttp()
          .getResponse<FastifyReply>()
          .header(
            'WWW-Authenticate',
            `Bearer realm="choreo", error="invalid_token", error_description="${error.description}"`,
          );
      throw error;
    }
    if (READS.has(request.method)) return true;
    const entity = (request.params as Record<string, string> | undefined)?.entity;
    const refusal = jwt.writeRefusal(claims, entity);
    if (refusal) throw new ForbiddenException(refusal);
    return true;
  }
}
