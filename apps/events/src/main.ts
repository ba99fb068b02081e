import './instrument';
import { launch } from '@choreo/runtime';
import { AppModule } from './app.module';
import { eventsConfig } from './config';

launch('events', eventsConfig, (config) => AppModule.forRoot(config));
