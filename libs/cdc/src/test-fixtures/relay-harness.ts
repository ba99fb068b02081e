import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { Client } from 'pg';

/** A relay running in a child process (test-fixtures/relay-process.ts). */
export interface RelayProcess {
  readonly child: ChildProcess;
  /** Everything it wrote to stderr (logs), for failure messages. */
  readonly logs: string[];
  /** Resolves once it streams from the slot. */
  streaming(timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code once it has exited. */
  exited(): Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const ROOT = path.resolve(__dirname, '../../../..');

/** Starts the relay process with the given environment (DATABASE_URL, REDIS_URL, CDC_*). */
export function startRelayProcess(env: Record<string, string>): RelayProcess {
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', path.join(__dirname, 'relay-process.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => {
    logs.push(chunk.toString());
    if (logs.length > 200) logs.shift();
  });
  let output = '';
  const streamingPromise = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('streaming')) resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`relay exited (${code}) before streaming: ${logs.join('')}`)),
    );
  });
  streamingPromise.catch(() => undefined);
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    logs,
    streaming: (timeoutMs = 60_000) =>
      Promise.race([
        streamingPromise,
        new Promise<void>((_, reject) =>
          setTimeout(
            () => reject(new Error(`relay not streaming after ${timeoutMs} ms: ${logs.join('')}`)),
            timeoutMs,
          ).unref(),
        ),
      ]),
    exited: () => exit,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exit;
    },
  };
}

/** Writes an outbox event the way the events app does: a transactional logical message. */
export async function emitOutbox(
  db: Client,
  aggregate: string,
  event: Record<string, unknown>,
): Promise<void> {
  await db.query(`select pg_logical_emit_message(true, 'choreo.outbox', $1::text)`, [
    JSON.stringify({ aggregate, event }),
  ]);
}
