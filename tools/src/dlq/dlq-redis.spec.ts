import { ConfigError } from '@choreo/config';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeStackFile } from '../stack/stack-file';
import { dlqRedis } from './dlq.command';

describe('where npm run dlq finds Redis', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'choreo-dlq-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const stack = (pid: number) =>
    writeStackFile(dataDir, { redisUrl: 'redis://127.0.0.1:63799', pid, apps: [] });

  it('uses the running local stack when no variable is set', () => {
    stack(process.pid);
    expect(dlqRedis({ STACK_DATA_DIR: dataDir })).toEqual({
      url: 'redis://127.0.0.1:63799',
      source: expect.stringContaining('the stack npm start runs'),
    });
  });

  it('prefers REDIS_URL, read through libs/config', () => {
    stack(process.pid);
    expect(dlqRedis({ STACK_DATA_DIR: dataDir, REDIS_URL: 'redis://10.0.0.5:6379' })).toEqual({
      url: 'redis://10.0.0.5:6379',
      source: 'REDIS_URL',
    });
    expect(() => dlqRedis({ STACK_DATA_DIR: dataDir, REDIS_URL: 'http://nope' })).toThrow(ConfigError);
  });

  it('ignores the file of a stack that is gone, and falls back to the default', () => {
    stack(2 ** 22 + 12345); // above pid_max's default: no such process
    expect(dlqRedis({ STACK_DATA_DIR: dataDir }).url).toBe('redis://127.0.0.1:6379');
  });
});
