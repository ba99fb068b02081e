// npm run bench:footprint — how much memory choreo holds while idle:
// 1. each app from dist/ (`npm run build`, as the image runs it) alone against a real PostgreSQL and
//    Redis, ready and then left idle: its RSS, first without an OTLP endpoint (the default: the
//    OpenTelemetry SDK is not even loaded), then side by side with one set (SDK, exporter and the
//    HTTP, pg and ioredis instrumentations loaded), with the ratio;
// 2. the whole `npm start` (supervisor, every app under the TypeScript loader, its own PostgreSQL and
//    Redis): the RSS of its whole process tree once every app is ready.
// Last line: max_idle_rss_mb=<x> stack_rss_mb=<y>. Records a section of docs/benchmarks.md.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startPostgres, startRedis, waitFor } from '@choreo/testing';
import { appSpecs } from '../stack/apps';
import { writeBenchmarkSection } from './streams/bench-section';

const HELP = `npm run bench:footprint [-- options]

Idle RSS of every app from dist/ (with and without the OpenTelemetry SDK) and of the whole
\`npm start\`. Builds dist/ first. Prints max_idle_rss_mb=<x> stack_rss_mb=<y> last and records
the "footprint" section of docs/benchmarks.md.

Options:
  --no-build        use the dist/ already there
  --settle <s>      seconds an app sits idle after it is ready before its RSS is read (default 5)
  --no-record       do not write docs/benchmarks.md
  --apps <a,b>      measure only these apps, and not \`npm start\` (for trying changes)
  -h, --help        show this help
`;

const root = path.resolve(__dirname, '../../..');
const MB = 1024;
const secrets = {
  API_TOKENS: 'footprint-bench-token-0123456789',
  TRACKING_TOKEN_SECRET: 'footprint-bench-tracking-secret-0123456789abcdef',
};

/** The NODE_OPTIONS the image sets (docker/Dockerfile), so the apps run here as they run there. */
function imageNodeOptions(): string {
  const dockerfile = readFileSync(path.join(root, 'docker/Dockerfile'), 'utf8');
  const match = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile);
  if (!match) throw new Error('docker/Dockerfile sets no NODE_OPTIONS');
  return match[1];
}

/** Proportional set size of one process, in kB: shared pages divided among the processes sharing them. */
function pssKb(pid: number): number {
  const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** Resident set of one process, in kB (from /proc, so Linux only). */
function rssKb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** `pid` and every process below it. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent pid is the 2nd field after the parenthesised command name (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree: number[] = [];
  const visit = (p: number) => {
    tree.push(p);
    for (const child of children.get(p) ?? []) visit(child);
  };
  visit(pid);
  return tree;
}

const treeKb = (pid: number, measure: (pid: number) => number) =>
  processTree(pid).reduce((sum, p) => {
    try {
      return sum + measure(p);
    } catch {
      return sum;
    }
  }, 0);

function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error('the child process did not start');
  return child.pid;
}

async function ready(url: string, child: ChildProcess, what: string): Promise<void> {
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`${what} exited with ${String(code)}`);
  });
  exited.catch(() => undefined);
  await Promise.race([
    exited,
    waitFor(
      `${what} ready`,
      async () => (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status === 200,
      180_000,
    ),
  ]);
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** One app from dist/, ready then idle for `settleMs`: its RSS in kB. */
async function idleAppRss(app: string, env: Record<string, string>, settleMs: number): Promise<number> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, 'dist/apps', app, 'src/main.js')], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  try {
    await ready(`http://127.0.0.1:${port}/readyz`, child, app);
    await sleep(settleMs);
    return rssKb(pidOf(child));
  } catch (error) {
    throw new Error(`${String(error)}\n${stderr}`);
  } finally {
    await stop(child);
  }
}

