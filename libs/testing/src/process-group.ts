import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { runInThisContext } from 'node:vm';

/** A free TCP port on 127.0.0.1, as the kernel hands it out. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const running = new Set<ChildProcess>();
const temporaryDirs = new Set<string>();

// Servers run in their own process group so that a SIGKILL reaches the server and every child
// it forked (PostgreSQL backends), the way a crash or an OOM kill would. Whatever is still running
// when this process exits is killed with it, so a failed test run leaves nothing behind. The hook
// goes on the real `process`: a Jest test file sees a copy, whose 'exit' never fires.
(runInThisContext('process') as NodeJS.Process).once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
  for (const dir of temporaryDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    } catch {
      // a server still dying holds it: the run's global teardown tries again
    }
  }
});

/**
 * A worker Jest kills with a signal exits without that hook. So each server group and temporary
 * data directory is also noted in CHOREO_TEST_RUN_DIR (set by the integration run's global setup),
 * and the global teardown, in Jest's own process, removes whatever is still noted there
 * (tools/jest/global-teardown.cjs).
 */
function noteLeftover(name: string, content: string): () => void {
  const runDir = process.env['CHOREO_TEST_RUN_DIR'];
  if (!runDir) return () => undefined;
  const file = path.join(runDir, name);
  try {
    writeFileSync(file, content);
  } catch {
    return () => undefined; // the run directory is gone: the run is over
  }
  return () => rmSync(file, { force: true });
}

/** Notes a temporary data directory for the run's teardown; call the result once it is removed. */
export function noteTemporaryDir(dir: string): () => void {
  temporaryDirs.add(dir);
  const forget = noteLeftover(`dir-${path.basename(dir)}`, dir);
  return () => {
    temporaryDirs.delete(dir);
    forget();
  };
}

/** Spawns a server as the leader of a new process group. */
export function spawnGroup(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const forget = child.pid === undefined ? () => undefined : noteLeftover(`group-${child.pid}`, command);
  child.once('exit', () => {
    running.delete(child);
    forget();
  });
  return child;
}

/** Sends a signal to the whole process group of a server started with spawnGroup. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Whether any process of the group led by `pgid` is still there (signal 0 only checks). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Waits until no process of the group led by `child` is left: a leader's exit does not mean its
 * children are gone (a SIGKILLed postmaster's backends die a moment later, and until they have, their
 * shared memory block stops a new postmaster on the same data directory: "pre-existing shared memory
 * block is still in use"). Survivors after `timeoutMs` are SIGKILLed, and waited for once more.
 */
export async function groupGone(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  const gone = async () => !groupAlive(pgid);
  try {
    await waitFor(`process group ${pgid} to exit`, gone, timeoutMs, 20);
  } catch {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    await waitFor(`process group ${pgid} to exit after SIGKILL`, gone, timeoutMs, 20);
  }
}

/** Signals the group and waits until its leader has exited, and then every other process of it. */
export async function stopGroup(
  child: ChildProcess,
  signal: NodeJS.Signals,
  timeoutMs = 15_000,
): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    killGroup(child, signal);
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
  await groupGone(child);
}

/** Polls `probe` every `intervalMs` until it resolves true, failing with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}

/** Keeps the last lines a server printed, for error messages when it fails to start. */
export function tail(child: ChildProcess, lines: string[], max = 40): void {
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > max) lines.splice(0, lines.length - max);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
}
