// The live page (served at `/` by the notifications app): Preact for the views, uPlot for the charts,
// the workspace's realtime client for everything live. `node tools/build-page.mjs` builds it into
// dist/live-page (npm run build and npm start call it).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const lib = (name) => path.join(repo, 'libs', name, 'src/index.ts');

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  resolve: {
    alias: {
      '@choreo/contracts': lib('contracts'),
      '@choreo/realtime-client': lib('realtime-client'),
    },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: process.env.LIVE_PAGE_OUT_DIR ?? path.join(repo, 'dist/live-page'),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
});
