import './instrument';
import { launch } from '@choreo/runtime';
import { AppModule } from './app.module';
import { notificationsConfig } from './config';
import { IngestServer } from './ingest/ingest.transport';
import { Realtime } from './realtime';

launch(
  'notifications',
  notificationsConfig,
  (config) => AppModule.forRoot(config),
  (app) => {
    const realtime = app.get(Realtime);
    app.connectMicroservice({
      strategy: new IngestServer(
        realtime.consumerOptions(),
        () => (event, ctx) => realtime.ingest.handle(event, ctx),
      ),
    });
  },
);
