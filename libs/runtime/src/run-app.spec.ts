import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ActionableError } from '@choreo/config';
import { compactStartupHeap, start } from './run-app';

class FixThis extends ActionableError {
  constructor() {
    super('wal_level is replica: set it to logical');
    this.name = 'FixThis';
  }
}

/** What `start` printed and the exit code it asked for, when `main` fails with `error`. */
async function failWith(error: unknown): Promise<{ printed: string; code: unknown }> {
  let printed = '';
  const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    printed += String(chunk);
    return true;
  });
  let exited: (code: unknown) => void = () => undefined;
  const exitedWith = new Promise<unknown>((resolve) => (exited = resolve));
  const exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
    exited(code);
    return undefined as never;
  });
  try {
    start('demo', () => Promise.reject(error));
    const code = await exitedWith;
    return { printed, code };
  } finally {
    write.mockRestore();
    exit.mockRestore();
  }
}

describe('start', () => {
  it('prints an actionable start-up error as its message alone, and exits 78 (a refusal: no restart helps)', async () => {
    const { printed, code } = await failWith(new FixThis());
    expect(printed).toBe('demo: failed to start: FixThis: wal_level is replica: set it to logical\n');
    expect(code).toBe(78);
  });

  it('prints any other start-up error with its stack', async () => {
    const { printed, code } = await failWith(new TypeError('x is undefined'));
    expect(printed).toMatch(/^demo: failed to start: TypeError: x is undefined\n\s+at /);
    expect(code).toBe(1);
  });
});

describe('compactStartupHeap', () => {
  it('asks V8 for its memory-reducing full GC, and does nothing without --expose-gc', () => {
    const gc = jest.fn();
    compactStartupHeap(gc);
    expect(gc).toHaveBeenCalledWith({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    expect(() => compactStartupHeap(undefined)).not.toThrow();
  });

  it("gives sparse old-space pages back (Node 24, the image's)", () => {
    // A real process with the apps' flag: 40 MB of objects that survive into old space, then 7 in 8
    // dropped. A regular GC keeps their pages; compactStartupHeap's evacuates them and frees the rest.
    const script = `
      const { compactStartupHeap } = require('./libs/runtime/src/run-app');
      let keep = Array.from({ length: 400_000 }, (_, i) => ({ i, text: 'x'.repeat(64) + i }));
      gc(); gc();
      keep = keep.filter((_, i) => i % 8 === 0);
      gc();
      const before = process.memoryUsage().heapTotal;
      compactStartupHeap();
      const after = process.memoryUsage().heapTotal;
      process.stdout.write(JSON.stringify({ before, after, kept: keep.length }));
    `;
    const run = spawnSync(process.execPath, ['--expose-gc', '-r', '@swc-node/register', '-e', script], {
      cwd: path.resolve(__dirname, '../../..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    const { before, after } = JSON.parse(run.stdout) as { before: number; after: number };
    // V8 11 (Node 20) ignores the flavor and keeps the pages (a no-op there); the image runs Node 24.
    if (Number(process.versions.node.split('.')[0]) >= 24)
      expect(before - after).toBeGreaterThan(15 * 1024 * 1024);
    else expect(after).toBeLessThanOrEqual(before);
  });
});
