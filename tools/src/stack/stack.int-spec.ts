import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '@choreo/testing';
import { appSpecs } from './apps';

const root = path.resolve(__dirname, '../../..');

/** Child pids of `pid` (one level), from /proc. */
function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)])
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function freeRange(count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const taken = await Promise.all(Array.from({ length: count }, (_, i) => portOpen(base + i)));
    if (!taken.some(Boolean)) return base;
  }
}

describe('npm start (the dev stack runner)', () => {
  let runner: ChildProcess;
  let output = '';
  let dataDir: string;

  afterAll(() => {
    if (runner?.exitCode === null) runner.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('brings every app to ready, restarts a SIGKILLed app, and leaves nothing behind on Ctrl-C', async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'choreo-stack-'));
    chmodSync(dataDir, 0o755); // PostgreSQL runs as the postgres user and must reach its directory
    const base = await freeRange(6);
    const apps = appSpecs(base);
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    runner = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/src/stack/main.ts'], {
      cwd: root,
      env: {
        ...process.env,
        REDIS_URL: '',
        DATABASE_URL: '',
        STACK_DATA_DIR: dataDir,
        STACK_PORT_BASE: String(base),
        STACK_PG_PORT: String(pgPort),
        STACK_REDIS_PORT: String(redisPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    runner.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    runner.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

    await waitFor(
      'the ready table',
      async () => {
        if (runner.exitCode !== null)
          throw new Error(`the runner exited with ${runner.exitCode}:\n${output}`);
        return output.includes('choreo is up');
      },
      150_000,
    );
    // A fresh system has a menu to order from, and says so.
    expect(output).toContain('the product table was empty: seeded a starter menu of 6 products');
    for (const app of apps) {
      expect(output).toContain(`http://localhost:${app.port}`);
      expect((await fetch(`http://127.0.0.1:${app.port}/readyz`)).status).toBe(200);
    }

    // The table names the dead-letter command, which finds the stack's Redis with no variable set.
    expect(output).toContain('npm run dlq -- list');
    const dlq = spawnSync(process.execPath, ['-r', '@swc-node/register', 'tools/src/dlq/main.ts', 'list'], {
      cwd: root,
      env: { ...process.env, REDIS_URL: '', STACK_DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect({ status: dlq.status, stderr: dlq.stderr }).toEqual({ status: 0, stderr: '' });

    const events = apps.find((app) => app.name === 'events')!;
    // apps/events/src/main.ts under the loader, dist/apps/events/src/main.js when dist/ is fresh.
    const entry = events.main.replace(/\.ts$/, '.');
    const victim = childPids(runner.pid!).find((pid) =>
      execFileSync('cat', [`/proc/${pid}/cmdline`])
        .toString()
        .includes(entry),
    )!;
    expect(victim).toBeDefined();
    process.kill(victim, 'SIGKILL');
    await waitFor('events restarted', async () => output.includes('restarting events'), 30_000);
    await waitFor(
      'events ready again',
      async () => (await fetch(`http://127.0.0.1:${events.port}/readyz`).catch(() => undefined))?.ok === true,
      60_000,
    );

    const children = childPids(runner.pid!);
    const exited = once(runner, 'exit');
    runner.kill('SIGINT');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    for (const port of [...apps.map((app) => app.port), pgPort, redisPort])
      expect(await portOpen(port)).toBe(false);
    expect(children.filter(alive)).toEqual([]);
  }, 240_000);
});
