import type * as Jose from 'jose';

let loaded: typeof Jose | undefined;

/**
 * jose, loaded on its first use rather than with this lib: its 84 modules hold about 0.6 MB of heap
 * (and more RSS) in every app, and an app verifies or signs a JWT only when JWT auth is configured
 * (JWT_JWKS_URL) or when it handles a tracking token (events places an order, notifications
 * subscribes a client). `npm run bench:footprint` measures an idle app.
 */
export function jose(): typeof Jose {
  return (loaded ??= require('jose') as typeof Jose);
}
