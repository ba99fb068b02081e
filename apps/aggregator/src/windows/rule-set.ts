import { AggregationRuleError, CompiledRule, RuleProblem, loadAggregationRules } from '@choreo/aggregation';
import { EntityCatalog, EntityModel, loadEntities } from '@choreo/entities';

/** The loaded rules, by source and name, and the entities their results are written to. */
export class RuleSet {
  readonly byName: ReadonlyMap<string, CompiledRule>;
  readonly bySource: ReadonlyMap<string, readonly CompiledRule[]>;

  constructor(
    readonly rules: readonly CompiledRule[],
    readonly outputs: ReadonlyMap<string, EntityModel> = new Map(),
  ) {
    this.byName = new Map(rules.map((r) => [r.name, r]));
    const bySource = new Map<string, CompiledRule[]>();
    for (const rule of rules) bySource.set(rule.source, [...(bySource.get(rule.source) ?? []), rule]);
    this.bySource = bySource;
  }

  /** Every stream some rule reads. */
  get sources(): string[] {
    return [...this.bySource.keys()].sort();
  }

  /** Every event type some rule counts. */
  get types(): string[] {
    return [...new Set(this.rules.flatMap((r) => [...r.types]))].sort();
  }
}

/** The columns an output entity may have besides its text primary key; window_start is required. */
function outputProblems(rule: CompiledRule, entity: EntityModel | undefined): string | undefined {
  if (!entity) return `output.entity: no entity '${rule.output?.entity}' in the entity definitions`;
  if (entity.primaryKey.type !== 'text') return `output.entity: ${entity.name} needs primaryKey type text`;
  if (!entity.fields.has('window_start')) return `output.entity: ${entity.name} needs a window_start field`;
  const wanted = [...rule.measures.map(([name]) => name), ...rule.groupBy];
  const missing = wanted.filter((name) => !entity.fields.has(name));
  if (missing.length > 0) return `output.entity: ${entity.name} has no field ${missing.join(', ')}`;
  return undefined;
}

/**
 * Loads every rule (`dir`/*.yaml and the entities' `aggregations:`) and checks their output entities.
 * Throws an ActionableError naming file and path of each problem.
 */
export function loadRuleSet(aggregationsDir: string, entitiesDir: string): RuleSet {
  const catalog: EntityCatalog = loadEntities(entitiesDir);
  const rules = loadAggregationRules(
    aggregationsDir,
    catalog
      .all()
      .filter((m) => (m.definition.aggregations ?? []).length > 0)
      .map((m) => ({ entity: m.name, file: m.file, rules: m.definition.aggregations ?? [] })),
  );
  const problems: RuleProblem[] = [];
  const outputs = new Map<string, EntityModel>();
  for (const rule of rules) {
    if (!rule.output) continue;
    const entity = catalog.has(rule.output.entity) ? catalog.get(rule.output.entity) : undefined;
    const problem = outputProblems(rule, entity);
    if (problem) problems.push({ file: rule.file, path: rule.name, message: problem });
    else if (entity) outputs.set(rule.name, entity);
  }
  if (problems.length > 0) throw new AggregationRuleError(problems);
  return new RuleSet(rules, outputs);
}
