import { parseDuration } from './duration';
import type { AggregationRuleDefinition, ConditionDefinition, MeasureDefinition } from './rule';

/** A window in milliseconds. */
export type WindowSpec =
  | { type: 'tumbling'; sizeMs: number }
  | { type: 'hopping'; sizeMs: number; slideMs: number }
  | { type: 'session'; gapMs: number }
  | { type: 'global' };

/** A rule ready to run: durations in milliseconds, defaults filled in. */
export interface CompiledRule {
  name: string;
  description?: string;
  /** The stream read. */
  source: string;
  /** `cdc.*` sources: row changes that retract. */
  retracts: boolean;
  types: ReadonlySet<string>;
  where: readonly ConditionDefinition[];
  span?: { from: string; to: string };
  window: WindowSpec;
  groupBy: readonly string[];
  measures: readonly (readonly [string, MeasureDefinition])[];
  emit: 'updates' | 'final';
  latenessMs: number;
  output?: { entity: string };
  /** The file it was declared in. */
  file: string;
}

/** One thing wrong with a rule: `aggregations/orders.yaml: rules[0].window.size: …`. */
export interface RuleProblem {
  file: string;
  path: string;
  message: string;
}

/**
 * Checks what the schema cannot (cross-field rules) and compiles. `at` is the rule's path in its file
 * (`rules[2]`, `aggregations[0]`), `entity` the entity whose file declares it, if any.
 */
export function compileRule(
  rule: AggregationRuleDefinition,
  file: string,
  at: string,
  entity?: string,
): { rule: CompiledRule } | { problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const problem = (path: string, message: string) => problems.push({ file, path: `${at}.${path}`, message });
  const source = rule.source ?? (entity ? `cdc.${entity}` : undefined);
  if (!source) problem('source', 'is required outside an entity file');
  const retracts = source?.startsWith('cdc.') ?? false;
  const table = retracts ? source?.slice(4) : undefined;
  let types = rule.types;
  if (rule.span) {
    if (retracts) problem('span', 'pairs events of a domain stream; a cdc source retracts rows instead');
    if (rule.types) problem('types', 'a span rule reads span.from and span.to; leave types out');
    types = [rule.span.from, rule.span.to];
  }
  if (!types && retracts)
    types = ['inserted', 'updated', 'deleted', 'truncated'].map((op) => `${table}.${op}`);
  if (!types && source) problem('types', 'is required for a domain stream (which event types count)');
  if (retracts && rule.window.type === 'session') {
    problem('window.type', 'session windows cannot retract row changes; use tumbling, hopping or global');
  }
  if (rule.window.type === 'hopping' && parseDuration(rule.window.slide) > parseDuration(rule.window.size)) {
    problem('window.slide', 'must not be longer than size (events between windows would count nowhere)');
  }
  for (const key of ['size', 'slide', 'gap'] as const) {
    const value = (rule.window as Partial<Record<typeof key, string>>)[key];
    if (value !== undefined && parseDuration(value) === 0) problem(`window.${key}`, 'must be longer than 0');
  }
  for (const [name, measure] of Object.entries(rule.measures)) {
    if (measure.fn !== 'count' && !measure.field)
      problem(`measures.${name}.field`, `is required for ${measure.fn}`);
    if (measure.separator !== undefined && measure.fn !== 'string_agg') {
      problem(`measures.${name}.separator`, 'applies to string_agg only');
    }
  }
  rule.where?.forEach((c, i) => {
    const op = c.op ?? 'eq';
    if (op === 'exists' && c.value !== undefined) problem(`where[${i}].value`, 'exists takes no value');
    if (op !== 'exists' && c.value === undefined) problem(`where[${i}].value`, `is required for ${op}`);
    if (op === 'in' && !Array.isArray(c.value)) problem(`where[${i}].value`, 'must be a list for in');
    if (op !== 'in' && Array.isArray(c.value))
      problem(`where[${i}].value`, `must be a single value for ${op}`);
  });
  if (problems.length > 0 || !source || !types) return { problems };
  return {
    rule: {
      name: rule.name,
      ...(rule.description !== undefined && { description: rule.description }),
      source,
      retracts,
      types: new Set(types),
      where: rule.where ?? [],
      ...(rule.span && { span: rule.span }),
      window: compileWindow(rule.window),
      groupBy: rule.groupBy ?? [],
      measures: Object.entries(rule.measures),
      emit: rule.emit ?? 'updates',
      latenessMs: rule.lateness ? parseDuration(rule.lateness) : 0,
      ...(rule.output && { output: rule.output }),
      file,
    },
  };
}

function compileWindow(window: AggregationRuleDefinition['window']): WindowSpec {
  switch (window.type) {
    case 'tumbling':
      return { type: 'tumbling', sizeMs: parseDuration(window.size) };
    case 'hopping':
      return { type: 'hopping', sizeMs: parseDuration(window.size), slideMs: parseDuration(window.slide) };
    case 'session':
      return { type: 'session', gapMs: parseDuration(window.gap) };
    case 'global':
      return { type: 'global' };
  }
}
