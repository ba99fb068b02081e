// The crud module alone in a bare Nest app: no pino-http, no OpenTelemetry, no metrics or correlation
// middleware. Not a way to run the app (use main.ts); `npm run bench:crud` starts it to show how the
// per-request cost splits between this module and the platform runtime around it.
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { CrudModule } from './crud.module';

async function main(): Promise<void> {
  const env = process.env;
  const app = await NestFactory.create<NestExpressApplication>(
    CrudModule.forRoot({
      entitiesDir: env['ENTITIES_DIR'] ?? 'entities',
      database: { url: env['DATABASE_URL'] ?? '', poolMax: Number(env['DATABASE_POOL_MAX'] ?? 10) },
      auth: { tokens: (env['API_TOKENS'] ?? '').split(','), protectReads: false },
    }),
    { bodyParser: false, logger: ['error'] },
  );
  app.useBodyParser('json', { limit: env['BODY_LIMIT'] ?? '1mb' });
  await app.listen(Number(env['PORT'] ?? 3001), env['HOST'] ?? '127.0.0.1');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `crud-module-only: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
