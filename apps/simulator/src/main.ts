import './instrument';
import { launch } from '@choreo/runtime';
import { AppModule } from './app.module';
import { simulatorConfig } from './config';

launch('simulator', simulatorConfig, (config) => AppModule.forRoot(config));
