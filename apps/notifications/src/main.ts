import './instrument';
import { launch } from '@choreo/runtime';
import { AppModule } from './app.module';
import { notificationsConfig } from './config';

launch('notifications', notificationsConfig, (config) => AppModule.forRoot(config));
