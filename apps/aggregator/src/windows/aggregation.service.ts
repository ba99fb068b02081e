import { Inject, Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  CompiledRule,
  EventOutcome,
  SourceEvent,
  WindowRow,
  applyContributions,
  closeDue,
  planContributions,
  validateEvent,
  windowsTouched,
} from '@choreo/aggregation';
import { ConsumerGroups, EventEnvelope } from '@choreo/contracts';
import { Database } from '@choreo/persistence';
import { aggregatorMetrics } from './aggregator.metrics';
import { ResultWriter } from './result-writer';
import { RuleSet } from './rule-set';
import { WindowStore } from './window.store';

/** The inbox consumer name (and consumer group) of the aggregator. */
export const AGGREGATOR_CONSUMER = ConsumerGroups.aggregator;

export const AGGREGATION_SETTINGS = Symbol('AggregationSettings');

export interface AggregationServiceSettings {
  /** Events applied in one transaction at most. */
  batchMax: number;
}

interface Submitted {
  event: SourceEvent;
  source: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

type Outcome = EventOutcome | 'duplicate';

/** The envelope as the engine reads it: event time in epoch milliseconds. */
export function sourceEvent(event: EventEnvelope): SourceEvent {
  return {
    id: event.id,
    type: event.type,
    time: Date.parse(event.time),
    ...(event.subject !== undefined && { subject: event.subject }),
    data: event.data,
  };
}

/**
 * Applies stream events to the rules' windows, exactly once. Events handed in while a transaction runs
 * queue up and go together in the next one: claim their ids in the inbox, move the windows, rows and
 * spans, record late contributions and the results' outbox events, advance the watermark — one commit.
 * Each submit resolves after its batch committed, so the transport acknowledges the entry only then; a
 * crash before the commit leaves it pending, and a redelivery after finds its id claimed.
 */
@Injectable()
export class AggregationService {
  private readonly queue: Submitted[] = [];
  private draining = false;

  constructor(
    private readonly rules: RuleSet,
    @Inject(AGGREGATION_SETTINGS) private readonly settings: AggregationServiceSettings,
    private readonly db: Database,
    private readonly store: WindowStore,
    private readonly writer: ResultWriter,
  ) {}

