import './instrument';
import { launch } from '@choreo/runtime';
import { AppModule } from './app.module';
import { AggregatorConfig, aggregatorConfig } from './config';
import { aggregatorTransport } from './stream/aggregator.transport';
import { RuleSet, loadRuleSet } from './windows/rule-set';

// Loaded once, at start: a bad rule file stops the start with a message naming file and path.
let rules: RuleSet | undefined;
const rulesOf = (config: AggregatorConfig) =>
  (rules ??= loadRuleSet(config.aggregation.dir, config.entities.dir));

launch('aggregator', aggregatorConfig, (config) => AppModule.forRoot(config, rulesOf(config)), {
  transports: (config) => [
    aggregatorTransport(rulesOf(config), {
      redisUrl: config.redis.url,
      batchMax: config.aggregation.batchMax,
      claimTimeoutMs: config.aggregation.claimTimeoutMs,
      ...(config.aggregation.consumer && { consumer: config.aggregation.consumer }),
    }),
  ],
});
