import { FieldDefinition, MAX_IDENTIFIER } from './field-definition';
import { quoteIdent, quoteLiteral, shortHash } from './sql-text';

/** The rules of a field the database enforces too, each a named CHECK constraint. */
export const CHECK_RULES = ['min', 'max', 'min_length', 'max_length', 'enum'] as const;
export type CheckRule = (typeof CHECK_RULES)[number];

/**
 * One CHECK constraint derived from a field's rule. The name ends in a hash of the expression, so
 * a changed bound is a new name: schema sync adds what is missing and drops managed names
 * (`isManagedCheck`) the definition no longer has, without parsing PostgreSQL's deparsed SQL.
 */
export interface CheckModel {
  name: string;
  column: string;
  rule: CheckRule;
  /** SQL boolean expression over the column, built from the definition only. */
  expression: string;
  /** The rule as the definition spells it: `min: 0`. */
  source: string;
  /** What a value breaking it is told, the same words as the app's validation. */
  message: string;
}

const MANAGED_CHECK = new RegExp(`_(${CHECK_RULES.join('|')})_[0-9a-f]{8}$`);

/** Whether a constraint name is one that schema sync derives from a definition (and may drop). */
export function isManagedCheck(name: string): boolean {
  return MANAGED_CHECK.test(name);
}

function checkName(table: string, column: string, rule: CheckRule, expression: string): string {
  const suffix = `_${rule}_${shortHash(expression)}`;
  return `${`${table}_${column}`.slice(0, MAX_IDENTIFIER - suffix.length)}${suffix}`;
}

/**
 * The CHECK constraints of a field: min/max, minLength/maxLength (in code points, as
 * `char_length` and JSON Schema count) and enum values. Not `pattern`: PostgreSQL's regular
 * expressions are POSIX AREs, not ECMAScript (`\b`, `\w`, `\d`, `.`, `\p{…}` differ), and a
 * constraint that disagrees with the app would refuse values the API accepted.
 */
export function fieldChecks(table: string, name: string, field: FieldDefinition): CheckModel[] {
  const ident = quoteIdent(name);
  const checks: Omit<CheckModel, 'name'>[] = [];
  const add = (rule: CheckRule, expression: string, source: string, message: string) =>
    checks.push({ column: name, rule, expression, source, message });
  switch (field.type) {
    case 'integer':
    case 'bigint':
    case 'decimal':
      if (field.min !== undefined)
        add('min', `${ident} >= ${field.min}`, `min: ${field.min}`, `must be >= ${field.min}`);
      if (field.max !== undefined)
        add('max', `${ident} <= ${field.max}`, `max: ${field.max}`, `must be <= ${field.max}`);
      break;
    case 'text':
      if (field.minLength !== undefined && field.minLength > 0)
        add(
          'min_length',
          `char_length(${ident}) >= ${field.minLength}`,
          `minLength: ${field.minLength}`,
          `must be at least ${field.minLength} characters`,
        );
      if (field.maxLength !== undefined)
        add(
          'max_length',
          `char_length(${ident}) <= ${field.maxLength}`,
          `maxLength: ${field.maxLength}`,
          `must be at most ${field.maxLength} characters`,
        );
      break;
    case 'enum':
      add(
        'enum',
        `${ident} IN (${field.values.map(quoteLiteral).join(', ')})`,
        `values: [${field.values.join(', ')}]`,
        `must be one of ${field.values.join(', ')}`,
      );
      break;
    default:
      break;
  }
  return checks.map((check) => ({ ...check, name: checkName(table, name, check.rule, check.expression) }));
}
