import { ChildProcess, spawn } from 'node:child_process';
import { freePort, waitFor } from '@choreo/testing';
import { REPO_ROOT } from './aggregator-harness';

/** The real aggregator app (apps/aggregator/src/main.ts) in its own process, so a spec can SIGKILL it. */
export interface AggregatorProcess {
  base: string;
  child: ChildProcess;
  output: string[];
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), and wait for the exit. */
  stop(): Promise<void>;
}

export async function startAggregatorProcess(env: Record<string, string>): Promise<AggregatorProcess> {
  const port = await freePort();
  const output: string[] = [];
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/aggregator/src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - 60));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    await waitFor(
      'aggregator ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${output.join('\n')}`);
        return (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200;
      },
      // Generous: a shared CI machine under load takes long to compile and boot the app.
      120_000,
    );
  } catch (error) {
    await end('SIGKILL');
    throw error;
  }
  return { base, child, output, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}
