import type { FieldProblem } from '@choreo/http';
import { FieldDefinition, RESERVED_QUERY_WORDS } from './definition';
import { EntityModel, NUL_MESSAGE, SqlValue, parseOperand, quoteIdent } from './entity-model';

/** The query string as the HTTP layer hands it over: repeated keys become arrays. */
export type QueryInput = Record<string, string | string[] | undefined>;

/** PostgREST's operators that choreo serves (the range operators need range columns, which choreo has none of). */
export const FILTER_OPERATORS = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'like',
  'ilike',
  'match',
  'imatch',
  'in',
  'is',
  'isdistinct',
  'cs',
  'cd',
  'fts',
  'plfts',
  'phfts',
  'wfts',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

const RANGE_OPERATORS = new Set(['sl', 'sr', 'nxr', 'nxl', 'adj', 'ov']);

const COMPARISON: Partial<Record<FilterOperator, string>> = {
  eq: '=',
  neq: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  like: 'LIKE',
  ilike: 'ILIKE',
  match: '~',
  imatch: '~*',
};

const TEXT_SEARCH: Partial<Record<FilterOperator, string>> = {
  fts: 'to_tsquery',
  plfts: 'plainto_tsquery',
  phfts: 'phraseto_tsquery',
  wfts: 'websearch_to_tsquery',
};

/** A column a request may filter, order or select by, with a field type to parse operands. */
export interface FilterColumn {
  name: string;
  sqlType: string;
  notNull: boolean;
  field: FieldDefinition;
}

/** Every filterable column of an entity, system columns included. */
export function filterableColumns(model: EntityModel): Map<string, FilterColumn> {
  const columns = new Map<string, FilterColumn>();
  for (const column of model.columns) {
    let field = column.field;
    if (!field) {
      const type =
        column.name === 'version'
          ? 'integer'
          : column.kind === 'system'
            ? 'timestamp'
            : model.primaryKey.type;
      field = { type } as FieldDefinition;
    }
    columns.set(column.name, { name: column.name, sqlType: column.sqlType, notNull: column.notNull, field });
  }
  return columns;
}

/** SQL text under construction: every user value becomes a `$n` parameter. */
export class StatementBuilder {
  readonly values: SqlValue[] = [];
  readonly problems: FieldProblem[] = [];

  param(value: SqlValue | SqlValue[], columnType: string): string {
    this.values.push(value as SqlValue);
    // The base type: numeric(12,2) would round a filter operand before comparing.
    const sqlType = columnType.replace(/\(.*\)$/, '');
    return `$${this.values.length}::${Array.isArray(value) ? `${sqlType}[]` : sqlType}`;
  }
}

/**
 * Splits `a,b,"c,d"` into items; double quotes protect commas and parentheses, a backslash the
 * next character inside quotes. With `nested`, commas inside parentheses do not split either.
 */
export function splitList(text: string, nested = false): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  let wasQuoted = false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\' && i + 1 < text.length) current += nested ? ch + text[++i] : text[++i];
      else if (ch === '"') {
        quoted = false;
        if (nested) current += ch;
      } else current += ch;
    } else if (ch === '"') {
      quoted = true;
      wasQuoted = true;
      if (nested) current += ch;
    } else if (nested && (ch === '(' || ch === '{')) {
      depth++;
      current += ch;
    } else if (nested && (ch === ')' || ch === '}')) {
      depth--;
      current += ch;
    } else if (ch === ',' && depth <= 0) {
      items.push(wasQuoted && !nested ? current : current.trim());
      current = '';
      wasQuoted = false;
    } else {
      current += ch;
    }
  }
  items.push(wasQuoted && !nested ? current : current.trim());
  return items;
}

