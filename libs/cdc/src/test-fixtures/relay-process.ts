// The relay in its own process, so that a test can SIGKILL it: configured from the environment
// exactly like the app (cdcConfig), prints `streaming` once it holds the slot, stops gracefully
// on SIGTERM.
import { Registry } from 'prom-client';
import { databaseConfig, loadConfig, redisConfig } from '@choreo/config';
import { CdcRelay } from '../cdc-relay';
import { cdcConfig } from '../cdc.config';

async function main(): Promise<void> {
  const config = loadConfig({ database: databaseConfig, redis: redisConfig, cdc: cdcConfig });
  const write = (level: string) => (message: string) =>
    process.stderr.write(`${new Date().toISOString()} [relay ${process.pid}] ${level} ${message}\n`);
  const relay = new CdcRelay({
    ...config.cdc,
    databaseUrl: config.database.url,
    redisUrl: config.redis.url,
    registry: new Registry(),
    logger: { log: write('info'), warn: write('warn'), error: write('error') },
  });
  await relay.start();
  const announce = setInterval(() => {
    if (relay.state !== 'streaming') return;
    process.stdout.write('streaming\n');
    clearInterval(announce);
  }, 20);
  process.once('SIGTERM', () => {
    void relay.stop().then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`relay failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
