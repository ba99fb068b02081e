import { metricsRegistry } from '@choreo/observability';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JourneyStore } from '../schedule/journey-store';
import type { DispatchObserver } from '../schedule/step-dispatcher';

/**
 * The simulator's metrics: journeys in flight and steps waiting (read from Redis at scrape time, so
 * every replica reports the shared figure), steps published by type, and how late steps go out.
 */
export class SimulatorMetrics implements DispatchObserver {
  private readonly stepsPublished: Counter<'type'>;
  private readonly stepLag: Histogram;
  private readonly dispatchFailures: Counter;

  constructor(
    store: JourneyStore,
    private readonly onFailure: (error: Error) => void,
    registry: Registry = metricsRegistry(),
  ) {
    const fresh = <T>(name: string, make: () => T): T => {
      registry.removeSingleMetric(name); // a second app in one process (a test) replaces the first
      return make();
    };
    const registers = [registry];
    fresh(
      'simulator_journeys_in_flight',
      () =>
        new Gauge({
          name: 'simulator_journeys_in_flight',
          help: 'Journeys started and not yet ended (order delivered or cancelled), across replicas',
          registers,
          async collect() {
            this.set(await store.inFlight());
          },
        }),
    );
    fresh(
      'simulator_steps_scheduled',
      () =>
        new Gauge({
          name: 'simulator_steps_scheduled',
          help: 'Journey steps waiting in the schedule, across replicas',
          registers,
          async collect() {
            this.set(await store.scheduledSteps());
          },
        }),
    );
    fresh(
      'simulator_schedule_behind_seconds',
      () =>
        new Gauge({
          name: 'simulator_schedule_behind_seconds',
          help: 'How long the earliest waiting step is overdue (0 when none is): the schedule lag now',
          registers,
          async collect() {
            const next = await store.nextDueAt();
            this.set(next === undefined ? 0 : Math.max(0, (Date.now() - next) / 1000));
          },
        }),
    );
    this.stepsPublished = fresh(
      'simulator_steps_published_total',
      () =>
        new Counter({
          name: 'simulator_steps_published_total',
          help: 'Journey steps published by this replica, by event type',
          labelNames: ['type'],
          registers,
        }),
    );
    this.stepLag = fresh(
      'simulator_step_lag_seconds',
      () =>
        new Histogram({
          name: 'simulator_step_lag_seconds',
          help: 'How long after its due time each step was published',
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
          registers,
        }),
    );
    this.dispatchFailures = fresh(
      'simulator_dispatch_failures_total',
      () =>
        new Counter({
          name: 'simulator_dispatch_failures_total',
          help: 'Rounds of the step dispatcher that failed (Redis away, a stream that refused a step)',
          registers,
        }),
    );
  }

  published(type: string, lagMs: number): void {
    this.stepsPublished.inc({ type });
    this.stepLag.observe(Math.max(0, lagMs) / 1000);
  }

  failed(error: Error): void {
    this.dispatchFailures.inc();
    this.onFailure(error);
  }
}
