import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DEV_API_TOKEN } from '@choreo/config';
import type { AppName } from '@choreo/contracts';
import { waitFor } from '@choreo/testing';
import { appSpecs } from '../stack/apps';
import { startTcpProxy, TcpProxy } from './tcp-proxy';

const root = path.resolve(__dirname, '../../..');

export type { AppName };

export interface LiveStackOptions {
  redisUrl: string;
  databaseUrl: string;
  /** Extra environment for every app (SIM_SPEED, LOG_LEVEL …). */
  env?: Record<string, string>;
  /** How long to wait for every app to be ready (default 180 s). */
  readyTimeoutMs?: number;
}

/** The whole system as `npm start` runs it (every app supervised), on servers the caller controls. */
export interface LiveStack {
  /** `http://127.0.0.1:<port>` of each app. */
  readonly urls: Record<AppName, string>;
  /** The live page (the notifications app's `/`), through `pageProxy`. */
  readonly pageUrl: string;
  /** The proxy between the browser and notifications: `cut()` drops the page's WebSocket for real. */
  readonly pageProxy: TcpProxy;
  /** The API token the apps accept. */
  readonly token: string;
  /** Everything the runner printed. */
  output(): string;
  /** The pid of an app's current process (the runner restarts it when it dies). */
  appPid(app: AppName): number | undefined;
  /** SIGKILLs an app's current process, as a crash would; the runner brings it back. */
  killApp(app: AppName): number | undefined;
  /** Resolves once the app answers /readyz with 200. */
  ready(app: AppName, timeoutMs?: number): Promise<void>;
  /** Ctrl-C for the runner: every app stops; then removes the stack's temporary files. */
  stop(): Promise<void>;
}

function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

/** The first of `count` consecutive ports that are all free now. */
async function freePortRun(count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const taken = await Promise.all(Array.from({ length: count }, (_, i) => portTaken(base + i)));
    if (!taken.some(Boolean)) return base;
  }
}

/**
 * Starts `npm start`'s runner (tools/src/stack/main.ts) against the given Redis and PostgreSQL, on
 * free ports, with the live page built into a temporary directory; resolves once every app is ready.
 */
export async function startLiveStack(options: LiveStackOptions): Promise<LiveStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'choreo-live-'));
  const apps = appSpecs(await freePortRun(6));
  const urls = Object.fromEntries(apps.map((a) => [a.name, `http://127.0.0.1:${a.port}`])) as Record<
    AppName,
    string
  >;
  const notificationsPort = apps.find((a) => a.name === 'notifications')?.port ?? 0;
  const pageProxy = await startTcpProxy(notificationsPort);
  let output = '';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    ...options.env,
    REDIS_URL: options.redisUrl,
    DATABASE_URL: options.databaseUrl,
    STACK_DATA_DIR: dataDir,
    STACK_PORT_BASE: String(apps[0].port),
    LIVE_PAGE_DIR: path.join(dataDir, 'live-page'),
    LIVE_PAGE_CRUD_URL: urls.crud,
    LIVE_PAGE_EVENTS_URL: urls.events,
  };
  // The page's origin (through the proxy) may call crud and events.
  env['CORS_ORIGINS'] = `http://127.0.0.1:${pageProxy.port},http://127.0.0.1:${notificationsPort}`;
  // The runner's default: the development token, handed to the page.
  delete env['API_TOKENS'];
  const runner: ChildProcess = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'tools/src/stack/main.ts'],
    {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  runner.stdout?.on('data', keep);
  runner.stderr?.on('data', keep);
  const exited = once(runner, 'exit');

  const appPid = (app: AppName): number | undefined => {
    const main = apps.find((a) => a.name === app)?.main ?? '';
    return childPids(runner.pid).find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(main);
      } catch {
        return false;
      }
    });
  };
  const ready = (app: AppName, timeoutMs = 120_000) =>
    waitFor(
      `${app} /readyz`,
      async () => (await fetch(`${urls[app]}/readyz`).catch(() => undefined))?.ok === true,
      timeoutMs,
      100,
    );
  const stop = async () => {
    if (runner.exitCode === null && runner.signalCode === null) {
      const timer = setTimeout(() => runner.kill('SIGKILL'), 20_000);
      runner.kill('SIGINT');
      await exited;
      clearTimeout(timer);
    }
    await pageProxy.close();
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      'the stack',
      async () => {
        if (runner.exitCode !== null) throw new Error(`the stack runner exited ${runner.exitCode}`);
        return output.includes('choreo is up');
      },
      options.readyTimeoutMs ?? 180_000,
      200,
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output.slice(-4000)}`);
  }
  return {
    urls,
    pageUrl: `http://127.0.0.1:${pageProxy.port}/`,
    pageProxy,
    token: DEV_API_TOKEN,
    output: () => output,
    appPid,
    killApp: (app) => {
      const pid = appPid(app);
      if (pid) process.kill(pid, 'SIGKILL');
      return pid;
    },
    ready,
    stop,
  };
}

function childPids(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return execFileSync('pgrep', ['-P', String(pid)])
      .toString()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
