import { collectDefaultMetrics, Registry } from 'prom-client';

let registry: Registry | undefined;

/**
 * The process-wide Prometheus registry that `/metrics` serves. The first call also starts Node's
 * default metrics (event loop lag, heap, GC). Every lib registers its metrics here.
 */
export function metricsRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}

/** Sets the `app` label carried by every metric of this process. */
export function setMetricsApp(app: string): void {
  metricsRegistry().setDefaultLabels({ app });
}
