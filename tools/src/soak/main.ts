import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { startPostgres, startRedis } from '@choreo/testing';
import { startLiveStack } from '../e2e/live-stack';
import { formatSoakReport, runSoak, SOAK_STACK_ENV } from './soak';

const HELP = `npm run soak -- [options]

The whole choreo system under chaos: its own Redis (AOF) and PostgreSQL, every app as npm start runs
them; orders at a steady rate; WebSocket clients tracking every order and dropping their connections at
random; apps SIGKILLed, Redis SIGKILLed and restarted, PostgreSQL restarted. Then it lets the system
settle and prints a table: orders delivered or cancelled, every client timeline complete, in order and
without duplicates, every aggregate equal to SQL, nothing pending, no dead letter but the injected poison.
Exits 1 when a check fails.

Options:
  --minutes N     how long orders are placed and faults injected (default 5)
  --rate R        orders per second (default 5)
  --clients C     WebSocket clients (default 20)
  --chaos S       seconds between faults (default 15)
  --speed X       SIM_SPEED of the simulator (default 10)
  -h, --help      show this help
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '5' },
      rate: { type: 'string', default: '5' },
      clients: { type: 'string', default: '20' },
      chaos: { type: 'string', default: '15' },
      speed: { type: 'string', default: '10' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const number = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`--${name} must be a positive number, not ${text}`);
    return value;
  };
  const minutes = number('minutes', values.minutes);
  const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

  log('soak: starting Redis (AOF), PostgreSQL and every app …');
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres({ fsync: false })]);
  const databaseUrl = await postgres.createDatabase('choreo');
  const stack = await startLiveStack({
    redisUrl: redis.url,
    databaseUrl,
    env: { ...SOAK_STACK_ENV, SIM_SPEED: values.speed },
  });
  const pool = new Pool({ connectionString: databaseUrl });
  pool.on('error', () => undefined);
  const redisClient = new Redis(redis.url, { maxRetriesPerRequest: null });
  redisClient.on('error', () => undefined);
  try {
    const report = await runSoak({
      stack,
      redis,
      postgres,
      pool,
      redisClient,
      durationMs: minutes * 60_000,
      rate: number('rate', values.rate),
      clients: number('clients', values.clients),
      chaosEveryMs: number('chaos', values.chaos) * 1000,
      log,
    });
    process.stdout.write(`\n${formatSoakReport(report)}\n`);
    process.exitCode = report.ok ? 0 : 1;
  } finally {
    redisClient.disconnect();
    await pool.end();
    await stack.stop();
    await Promise.all([redis.stop(), postgres.stop()]);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
