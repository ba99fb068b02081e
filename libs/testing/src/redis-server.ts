import { ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, noteTemporaryDir, spawnGroup, stopGroup, tail, waitFor } from './process-group';

export interface RedisServerOptions {
  /** Port to listen on; a free one by default. */
  port?: number;
  /** Where the AOF lives; a fresh temporary directory (removed on stop) by default. */
  dataDir?: string;
  /** AOF persistence with fsync on every write, so a SIGKILL loses nothing acknowledged. Default true. */
  appendOnly?: boolean;
}

/** A real redis-server child process that a test or the dev stack can kill and restart. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** Kills the server (SIGKILL by default: a crash) and waits until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and data directory. */
  restart(): Promise<void>;
  /** Shuts down cleanly and removes a temporary data directory. */
  stop(): Promise<void>;
}

/** Says what to install when redis-server is not on the PATH. */
export function assertRedisServerInstalled(): void {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'redis-server was not found on the PATH. Install it (Debian/Ubuntu: `sudo apt-get install redis-server`, ' +
        'macOS: `brew install redis`) or set REDIS_URL to a running Redis 7+.',
    );
  }
}

/** Starts redis-server from the PATH and resolves once it answers PING. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  assertRedisServerInstalled();
  const port = options.port ?? (await freePort());
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'choreo-redis-'));
  const forgetDataDir = temporary ? noteTemporaryDir(dataDir) : () => undefined;
  mkdirSync(dataDir, { recursive: true });
  const appendOnly = options.appendOnly ?? true;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dataDir,
    '--save',
    '',
    '--appendonly',
    appendOnly ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    '--protected-mode',
    'no',
  ];

  let child: ChildProcess;
  const launch = async () => {
    const output: string[] = [];
    child = spawnGroup('redis-server', args);
    tail(child, output);
    await waitFor(`redis-server on port ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${output.join('\n')}`);
      return (await ping(port)) === '+PONG';
    });
  };
  await launch();

  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    dataDir,
    get pid() {
      return child.pid;
    },
    kill: (signal = 'SIGKILL') => stopGroup(child, signal),
    restart: launch,
    async stop() {
      await stopGroup(child, 'SIGTERM');
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
      forgetDataDir();
    },
  };
}

/** One PING over a raw socket: no client library, no reconnect logic to get in the way. */
function ping(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().trim());
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('timeout'));
    });
    socket.once('error', reject);
  });
}
