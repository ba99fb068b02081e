// Builds the live page (apps/notifications/web) with Vite into dist/live-page, or into the directory
// given as the first argument, and prints the size of every file it wrote, raw and gzipped.
// `npm run build` and `npm start` run it; the browser specs build into a temporary directory.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Builds the page into `outDir`; returns the files written with their sizes. */
export async function buildPage(outDir = path.join(root, 'dist/live-page')) {
  const { build } = await import('vite');
  process.env.LIVE_PAGE_OUT_DIR = outDir;
  await build({ configFile: path.join(root, 'apps/notifications/web/vite.config.mjs') });
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else {
        const body = readFileSync(file);
        files.push({ file: path.relative(outDir, file), bytes: body.length, gzip: gzipSync(body).length });
      }
    }
  };
  walk(outDir);
  return files;
}

/** One line per file and a total, e.g. `live page: 142.5 kB (49.9 kB gzip) in dist/live-page`. */
export function describeBuild(files, outDir) {
  const kb = (n) => `${(n / 1000).toFixed(1)} kB`;
  const total = files.reduce((sum, f) => ({ bytes: sum.bytes + f.bytes, gzip: sum.gzip + f.gzip }), {
    bytes: 0,
    gzip: 0,
  });
  return [
    ...files.map((f) => `  ${f.file.padEnd(32)} ${kb(f.bytes).padStart(9)}  ${kb(f.gzip).padStart(9)} gzip`),
    `live page: ${kb(total.bytes)} (${kb(total.gzip)} gzip) in ${outDir.startsWith(root) ? path.relative(root, outDir) : outDir}`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = path.resolve(process.argv[2] ?? path.join(root, 'dist/live-page'));
  const started = Date.now();
  const files = await buildPage(outDir);
  console.log(`${describeBuild(files, outDir)} — built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
