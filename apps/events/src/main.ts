import './instrument';
import { launch } from '@choreo/runtime';
import { AppModule } from './app.module';
import { courierEventsTransport } from './choreography/choreography.module';
import { eventsConfig } from './config';

launch('events', eventsConfig, (config) => AppModule.forRoot(config), {
  transports: (config) => [
    courierEventsTransport({ redisUrl: config.redis.url, deadLetterRetention: config.deadLetters }),
  ],
});