/** The whole `npm start`, with its own PostgreSQL and Redis: the RSS of its process tree, in kB. */
async function stackRss(settleMs: number): Promise<{ total: number; pss: number; apps: number }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'choreo-footprint-'));
  const portBase = 24_001 + Math.floor(Math.random() * 500) * 10;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STACK_DATA_DIR: dataDir,
    STACK_PG_PORT: String(await freePort()),
    STACK_REDIS_PORT: String(await freePort()),
    STACK_PORT_BASE: String(portBase),
    ...secrets,
    LOG_LEVEL: 'warn',
  };
  delete env['DATABASE_URL'];
  delete env['REDIS_URL'];
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/src/stack/main.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (const app of appSpecs(portBase))
      await ready(`http://127.0.0.1:${app.port}/readyz`, child, `npm start: ${app.name}`);
    await sleep(settleMs);
    const appPids = new Set(
      processTree(pidOf(child)).filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('apps/');
        } catch {
          return false;
        }
      }),
    );
    return {
      total: treeKb(pidOf(child), rssKb),
      pss: treeKb(pidOf(child), pssKb),
      apps: [...appPids].reduce((sum, pid) => sum + rssKb(pid), 0),
    };
  } finally {
    await stop(child, 'SIGINT');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'no-build': { type: 'boolean', default: false },
      'no-record': { type: 'boolean', default: false },
      settle: { type: 'string', default: '5' },
      apps: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const settleMs = Number(values.settle) * 1000;
  if (!values['no-build'])
    execFileSync(process.execPath, ['tools/build.mjs'], { cwd: root, stdio: 'inherit' });

  const [postgres, redis] = await Promise.all([startPostgres({ fsync: false }), startRedis()]);
  const rows: { app: string; lazy: number; plain: number; sdk: number }[] = [];
  const nodeOptions = imageNodeOptions();
  try {
    const base = {
      DATABASE_URL: await postgres.createDatabase('footprint'),
      REDIS_URL: redis.url,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      ...secrets,
    };
    const asImage = { ...base, NODE_OPTIONS: nodeOptions };
    // A closed port: the exporter is built and loaded, and never gets to send anything while idle.
    const collector = `http://127.0.0.1:${await freePort()}`;
    const only = values.apps?.split(',');
    for (const { name } of appSpecs().filter((a) => !only || only.includes(a.name))) {
      const lazy = await idleAppRss(name, asImage, settleMs);
      const plain = await idleAppRss(name, base, settleMs);
      const sdk = await idleAppRss(name, { ...asImage, OTEL_EXPORTER_OTLP_ENDPOINT: collector }, settleMs);
      rows.push({ app: name, lazy, plain, sdk });
      console.log(
        `${name}: ${(lazy / MB).toFixed(1)} MB idle as the image runs it, ${(plain / MB).toFixed(1)} MB without its NODE_OPTIONS, ${(sdk / MB).toFixed(1)} MB with the SDK`,
      );
    }
  } finally {
    await Promise.all([postgres.stop(), redis.stop()]);
  }
  const stack = values.apps ? { total: 0, pss: 0, apps: 0 } : await stackRss(settleMs);

  const maxIdle = Math.max(...rows.map((r) => r.lazy)) / MB;
  const table = [
    '| app | idle RSS, no OTLP endpoint (MB) | with the OTel SDK (MB) | ratio |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.app} | ${(r.lazy / MB).toFixed(1)} | ${(r.sdk / MB).toFixed(1)} | ${(r.sdk / r.lazy).toFixed(2)} |`,
    ),
  ].join('\n');
  console.log(`\n${table}\n`);
  console.log(
    `npm start: ${(stack.pss / MB).toFixed(0)} MB PSS (${(stack.total / MB).toFixed(0)} MB RSS summed) for the whole process tree; the apps ${(stack.apps / MB).toFixed(0)} MB RSS`,
  );
  if (!values['no-record'] && !values.apps) {
    writeBenchmarkSection(
      path.join(root, 'docs/benchmarks.md'),
      'footprint',
      `\`npm run bench:footprint\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores): each app from \`dist/\` against a real PostgreSQL and Redis, ready and then idle ${values.settle} s, its RSS read from /proc. First as the image runs it (\`NODE_OPTIONS=${nodeOptions}\` from docker/Dockerfile, no OTLP endpoint, so the OpenTelemetry SDK is not loaded), then in the same run without those NODE_OPTIONS, and with an OTLP endpoint set (the SDK, its exporter and instrumentations loaded). Targets: ≤ 100 MB per app, ≤ 1 GB for \`npm start\`.

${table}

\`npm start\` (supervisor, six apps under the TypeScript loader, its own PostgreSQL and Redis), every app ready: ${(stack.pss / MB).toFixed(0)} MB PSS over the whole process tree (shared pages divided among the processes sharing them: the memory the system really holds); summing RSS instead, which counts PostgreSQL's shared buffers once per backend, gives ${(stack.total / MB).toFixed(0)} MB, of which the six apps ${(stack.apps / MB).toFixed(0)} MB. stack_rss_mb is the PSS figure.

\`max_idle_rss_mb=${maxIdle.toFixed(0)} stack_rss_mb=${(stack.pss / MB).toFixed(0)}\``,
    );
  }
  console.log(`max_idle_rss_mb=${maxIdle.toFixed(0)} stack_rss_mb=${(stack.pss / MB).toFixed(0)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
