import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { waitFor } from '@choreo/testing';

const ROOT = path.resolve(__dirname, '../../../..');

/** A choreo app running from its real entry point in a child process. */
export interface AppProcess {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** Its last log lines, for failure messages. */
  readonly logs: string[];
  ready(timeoutMs?: number): Promise<void>;
  /** SIGKILL by default: a crash. Resolves once it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `apps/<app>/src/main.ts` with `env` on `port`. */
export function startApp(app: string, port: number, env: Record<string, string>, label = app): AppProcess {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', `apps/${app}/src/main.ts`], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const keep = (chunk: Buffer) => {
    logs.push(...chunk.toString().split('\n').filter(Boolean));
    if (logs.length > 60) logs.splice(0, logs.length - 60);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  return {
    name: label,
    url,
    child,
    logs,
    ready: (timeoutMs = 90_000) =>
      waitFor(
        `${label} /readyz`,
        async () => {
          if (child.exitCode !== null)
            throw new Error(`${label} exited ${child.exitCode}:\n${logs.join('\n')}`);
          return (await fetch(`${url}/readyz`)).ok;
        },
        timeoutMs,
        100,
      ),
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

/** Runs a CLI (`node -r @swc-node/register <script> <args>`) to its end. */
export async function runCommand(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}
