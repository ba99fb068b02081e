import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { waitFor } from '@choreo/testing';
import { Supervisor } from './supervisor';

const root = path.resolve(__dirname, '../../..');

describe('the npm start supervisor', () => {
  let logDir: string;
  let sut: Supervisor;
  const refusals: { app: string; message: string }[] = [];

  beforeAll(() => {
    logDir = mkdtempSync(path.join(os.tmpdir(), 'choreo-supervisor-'));
    sut = new Supervisor({
      root,
      logDir,
      echo: false,
      env: process.env,
      logger: pino({ level: 'silent' }),
      onRefused: (app, message) => refusals.push({ app, message }),
    });
  });

  afterAll(async () => {
    await sut.stop();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('stops on an app that refuses its configuration, with its message, and restarts one that crashes', async () => {
    sut.start([
      { name: 'refusing', port: 0, main: 'tools/src/stack/test-fixtures/refusing-app.ts' },
      { name: 'crashing', port: 0, main: 'tools/src/stack/test-fixtures/crashing-app.ts' },
    ]);
    await waitFor('the refusal', async () => refusals.length > 0, 60_000);
    expect(refusals).toEqual([
      {
        app: 'refusing',
        message: 'refusing-app: invalid configuration (1 problem):\n  - PORT: must be a port',
      },
    ]);
    // The crashing app is back after its first restart delay (0.5 s); the refusing one never is.
    await waitFor('the crashing app restarted', async () => sut.launches('crashing') >= 2, 60_000);
    expect(sut.launches('refusing')).toBe(1);
  });
});
