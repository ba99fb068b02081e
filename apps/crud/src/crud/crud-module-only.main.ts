// The crud module alone in a bare Nest app on the platform's HTTP adapter: no runtime module, no pino, no OpenTelemetry, no metrics or correlation
// middleware. Not a way to run the app (use main.ts); `npm run bench:crud` starts it to show how the
// per-request cost splits between this module and the platform runtime around it.
import { createHttpApp } from '@choreo/runtime';
import { CrudModule } from './crud.module';

async function main(): Promise<void> {
  const env = process.env;
  const app = await createHttpApp(
    CrudModule.forRoot({
      entitiesDir: env['ENTITIES_DIR'] ?? 'entities',
      database: { url: env['DATABASE_URL'] ?? '', poolMax: Number(env['DATABASE_POOL_MAX'] ?? 10) },
      auth: { tokens: (env['API_TOKENS'] ?? '').split(','), protectReads: false },
    }),
    { logger: ['error'] },
  );
  await app.listen(Number(env['PORT'] ?? 3001), env['HOST'] ?? '127.0.0.1');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `crud-module-only: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
