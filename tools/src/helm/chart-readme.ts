import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { APPS } from '@choreo/contracts';
import { CHART_ROOT } from './values-schema';

// The chart READMEs' "Parameters" tables are generated from the `## @param` comments of the
// values.yaml beside them by @bitnami/readme-generator-for-helm, which also refuses a value without
// a comment or a comment without a value.

const root = path.resolve(__dirname, '../../..');

/** The entry point of the pinned readme generator. */
export function readmeGenerator(): string {
  return require.resolve('@bitnami/readme-generator-for-helm/bin/index.js', { paths: [root] });
}

/** Every chart README with the values file its table comes from. */
export function chartReadmes(): { values: string; readme: string }[] {
  const charts = [
    CHART_ROOT,
    ...[...APPS, 'redis', 'postgresql'].map((c) => path.join(CHART_ROOT, 'charts', c)),
  ];
  return charts.map((chart) => ({
    values: path.join(chart, 'values.yaml'),
    readme: path.join(chart, 'README.md'),
  }));
}

/**
 * `text` formatted by the repository's prettier as it would format `file`. (A child process: prettier
 * 3 loads its plugins with dynamic import(), which jest's module system does not provide.)
 */
export function prettierFormat(file: string, text: string): string {
  const cli = require.resolve('prettier/bin/prettier.cjs', { paths: [root] });
  return execFileSync(process.execPath, [cli, '--stdin-filepath', file], {
    cwd: root,
    input: text,
    encoding: 'utf8',
  });
}

/**
 * What the generator (then prettier) makes of `readme` from `values`, computed on copies so that
 * the files in the tree are not touched.
 */
export function generatedReadme(values: string, readme: string): string {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'choreo-readme-'));
  try {
    const copy = path.join(scratch, 'README.md');
    copyFileSync(readme, copy);
    execFileSync(process.execPath, [readmeGenerator(), '--values', values, '--readme', copy], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return prettierFormat(readme, readFileSync(copy, 'utf8'));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
