// A consumer in its own process, for the crash test: each handled event is recorded with SADD (the
// effect) and INCR (how many times any handler ran), slowly enough that a SIGKILL lands mid-batch.
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { StreamConsumer } from '../stream-consumer';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

async function main(): Promise<void> {
  const redisUrl = env('REDIS_URL');
  const stream = env('STREAM');
  const effects = new Redis(redisUrl);
  const consumer = new StreamConsumer(
    {
      redisUrl,
      group: env('GROUP'),
      consumer: env('CONSUMER'),
      streams: [stream],
      batchSize: 50,
      concurrency: 4,
      blockMs: 200,
      metricsIntervalMs: 0,
      registry: new Registry(),
    },
    () => async (event) => {
      await sleep(10);
      await effects.multi().sadd(`effects:${stream}`, event.id).incr(`runs:${stream}`).exec();
    },
  );
  await consumer.start();
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
