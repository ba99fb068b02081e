import { Injectable } from '@nestjs/common';
import { AggregateClosed, AggregateUpdated } from '@choreo/contracts';
import { CompiledRule, WindowResult, WindowRow, windowResult } from '@choreo/aggregation';
import type { EntityModel } from '@choreo/entities';
import { Queryable, recordOutboxEvents } from '@choreo/persistence';

/** The outbox aggregate type of results; the cdc-relay routes it to the `aggregates` stream. */
export const RESULTS_AGGREGATE = 'aggregate';

/** The subject of a window's events and its output-entity row id: `<rule>:<key>@<start>`. */
export function resultSubject(result: WindowResult): string {
  return `${result.rule}:${JSON.stringify(result.key)}@${result.window_start}`;
}

/**
 * Publishes window results exactly once: each version as one outbox event in the batch's transaction
 * (the relay carries it to `aggregates`), and, for rules with an output entity, the row upserted there.
 */
@Injectable()
export class ResultWriter {
  async publish(
    tx: Queryable,
    rule: CompiledRule,
    windows: readonly WindowRow[],
    output: EntityModel | undefined,
  ): Promise<WindowResult[]> {
    const results = windows.map((w) => windowResult(rule, w));
    const emitted = results.filter((r) => r.final || rule.emit === 'updates');
    await recordOutboxEvents(
      tx,
      emitted.map((result) => {
        const definition = result.final ? AggregateClosed : AggregateUpdated;
        return {
          aggregate: RESULTS_AGGREGATE,
          type: definition.type,
          subject: resultSubject(result),
          sequence: result.version,
          data: definition.parse(result),
        };
      }),
      'aggregator',
    );
    // The newest version of each window (a batch may both update and close one).
    const latest = new Map(results.map((r) => [resultSubject(r), r]));
    if (output) await this.upsertOutput(tx, output, [...latest.values()]);
    return results;
  }

  private async upsertOutput(
    tx: Queryable,
    entity: EntityModel,
    results: readonly WindowResult[],
  ): Promise<void> {
    if (results.length === 0) return;
    const has = (name: string) => entity.fields.has(name);
    const columns = new Map<string, (r: WindowResult) => unknown>([
      [entity.primaryKey.name, resultSubject],
      ['window_start', (r) => r.window_start],
    ]);
    if (has('window_end')) columns.set('window_end', (r) => r.window_end);
    if (has('final')) columns.set('final', (r) => r.final);
    if (has('events')) columns.set('events', (r) => r.events);
    for (const name of Object.keys(results[0].values)) columns.set(name, (r) => r.values[name]);
    for (const name of Object.keys(results[0].group)) if (has(name)) columns.set(name, (r) => r.group[name]);
    const names = [...columns.keys()];
    // Identifiers come from validated definitions (lower_snake_case), values are parameters.
    const quoted = names.map((n) => `"${n}"`);
    const rows = results.map((r) => names.map((n) => (columns.get(n) as (r: WindowResult) => unknown)(r)));
    const values = rows.map((row, i) => `(${row.map((_, j) => `$${i * names.length + j + 1}`).join(', ')})`);
    await tx.query(
      `insert into "${entity.table}" (${quoted.join(', ')}) values ${values.join(', ')}
       on conflict ("${entity.primaryKey.name}") do update set
         ${quoted
           .slice(1)
           .map((q) => `${q} = excluded.${q}`)
           .join(', ')},
         version = "${entity.table}".version + 1, updated_at = now()`,
      rows.flat(),
    );
  }
}
