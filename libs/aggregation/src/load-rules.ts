import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ActionableError } from '@choreo/config';
import { CompiledRule, RuleProblem, compileRule } from './compiled-rule';
import { AggregationRuleDefinition, aggregationRulesFile } from './rule';
import { issuePath, readYamlDefinition } from './yaml-definition';

/** Every problem of every rule, so one start reports them all. */
export class AggregationRuleError extends ActionableError {
  constructor(readonly problems: RuleProblem[]) {
    super(
      `invalid aggregation rule${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  ${p.file}: ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n'),
    );
    this.name = 'AggregationRuleError';
  }
}

/** Parses and validates one `aggregations/*.yaml` text; `file` is how messages name it. */
export function parseRulesFile(
  text: string,
  file: string,
): { rules: CompiledRule[] } | { problems: RuleProblem[] } {
  const read = readYamlDefinition(text, file);
  if ('problems' in read) return read;
  const parsed = aggregationRulesFile.safeParse(read.value);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map((issue) => ({
        file,
        path: issuePath(issue.path),
        message: issue.message.replace(/^Invalid (input|option): /, ''),
      })),
    };
  }
  return compileAll(parsed.data.rules.map((rule, i) => ({ rule, file, at: `rules[${i}]` })));
}

/** Rules declared under `aggregations:` in an entity file (already schema-checked by the entity loader). */
export interface EntityRules {
  entity: string;
  file: string;
  rules: readonly AggregationRuleDefinition[];
}

/**
 * Loads every rule: each `*.yaml` of `dir` (a missing directory holds no rules) and the rules of the
 * entity files. Throws AggregationRuleError naming file and path of every problem, duplicate names too.
 */
export function loadAggregationRules(dir: string, entityRules: readonly EntityRules[] = []): CompiledRule[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir)
      .filter((n) => /\.ya?ml$/.test(n))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new AggregationRuleError([
        { file: dir, path: '', message: `cannot read: ${(error as Error).message}` },
      ]);
    }
  }
  const rules: CompiledRule[] = [];
  const problems: RuleProblem[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    const relative = path.relative(process.cwd(), full);
    const result = parseRulesFile(readFileSync(full, 'utf8'), relative.startsWith('..') ? full : relative);
    if ('problems' in result) problems.push(...result.problems);
    else rules.push(...result.rules);
  }
  for (const entity of entityRules) {
    const result = compileAll(
      entity.rules.map((rule, i) => ({
        rule,
        file: entity.file,
        at: `aggregations[${i}]`,
        entity: entity.entity,
      })),
    );
    if ('problems' in result) problems.push(...result.problems);
    else rules.push(...result.rules);
  }
  const seen = new Map<string, CompiledRule>();
  for (const rule of rules) {
    const first = seen.get(rule.name);
    if (first) {
      problems.push({
        file: rule.file,
        path: 'name',
        message: `'${rule.name}' is also declared in ${first.file}`,
      });
    } else seen.set(rule.name, rule);
  }
  if (problems.length > 0) throw new AggregationRuleError(problems);
  return rules;
}

function compileAll(
  items: readonly { rule: AggregationRuleDefinition; file: string; at: string; entity?: string }[],
): { rules: CompiledRule[] } | { problems: RuleProblem[] } {
  const rules: CompiledRule[] = [];
  const problems: RuleProblem[] = [];
  for (const item of items) {
    const result = compileRule(item.rule, item.file, item.at, item.entity);
    if ('problems' in result) problems.push(...result.problems);
    else rules.push(result.rule);
  }
  return problems.length > 0 ? { problems } : { rules };
}
