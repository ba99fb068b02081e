import { parseArgs } from 'node:util';
import { databaseConfig, loadConfig } from '@choreo/config';
import { Database } from '@choreo/persistence';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeMenuSeed, ProductTableMissingError, seedMenuIfEmpty } from './menu-seed';

const HELP = `seed-menu: seeds a starter menu (6 products with stock) when the product table is empty

  npm run seed-menu [-- options]          (from a checkout)
  node dist/tools/src/stack/seed-menu.main.js [options]   (in the container image)

Does nothing when the table already has products, so it is safe to run on every start. Never run it
against production data you care about: it exists for the demo (the simulator) and local use.

Options:
  --wait <seconds>   wait this long for the product table to appear (the crud app creates it); default 0
  -h, --help         show this help

Environment:
  DATABASE_URL       the PostgreSQL to seed (required)
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      wait: { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const waitSeconds = Number(values.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) {
    process.stderr.write(
      `seed-menu: --wait must be a number of seconds >= 0, got ${JSON.stringify(values.wait)}\n`,
    );
    return 2;
  }
  const { database } = loadConfig({ database: databaseConfig });
  const db = new Database({ url: database.url, poolMax: 1, applicationName: 'seed-menu' });
  try {
    // The crud app creates the product table when it starts; a Job started next to it waits for it.
    const deadline = Date.now() + waitSeconds * 1000;
    for (;;) {
      try {
        const result = await seedMenuIfEmpty(db);
        process.stdout.write(`seed-menu: ${describeMenuSeed(result)}\n`);
        return 0;
      } catch (error) {
        if (!(error instanceof ProductTableMissingError) || Date.now() >= deadline) throw error;
        await sleep(1000);
      }
    }
  } finally {
    await db.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`seed-menu: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