  /**
   * Resolves once the event is applied and committed. Rejects at once, claiming nothing, when a rule
   * cannot take it (RuleEventError: the transport retries, then dead-letters it with the reason).
   */
  submit(envelope: EventEnvelope, source: string): Promise<void> {
    const event = sourceEvent(envelope);
    const rules = (this.rules.bySource.get(source) ?? []).filter((r) => r.types.has(event.type));
    if (rules.length === 0) return Promise.resolve();
    try {
      for (const rule of rules) validateEvent(rule, event);
    } catch (error) {
      for (const rule of rules) aggregatorMetrics().events.inc({ rule: rule.name, outcome: 'failed' });
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, source, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    // Let the handlers of the entries read together submit before the first transaction starts.
    await nextTurn();
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.settings.batchMax);
      try {
        await this.applyBatch(batch);
        for (const item of batch) item.resolve();
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    this.draining = false;
  }

  private async applyBatch(batch: readonly Submitted[]): Promise<void> {
    const started = performance.now();
    const tallies = await this.db.transaction(
      async (tx) => {
        const tally: [string, Outcome][] = [];
        const bySource = new Map<string, SourceEvent[]>();
        for (const item of batch)
          bySource.set(item.source, [...(bySource.get(item.source) ?? []), item.event]);
        const clocks = await this.store.lockSources(tx, [...bySource.keys()]);
        const fresh = await this.store.claimEvents(
          tx,
          AGGREGATOR_CONSUMER,
          batch.map((b) => b.event.id),
        );
        for (const [source, delivered] of bySource) {
          const rules = this.rules.bySource.get(source) ?? [];
          const events: SourceEvent[] = [];
          for (const event of delivered) {
            // Claimed now (and once, should the batch hold the same id twice), or applied before.
            if (fresh.delete(event.id)) events.push(event);
            else
              for (const rule of rules) if (rule.types.has(event.type)) tally.push([rule.name, 'duplicate']);
          }
          if (events.length === 0) continue;
          const watermark = clocks.get(source)?.watermark ?? -Infinity;
          const next = Math.max(watermark, ...events.map((e) => e.time));
          for (const rule of rules) {
            const mine = events.filter((e) => rule.types.has(e.type));
            if (mine.length > 0) tally.push(...(await this.applyRule(tx, rule, mine, watermark)));
            await this.closeDue(tx, rule, next);
          }
          await this.store.saveSource(tx, source, next, true);
        }
        return tally;
      },
      { retries: 3 },
    );
    const metrics = aggregatorMetrics();
    for (const [rule, outcome] of tallies) metrics.events.inc({ rule, outcome });
    metrics.batchEvents.observe(batch.length);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
  }

  private async applyRule(
    tx: PoolClient,
    rule: CompiledRule,
    events: readonly SourceEvent[],
    watermark: number,
  ): Promise<[string, Outcome][]> {
    const subjects = events.flatMap((e) => (e.subject === undefined ? [] : [e.subject]));
    const truncates = events.some((e) => e.type.endsWith('.truncated'));
    const rows = rule.retracts
      ? await this.store.loadRows(tx, rule.name, truncates ? undefined : subjects)
      : new Map();
    const spans = rule.span ? await this.store.loadSpans(tx, rule.name, subjects) : new Map();
    const plan = planContributions(rule, events, rows, spans);
    let windows: Map<string, WindowRow>;
    if (rule.window.type === 'session') {
      const times = plan.items.map((i) => i.contribution.time);
      windows = await this.store.loadSessions(
        tx,
        rule.name,
        plan.items.map((i) => i.contribution.key),
        Math.min(...times),
        Math.max(...times) + rule.window.gapMs,
      );
    } else {
      windows = await this.store.loadWindows(tx, rule.name, windowsTouched(rule, plan.items));
    }
    const applied = applyContributions(rule, plan.items, windows, watermark);
    await this.store.deleteWindows(
      tx,
      rule.name,
      [...applied.removed].map((id) => {
        const at = id.indexOf('|');
        return { start: Number(id.slice(0, at)), key: id.slice(at + 1) };
      }),
    );
    const touched = [...applied.touched].map((id) => windows.get(id) as WindowRow);
    await this.store.saveWindows(tx, rule, touched);
    if (rule.retracts) await this.store.saveRows(tx, rule.name, rows, plan.changedRows);
    if (rule.span) await this.store.saveSpans(tx, rule.name, spans, plan.changedSpans);
    await this.store.recordLate(tx, rule.name, applied.late);
    await this.writer.publish(tx, rule, touched, this.rules.outputs.get(rule.name));
    if (applied.late.length > 0) aggregatorMetrics().late.inc({ rule: rule.name }, applied.late.length);
    // An event all of whose contributions came late counts as late.
    const late = new Set(applied.late.map((l) => l.eventId));
    return [...plan.outcomes].map(([id, outcome]): [string, Outcome] => [
      rule.name,
      outcome === 'applied' && late.has(id) && !applied.counted.has(id) ? 'late' : outcome,
    ]);
  }

  /** Closes the rule's open windows the watermark has passed (end + lateness), publishing each once. */
  async closeDue(tx: PoolClient, rule: CompiledRule, watermark: number): Promise<number> {
    // The global window never closes.
    if (!Number.isFinite(watermark) || rule.window.type === 'global') return 0;
    const closed = closeDue(rule, await this.store.loadDue(tx, rule, watermark), watermark);
    await this.store.saveWindows(tx, rule, closed);
    await this.writer.publish(tx, rule, closed, this.rules.outputs.get(rule.name));
    return closed.length;
  }
}
