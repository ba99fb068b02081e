import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appCommand, BUILD_STAMP, chooseAppRuntime } from './app-runtime';

describe('which code npm start runs', () => {
  let root: string;
  const at = (file: string, seconds: number) => {
    const full = path.join(root, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, '');
    utimesSync(full, seconds, seconds);
  };

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'choreo-runtime-'));
    at('apps/crud/src/main.ts', 1_000);
    at('libs/streams/src/index.ts', 1_000);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('the sources under the loader while there is no dist/', () => {
    expect(chooseAppRuntime(root, undefined).runtime).toBe('ts');
  });

  it('dist/ once a build started after the last change, the sources again after an edit', () => {
    at(BUILD_STAMP, 2_000);
    expect(chooseAppRuntime(root, undefined)).toEqual({ runtime: 'dist', reason: expect.any(String) });
    at('libs/streams/src/index.ts', 3_000);
    expect(chooseAppRuntime(root, undefined).runtime).toBe('ts');
  });

  it('STACK_RUNTIME decides when it names one', () => {
    expect(chooseAppRuntime(root, 'dist').runtime).toBe('dist');
    at(BUILD_STAMP, 2_000);
    expect(chooseAppRuntime(root, 'ts').runtime).toBe('ts');
  });

  it('runs dist/ with plain node and the sources with the loader, both with the image V8 flags', () => {
    expect(appCommand('apps/crud/src/main.ts', 'dist')).toEqual([
      '--max-semi-space-size=2',
      '--expose-gc',
      'dist/apps/crud/src/main.js',
    ]);
    expect(appCommand('apps/crud/src/main.ts', 'ts')).toEqual([
      '--max-semi-space-size=2',
      '--expose-gc',
      '-r',
      '@swc-node/register',
      'apps/crud/src/main.ts',
    ]);
  });
});
