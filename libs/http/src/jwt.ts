import type { createRemoteJWKSet, JWTPayload } from 'jose';
import { ApiError } from './api-error';
import { jose } from './jose';

/** JWTs from an OIDC provider, beside the static tokens: verified against its JWKS. */
export interface JwtOptions {
  /** The provider's JWKS, e.g. https://issuer/.well-known/jwks.json. */
  jwksUrl: string;
  /** The `iss` a token must carry. */
  issuer: string;
  /** An `aud` a token must carry. */
  audience: string;
  /** The claim holding the caller's role (a dotted path: `role`, `app_metadata.role`). */
  roleClaim: string;
  /** Who may write: entity (or `*` for any) → roles. An entity in neither may be written by any verified token. */
  writeRoles: Record<string, string[]>;
}

/** A 401 saying why the token is refused, with the RFC 6750 challenge the client reads. */
export class TokenRefused extends ApiError {
  constructor(readonly description: string) {
    super(401, 'invalid_token', `the bearer token is refused: ${description}`);
  }
}

function why(error: unknown, options: JwtOptions): string {
  const { errors } = jose();
  if (error instanceof errors.JWTExpired) return 'it has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return `its issuer is not ${options.issuer}`;
    if (error.claim === 'aud') return `its audience does not include ${options.audience}`;
    return `its ${error.claim} claim is not valid (${error.reason})`;
  }
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the JWKS matches it';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return 'its algorithm is not accepted';
  return 'it is not a well-formed JWT';
}

/** Verifies JWTs against a JWKS URL (keys cached, refetched for an unknown `kid`). */
export class JwtVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(readonly options: JwtOptions) {
    this.keys = jose().createRemoteJWKSet(new URL(options.jwksUrl));
  }

  /** The token's claims; a TokenRefused naming why otherwise. Throws 503 when the JWKS is unreachable. */
  async verify(token: string): Promise<JWTPayload> {
    const { errors, jwtVerify } = jose();
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
      });
      return payload;
    } catch (error) {
      if (
        error instanceof errors.JWKSTimeout ||
        (error instanceof Error && !(error instanceof errors.JOSEError))
      )
        throw new ApiError(
          503,
          'jwks_unavailable',
          `cannot verify tokens now: the JWKS at ${this.options.jwksUrl} did not answer`,
        );
      throw new TokenRefused(why(error, this.options));
    }
  }

  /** The role a verified token carries, read from `roleClaim`. */
  roleOf(claims: JWTPayload): string | undefined {
    let value: unknown = claims;
    for (const key of this.options.roleClaim.split('.'))
      value =
        typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    return typeof value === 'string' ? value : undefined;
  }

  /** Why `claims` may not write `entity`, or undefined when they may. */
  writeRefusal(claims: JWTPayload, entity: string | undefined): string | undefined {
    const roles =
      (entity !== undefined ? this.options.writeRoles[entity] : undefined) ?? this.options.writeRoles['*'];
    if (!roles) return undefined;
    const role = this.roleOf(claims);
    if (role === undefined)
      return `the token has no ${this.options.roleClaim} claim; writing ${entity ?? 'here'} needs one of: ${roles.join(', ')}`;
    if (!roles.includes(role))
      return `role '${role}' may not write ${entity ?? 'here'}; allowed: ${roles.join(', ')}`;
    return undefined;
  }
}

/** `product=editor|admin;*=writer` → { product: ['editor', 'admin'], '*': ['writer'] }. */
export function parseWriteRoles(text: string): Record<string, string[]> {
  const roles: Record<string, string[]> = {};
  for (const rule of text
    .split(';')
    .map((r) => r.trim())
    .filter(Boolean)) {
    const [entity, list = ''] = rule.split('=', 2);
    roles[entity.trim()] = list
      .split('|')
      .map((r) => r.trim())
      .filter(Boolean);
  }
  return roles;
}
