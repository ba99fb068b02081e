import type { ScheduledPublishRequest } from '@choreo/streams';
import { DueStep, JOURNEY_KEYS, JourneyStore } from './journey-store';

/** What the dispatcher needs of a publisher: StreamPublisher.publishScheduled. */
export interface ScheduledPublisher {
  publishScheduled(requests: readonly ScheduledPublishRequest[]): Promise<(string | null)[]>;
}

/** Where the dispatcher reports each step it published (metrics). */
export interface DispatchObserver {
  published(type: string, lagMs: number): void;
  failed(error: Error): void;
}

export interface StepDispatcherOptions {
  /** Longest sleep between looks at the schedule. Default 250 ms. */
  tickMs?: number;
  /** Steps published per round trip. Default 200. */
  batchSize?: number;
  now?: () => number;
}

/**
 * Publishes journey steps when they fall due. Every replica runs one; they share the schedule in
 * Redis, and publishScheduled lets exactly one of them publish each step. A step is published in due
 * order, with the time it really went out.
 */
export class StepDispatcher {
  private readonly tickMs: number;
  private readonly batchSize: number;
  private readonly now: () => number;
  private running?: Promise<void>;
  private stopped = false;
  private wake?: () => void;

  constructor(
    private readonly store: JourneyStore,
    private readonly publisher: ScheduledPublisher,
    private readonly observer: DispatchObserver,
    options: StepDispatcherOptions = {},
  ) {
    this.tickMs = options.tickMs ?? 250;
    this.batchSize = options.batchSize ?? 200;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.running ??= this.loop();
  }

  /** Finishes the batch in hand, then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  /** Looks at the schedule now rather than at the next tick (a step was just scheduled). */
  poke(): void {
    this.wake?.();
  }

  /** Publishes what is due now, one batch; resolves to how many steps were due. */
  async dispatchDue(): Promise<number> {
    const now = this.now();
    const due = await this.store.due(now, this.batchSize);
    const ready: (DueStep & { step: NonNullable<DueStep['step']> })[] = [];
    const stray: string[] = [];
    for (const d of due) {
      if (d.step) ready.push({ ...d, step: d.step });
      else stray.push(d.member);
    }
    await this.store.dropStray(stray);
    if (ready.length === 0) return due.length;
    const time = new Date(now).toISOString();
    const entryIds = await this.publisher.publishScheduled(
      ready.map(({ member, step }) => ({
        schedule: JOURNEY_KEYS.due,
        member,
        stream: step.stream,
        event: { ...step.event, time },
      })),
    );
    ready.forEach((d, i) => {
      if (entryIds[i] !== null) this.observer.published(d.step.event.type, now - d.dueAt);
    });
    await this.store.forget(ready);
    return due.length;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let due: number;
      try {
        due = await this.dispatchDue();
      } catch (error) {
        // Redis away or a step that cannot be appended: it stays scheduled; try again a tick later.
        this.observer.failed(error as Error);
        await this.sleep(this.tickMs);
        continue;
      }
      if (due >= this.batchSize || this.stopped) continue;
      const next = await this.store.nextDueAt().catch(() => undefined);
      const waitMs = next === undefined ? this.tickMs : Math.min(this.tickMs, Math.max(0, next - this.now()));
      if (waitMs > 0) await this.sleep(waitMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
