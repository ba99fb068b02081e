import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { appSpecs } from './apps';

const root = path.resolve(__dirname, '../../..');
const run = promisify(execFile);

describe('every app validates its environment before it listens', () => {
  it.each(appSpecs().map((app) => [app.name, app.main]))(
    '%s refuses to start (exit 78) naming each bad variable',
    async (name, main) => {
      const failure = await run(process.execPath, ['-r', '@swc-node/register', main], {
        cwd: root,
        env: { ...process.env, REDIS_URL: 'nonsense', DATABASE_URL: 'mysql://nope', PORT: 'eighty' },
        timeout: 60_000,
      }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(78);
      expect(failure?.stderr).toContain(`${name}: invalid configuration`);
      expect(failure?.stderr).toMatch(/PORT: .*expected: a TCP port/);
      // Each app names only the variables it reads.
      const needsRedis = name !== 'crud';
      const needsDatabase = ['crud', 'events', 'cdc-relay', 'aggregator', 'notifications'].includes(name);
      expect(/REDIS_URL: must be a URL/.test(failure!.stderr)).toBe(needsRedis);
      expect(/DATABASE_URL: must be a URL/.test(failure!.stderr)).toBe(needsDatabase);
    },
    60_000,
  );
});
