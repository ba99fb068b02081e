import './instrument';
import { launch } from '@choreo/runtime';
import { AppModule } from './app.module';
import { notificationsConfig, NotificationsConfig } from './config';
import { ingestTransport } from './ingest/ingest.transport';
import { Realtime } from './realtime';

// One edge per process, shared by the Nest module (gateways) and the stream transport (ingest).
let realtime: Realtime | undefined;
const edge = (config: NotificationsConfig) => (realtime ??= new Realtime(config));

launch('notifications', notificationsConfig, (config) => AppModule.forRoot(config, edge(config)), {
  transports: (config) => [ingestTransport(edge(config))],
});
