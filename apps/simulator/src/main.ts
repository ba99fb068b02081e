import './instrument';
import { launch } from '@choreo/runtime';
import { AppModule } from './app.module';
import { simulatorConfig } from './config';
import { orderEventsTransport } from './journeys/journeys.module';

launch('simulator', simulatorConfig, (config) => AppModule.forRoot(config), {
  transports: (config) => {
    const { consumer, claimTimeoutMs } = config.simulation;
    return [orderEventsTransport({ redisUrl: config.redis.url, consumer, claimTimeoutMs })];
  },
});
