import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export interface TestJwtOptions {
  expired?: boolean;
  issuer?: string;
  audience?: string;
  /** Sign with a key the JWKS does not hold (same `kid`): its signature does not verify. */
  foreignKey?: boolean;
}

/** An OIDC provider's JWKS served by the spec itself, and a signer of the JWTs it vouches for. */
export interface TestJwks {
  /** The JWKS URL (`…/jwks.json`) to configure as `jwksUrl`. */
  url: string;
  issuer: string;
  audience: string;
  /** A JWT with `sub: user-1` (unless `claims` say otherwise), this issuer and audience, valid 10 min. */
  sign(claims: Record<string, unknown>, options?: TestJwtOptions): Promise<string>;
  close(): Promise<void>;
}

/** Serves an RS256 JWKS on a free local port (`kid: k1`); close it when the spec ends. */
export async function startTestJwks(
  issuer = 'https://issuer.test',
  audience = 'choreo-api',
): Promise<TestJwks> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const now = () => Math.floor(Date.now() / 1000);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    issuer,
    audience,
    sign: (claims, options = {}) =>
      new SignJWT({ sub: 'user-1', ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(options.issuer ?? issuer)
        .setAudience(options.audience ?? audience)
        .setIssuedAt(options.expired ? now() - 7200 : undefined)
        .setExpirationTime(options.expired ? now() - 3600 : '10m')
        .sign(options.foreignKey ? foreign.privateKey : privateKey),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
