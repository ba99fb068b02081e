import './instrument';
import { launch } from '@choreo/runtime';
import { AppModule } from './app.module';
import { cdcRelayConfig } from './config';

launch('cdc-relay', cdcRelayConfig, (config) => AppModule.forRoot(config));
