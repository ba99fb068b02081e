// Compiles every app, lib and tool to dist/ with tsc (which keeps Nest's decorator metadata), then
// makes the @choreo/* path aliases resolvable at run time: dist/node_modules/@choreo/<lib> forwards to
// the compiled lib, and Node finds it by walking up from dist/apps/<app>/src/main.js.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPage, describeBuild } from './build-page.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const started = Date.now();

rmSync(dist, { recursive: true, force: true });
// Before compiling: a source saved during the build is newer than the stamp, so `npm start` then runs
// the sources rather than a dist/ that may lack the change (tools/src/stack/app-runtime.ts).
mkdirSync(dist, { recursive: true });
writeFileSync(path.join(dist, '.build-started'), `${new Date().toISOString()}\n`);
console.log('build: compiling apps, libs and tools with tsc …');
execFileSync(
  process.execPath,
  [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

for (const lib of readdirSync(path.join(root, 'libs'))) {
  const shim = path.join(dist, 'node_modules/@choreo', lib);
  mkdirSync(shim, { recursive: true });
  writeFileSync(
    path.join(shim, 'index.js'),
    `module.exports = require(${JSON.stringify(path.posix.join('../../../libs', lib, 'src/index.js'))});\n`,
  );
}
console.log('build: the live page with Vite …');
const page = path.join(dist, 'live-page');
console.log(describeBuild(await buildPage(page), page));
console.log(
  `build: dist/ ready in ${((Date.now() - started) / 1000).toFixed(1)} s (run an app: node dist/apps/<app>/src/main.js)`,
);
