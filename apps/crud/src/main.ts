import './instrument';
import { launch } from '@choreo/runtime';
import { AppModule } from './app.module';
import { crudConfig } from './config';

launch('crud', crudConfig, (config) => AppModule.forRoot(config));