/** `"a,b"` → `a,b` (a backslash keeps the next character); anything else unchanged. */
function unquote(text: string): string {
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return text;
  return text.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** Why a LIKE pattern cannot run, if it cannot: PostgreSQL refuses a trailing lone escape. */
export function likePatternProblem(pattern: string): string | undefined {
  const trailing = /\\+$/.exec(pattern)?.[0].length ?? 0;
  if (trailing % 2 === 1) return 'a LIKE pattern cannot end with a lone backslash (escape it as \\\\)';
  return undefined;
}

class FilterParser {
  constructor(
    private readonly model: EntityModel,
    private readonly columns: Map<string, FilterColumn>,
    private readonly sql: StatementBuilder,
  ) {}

  /** `col=[not.]op[(any|all)].value` → a condition, or undefined with a named problem. */
  column(column: FilterColumn, expression: string, label: string, inTree: boolean): string | undefined {
    const fail = (message: string) => {
      this.sql.problems.push({ field: label, message });
      return undefined;
    };
    let rest = expression;
    let negated = false;
    if (rest.startsWith('not.')) {
      negated = true;
      rest = rest.slice(4);
    }
    const match = /^([a-z]+)(?:\((any|all|[a-z_]+)\))?\.(.*)$/s.exec(rest);
    if (!match)
      return fail(`expected operator.value, e.g. eq.something (operators: ${FILTER_OPERATORS.join(', ')})`);
    const [, name, modifier, rawOperand] = match;
    if (RANGE_OPERATORS.has(name))
      return fail(`${name} needs a range or array field, and ${column.name} is not one`);
    if (!(FILTER_OPERATORS as readonly string[]).includes(name))
      return fail(`unknown operator '${name}' (one of ${FILTER_OPERATORS.join(', ')})`);
    const operator = name as FilterOperator;
    const operand = inTree ? unquote(rawOperand) : rawOperand;
    const condition = this.condition(column, operator, modifier, operand, label, fail);
    if (condition === undefined) return undefined;
    return negated ? `NOT (${condition})` : condition;
  }

  private condition(
    column: FilterColumn,
    operator: FilterOperator,
    modifier: string | undefined,
    operand: string,
    label: string,
    fail: (message: string) => undefined,
  ): string | undefined {
    const type = column.field.type;
    const ident = quoteIdent(column.name);
    const isText = type === 'text' || type === 'enum';
    const parse = (text: string): SqlValue | undefined => {
      const parsed = parseOperand(column.field, text, label);
      if ('problem' in parsed) {
        this.sql.problems.push(parsed.problem);
        return undefined;
      }
      return parsed.value;
    };
    const textSearch = TEXT_SEARCH[operator];
    if (modifier !== undefined && textSearch === undefined) {
      if (modifier !== 'any' && modifier !== 'all') return fail(`(${modifier}) is not (any) or (all)`);
      if (COMPARISON[operator] === undefined) return fail(`${operator} takes no (any)/(all)`);
    }
    if (textSearch !== undefined && modifier !== undefined && !/^[a-z_]{1,63}$/.test(modifier))
      return fail('the text search configuration is a name such as english');
    if (
      (operator === 'like' || operator === 'ilike' || operator === 'match' || operator === 'imatch') &&
      !isText
    )
      return fail(`${operator} needs a text field`);
    if (type === 'jsonb' && !['eq', 'neq', 'is', 'isdistinct', 'cs', 'cd'].includes(operator))
      return fail(`${operator} is not available for jsonb fields`);
    if (type === 'boolean' && !['eq', 'neq', 'is', 'isdistinct', 'in'].includes(operator))
      return fail(`${operator} is not available for boolean fields`);

    switch (operator) {
      case 'is': {
        const keyword = {
          null: 'NULL',
          not_null: 'NOT NULL',
          true: 'TRUE',
          false: 'FALSE',
          unknown: 'UNKNOWN',
        }[operand.toLowerCase()];
        if (!keyword) return fail('is takes null, not_null, true, false or unknown');
        if (keyword !== 'NULL' && keyword !== 'NOT NULL' && type !== 'boolean')
          return fail(`is.${operand} needs a boolean field`);
        return `${ident} IS ${keyword}`;
      }
      case 'in': {
        const match = /^\((.*)\)$/s.exec(operand);
        if (!match) return fail('in takes a list in parentheses: in.(a,b,c)');
        if (type === 'jsonb') return fail('in is not available for jsonb fields');
        const parsed = (match[1] === '' ? [] : splitList(match[1])).map(parse);
        if (parsed.some((v) => v === undefined)) return undefined;
        return `${ident} = ANY(${this.sql.param(parsed as SqlValue[], column.sqlType)})`;
      }
      case 'cs':
      case 'cd': {
        if (type !== 'jsonb') return fail(`${operator} needs a jsonb field`);
        const value = parse(operand);
        return value === undefined
          ? undefined
          : `${ident} ${operator === 'cs' ? '@>' : '<@'} ${this.sql.param(value, 'jsonb')}`;
      }
      case 'isdistinct': {
        const value = parse(operand);
        return value === undefined
          ? undefined
          : `${ident} IS DISTINCT FROM ${this.sql.param(value, column.sqlType)}`;
      }
      default:
        break;
    }
    if (textSearch !== undefined) {
      if (type !== 'text') return fail(`${operator} needs a text field`);
      if (operand.includes('\0')) return fail(NUL_MESSAGE);
      const config = modifier === undefined ? '' : `${this.sql.param(modifier, 'regconfig')}, `;
      return `to_tsvector(${config}${ident}) @@ ${textSearch}(${config}${this.sql.param(operand, 'text')})`;
    }
    const sqlOperator = COMPARISON[operator] as string;
    const isPattern = operator === 'like' || operator === 'ilike';
    const valueOf = (text: string): SqlValue | undefined => {
      if (!isPattern && operator !== 'match' && operator !== 'imatch') return parse(text);
      if (text.includes('\0')) return fail(NUL_MESSAGE);
      // PostgREST's `*` wildcard saves URL-encoding `%`.
      const pattern = isPattern ? text.replace(/\*/g, '%') : text;
      const problem = isPattern ? likePatternProblem(pattern) : undefined;
      if (problem) return fail(problem);
      return pattern;
    };
    const textual = isPattern || operator === 'match' || operator === 'imatch';
    const castType = textual ? 'text' : column.sqlType;
    // An enum column compares as text with a pattern; a text column needs no cast (its index stays usable).
    const target = textual && type === 'enum' ? `${ident}::text` : ident;
    if (modifier !== undefined) {
      const list = /^\{(.*)\}$/s.exec(operand);
      if (!list) return fail(`${operator}(${modifier}) takes a list in braces: {a,b}`);
      const parsed = (list[1] === '' ? [] : splitList(list[1])).map(valueOf);
      if (parsed.some((v) => v === undefined)) return undefined;
      return `${target} ${sqlOperator} ${modifier.toUpperCase()}(${this.sql.param(parsed as SqlValue[], castType)})`;
    }
    const value = valueOf(operand);
    if (value === undefined) return undefined;
    return `${target} ${sqlOperator} ${this.sql.param(value, castType)}`;
  }

  /** `(a.eq.1,and(b.gt.2,c.is.null))` joined by `joiner`; `label` names the parameter in problems. */
  tree(text: string, joiner: 'AND' | 'OR', label: string, depth = 0): string | undefined {
    const match = /^\((.*)\)$/s.exec(text);
    if (!match) {
      this.sql.problems.push({
        field: label,
        message: 'expected a list in parentheses, e.g. (a.eq.1,b.gt.2)',
      });
      return undefined;
    }
    if (depth > 8) {
      this.sql.problems.push({ field: label, message: 'nested more than 8 levels deep' });
      return undefined;
    }
    const parts: string[] = [];
    for (const item of splitList(match[1], true)) {
      const logic = /^(not\.)?(and|or)(\(.*\))$/s.exec(item);
      let condition: string | undefined;
      if (logic) {
        condition = this.tree(logic[3], logic[2] === 'and' ? 'AND' : 'OR', label, depth + 1);
        if (condition !== undefined && logic[1]) condition = `NOT ${condition}`;
      } else {
        const dot = item.indexOf('.');
        const column = dot > 0 ? this.columns.get(item.slice(0, dot)) : undefined;
        if (!column) {
          const name = dot > 0 ? item.slice(0, dot) : item;
          this.sql.problems.push({ field: label, message: `'${name}' is not a field of ${this.model.name}` });
          continue;
        }
        condition = this.column(column, item.slice(dot + 1), label, true);
      }
      if (condition !== undefined) parts.push(condition);
    }
    if (parts.length === 0) return undefined;
    return `(${parts.join(` ${joiner} `)})`;
  }
}

/** Query keys that are not filters; a field may not take one of these names (see definition.ts). */
export const NON_FILTER_KEYS = new Set<string>(RESERVED_QUERY_WORDS.filter((w) => w !== 'or' && w !== 'and'));

/**
 * The WHERE conditions of a request, PostgREST style: `field=[not.]op[(any|all)].value` (repeat to
 * AND), `or=(…)`, `and=(…)`, `not.or=(…)`, `not.and=(…)`. Problems are pushed on `sql`, each
 * naming its parameter; user text only ever becomes parameter values.
 */
export function filterConditions(model: EntityModel, input: QueryInput, sql: StatementBuilder): string[] {
  const columns = filterableColumns(model);
  const parser = new FilterParser(model, columns, sql);
  const conditions: string[] = [];
  for (const [key, raw] of Object.entries(input)) {
    if (raw === undefined || NON_FILTER_KEYS.has(key)) continue;
    const logic = /^(not\.)?(and|or)$/.exec(key);
    for (const expression of Array.isArray(raw) ? raw : [raw]) {
      let condition: string | undefined;
      if (logic && !columns.has(key)) {
        condition = parser.tree(expression, logic[2] === 'and' ? 'AND' : 'OR', key);
        if (condition !== undefined && logic[1]) condition = `NOT ${condition}`;
      } else {
        const column = columns.get(key);
        if (!column) {
          sql.problems.push({ field: key, message: `unknown field of ${model.name}` });
          break;
        }
        condition = parser.column(column, expression, key, false);
      }
      if (condition !== undefined) conditions.push(condition);
    }
  }
  return conditions;
}
