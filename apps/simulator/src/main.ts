import './instrument';
import { launch } from '@choreo/runtime';
import { AppModule } from './app.module';
import { simulatorConfig } from './config';
import { orderEventsTransport } from './journeys/journeys.module';

launch(
  'simulator',
  simulatorConfig,
  (config) => AppModule.forRoot(config),
  (app, config) => {
    const { consumer, claimTimeoutMs } = config.simulation;
    app.connectMicroservice({
      strategy: orderEventsTransport({ redisUrl: config.redis.url, consumer, claimTimeoutMs }),
    });
  },
);
