import { Database } from '@choreo/persistence';
import { freePort, PostgresServer, startPostgres } from '@choreo/testing';
import { MongoOrderTimelineStore } from './mongo-order-timeline.store';
import { describeOrderTimelineContract } from './order-timeline.contract';
import { PgOrderTimelineStore } from './pg-order-timeline.store';

// One contract suite for every configured read-model store: PostgreSQL always (a real server
// from libs/testing), MongoDB when MONGODB_URL names one (none can be installed on these machines).

describe('notifications read model stores', () => {
  let postgres: PostgresServer;
  let databaseUrl: string;

  beforeAll(async () => {
    postgres = await startPostgres({ fsync: false });
    databaseUrl = await postgres.createDatabase('notifications_read_model');
  });

  afterAll(async () => {
    await postgres?.stop();
  });

  describeOrderTimelineContract(
    'PostgreSQL',
    async () => new PgOrderTimelineStore(new Database({ url: databaseUrl, applicationName: 'contract' })),
  );

  const mongoUrl = process.env['MONGODB_URL'];
  if (mongoUrl) {
    describeOrderTimelineContract('MongoDB', async () => new MongoOrderTimelineStore(mongoUrl));
  } else {
    describe('OrderTimelineStore contract: MongoDB', () => {
      process.stdout.write('MongoDB contract suite not run: MONGODB_URL unset\n');
      it.todo('MongoDB contract suite not run: MONGODB_URL unset (set it to a MongoDB to run it)');
    });
  }

  it('fails fast, naming MongoDB, when MONGODB_URL points at nothing', async () => {
    const port = await freePort();
    const sut = new MongoOrderTimelineStore(`mongodb://reader:secret@127.0.0.1:${port}/choreo`, 1500);
    const started = Date.now();
    const failure = sut.init();
    await expect(failure).rejects.toThrow(`MongoDB at mongodb://reader:***@127.0.0.1:${port}/choreo`);
    await expect(failure).rejects.toThrow('is unreachable (MONGODB_URL)');
    expect(Date.now() - started).toBeLessThan(10_000);
    await sut.close();
  });
});
