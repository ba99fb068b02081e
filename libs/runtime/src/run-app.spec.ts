import { ActionableError } from '@choreo/config';
import { start } from './run-app';

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
