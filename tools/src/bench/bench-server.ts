import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { waitFor } from '@choreo/testing';

const repoRoot = path.resolve(__dirname, '../../..');

/** One side of an HTTP benchmark: a server in its own process. */
export interface BenchServer<Name extends string = string> {
  name: Name;
  url: string;
  child: ChildProcess;
}

/** Starts `node -r @swc-node/register <args>` from the repository root as one benchmarked side. */
export function spawnBenchServer<Name extends string>(
  name: Name,
  args: string[],
  env: Record<string, string>,
  port: number,
): BenchServer<Name> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { name, url: `http://127.0.0.1:${port}`, child };
}

/** Waits until `probePath` answers with anything below 500. */
export async function benchServerReady(server: BenchServer, probePath: string): Promise<void> {
  await waitFor(
    `${server.name} on ${server.url}`,
    () =>
      new Promise<boolean>((resolve) => {
        http
          .get(`${server.url}${probePath}`, (res) => {
            res.resume();
            resolve((res.statusCode ?? 500) < 500);
          })
          .on('error', () => resolve(false));
      }),
    60_000,
  );
}

/** User + system CPU clock ticks a process has used so far (Linux /proc), or undefined. */
export function cpuTicks(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** What the benches read of an autocannon result. */
export interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export interface CannonRequest {
  method?: string;
  path?: string;
  body?: string;
  headers?: Record<string, string>;
}

type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  overallRate?: number;
  requests: (CannonRequest & { setupRequest?: (request: CannonRequest) => CannonRequest })[];
  /** Sent by every request unless a request overrides it. */
  method?: string;
}) => Promise<CannonResult>;

/** autocannon (which ships no types), typed for what the benches use. */
export const autocannon = createRequire(__filename)('autocannon') as Autocannon;
