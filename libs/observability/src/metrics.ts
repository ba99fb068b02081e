import { collectDefaultMetrics, Registry } from 'prom-client';

// prom-client's default metrics include three gauges named `…_total`, a suffix Prometheus reserves
// for counters (`promtool check metrics` refuses them). They are dropped: the same counts are the sum
// of `nodejs_active_handles`, `nodejs_active_requests` and `nodejs_active_resources` over `type`.
const GAUGES_NAMED_AS_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

let registry: Registry | undefined;

/**
 * The process-wide Prometheus registry that `/metrics` serves. The first call also starts Node's
 * default metrics (event loop lag, heap, GC), as `promtool check metrics` accepts them. Every lib
 * registers its metrics here.
 */
export function metricsRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
    for (const name of GAUGES_NAMED_AS_COUNTERS) registry.removeSingleMetric(name);
  }
  return registry;
}

/** Sets the `app` label carried by every metric of this process. */
export function setMetricsApp(app: string): void {
  metricsRegistry().setDefaultLabels({ app });
}
