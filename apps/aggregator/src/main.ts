import './instrument';
import { launch } from '@choreo/runtime';
import { AppModule } from './app.module';
import { aggregatorConfig } from './config';

launch('aggregator', aggregatorConfig, (config) => AppModule.forRoot(config));
