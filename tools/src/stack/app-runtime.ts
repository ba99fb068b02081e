import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * How `npm start` runs an app: `dist` (compiled JavaScript, as the image runs it) or `ts` (the sources
 * under the @swc-node TypeScript loader). The loader costs each app about 80 MB more RSS (the compiler's
 * native module and its caches), so the stack runs dist/ whenever dist/ is as new as the sources.
 */
export type AppRuntime = 'dist' | 'ts';

/**
 * V8 flags of every app process (docker/Dockerfile sets the same in NODE_OPTIONS; image.spec.ts checks
 * that they agree):
 * - `--max-semi-space-size=2`: a 2 MB young generation instead of 16 MB, about 20 MB less RSS per idle
 *   app for more, shorter scavenges;
 * - `--expose-gc`: lets each app compact its heap once it has started (libs/runtime
 *   `compactStartupHeap`), about 10 MB less RSS per idle app on Node 24.
 */
export const APP_NODE_FLAGS = ['--max-semi-space-size=2', '--expose-gc'];

/**
 * Environment every app process gets beside its own settings: glibc's malloc keeps at most two arenas
 * instead of one per thread that ever allocated (V8's compiler and GC threads), about 1.5 MB less RSS
 * per idle app on Node 24 (`npm run bench:footprint`); the usual setting for small containers.
 * docker/Dockerfile sets the same (image.spec.ts checks that they agree).
 */
export const APP_ENV = { MALLOC_ARENA_MAX: '2' } as const;

/** Written by tools/build.mjs before it compiles: dist/ holds the sources as they were at that moment. */
export const BUILD_STAMP = 'dist/.build-started';

/** The arguments of `node` that start the app whose entry point is `main` (a .ts path from the root). */
export function appCommand(main: string, runtime: AppRuntime): string[] {
  return runtime === 'dist'
    ? [...APP_NODE_FLAGS, path.posix.join('dist', main.replace(/\.ts$/, '.js'))]
    : [...APP_NODE_FLAGS, '-r', '@swc-node/register', main];
}

/** The newest modification time (ms) of the TypeScript under `dir`, or 0. */
function newestSource(dir: string): number {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name === 'web') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * `STACK_RUNTIME` when it says `dist` or `ts`; otherwise `dist` when a build started after the last
 * change to any TypeScript of apps/ and libs/ (and the tsconfig files), else `ts`, with the reason.
 */
export function chooseAppRuntime(
  root: string,
  requested: string | undefined,
): { runtime: AppRuntime; reason: string } {
  if (requested === 'dist' || requested === 'ts') return { runtime: requested, reason: 'STACK_RUNTIME' };
  let built: number;
  try {
    built = statSync(path.join(root, BUILD_STAMP)).mtimeMs;
  } catch {
    return { runtime: 'ts', reason: 'no dist/ yet (npm run build makes one)' };
  }
  const configs = ['tsconfig.base.json', 'tsconfig.build.json'].map((f) => {
    try {
      return statSync(path.join(root, f)).mtimeMs;
    } catch {
      return 0;
    }
  });
  const newest = Math.max(
    newestSource(path.join(root, 'apps')),
    newestSource(path.join(root, 'libs')),
    ...configs,
  );
  return newest < built
    ? { runtime: 'dist', reason: 'dist/ is as new as the sources' }
    : { runtime: 'ts', reason: 'sources changed since the last npm run build' };
}
