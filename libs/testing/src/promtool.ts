import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Where promtool is: `$PROMTOOL`, `.cache/promtool` of the repository (where `.ci/run` unpacks
 * Debian's `prometheus` package), `/tmp/choreo-promtool`, or the PATH.
 */
export function findPromtool(): string | undefined {
  const root = path.resolve(__dirname, '../../..');
  const candidates = [
    process.env.PROMTOOL,
    path.join(root, '.cache/promtool/usr/bin/promtool'),
    '/tmp/choreo-promtool/usr/bin/promtool',
    ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'promtool')),
  ];
  return candidates.find((candidate): candidate is string => !!candidate && existsSync(candidate));
}

/**
 * Runs `promtool check metrics` over a `/metrics` text; resolves to promtool's complaints ('' when
 * none). Throws when promtool is not installed, saying how to get it (the check is never skipped).
 */
export function promtoolProblems(metricsText: string): Promise<string> {
  const promtool = findPromtool();
  if (!promtool) {
    throw new Error(
      "promtool not found: run `.ci/run` (it unpacks Debian's prometheus package into .cache/promtool), " +
        'or `apt-get download prometheus && dpkg -x prometheus_*.deb .cache/promtool`, or set PROMTOOL',
    );
  }
  return new Promise((resolve, reject) => {
    const child = execFile(promtool, ['check', 'metrics'], (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      // Exit 1: it could not run; 3: lint problems (reported); 0: clean.
      if (error && (error as { code?: number }).code !== 3)
        reject(new Error(`promtool failed: ${output || error.message}`));
      else resolve(output);
    });
    child.stdin?.end(metricsText);
  });
}
