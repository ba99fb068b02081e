import { DynamicModule, Module } from '@nestjs/common';
import { ConnectionProbesModule } from '@choreo/runtime';
import { AggregatorModule } from './aggregator.module';
import type { AggregatorConfig } from './config';
import type { RuleSet } from './windows/rule-set';

/** Windowed aggregates over the streams (orders/min, revenue, delivery time, products per category). */
@Module({})
export class AppModule {
  static forRoot(config: AggregatorConfig, rules: RuleSet): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConnectionProbesModule.forRoot({ databaseUrl: config.database.url, redisUrl: config.redis.url }),
        AggregatorModule.forRoot({ database: config.database, rules, settings: config.aggregation }),
      ],
    };
  }
}
