import { NUL_MESSAGE, parseOperand } from './field-values';
import { FieldDefinition } from './field-definition';
import { StatementBuilder, splitList, unquote } from './query-syntax';
import { SqlValue, quoteIdent } from './sql-text';

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

/** Why a LIKE pattern cannot run, if it cannot: PostgreSQL refuses a trailing lone escape. */
export function likePatternProblem(pattern: string): string | undefined {
  const trailing = /\\+$/.exec(pattern)?.[0].length ?? 0;
  if (trailing % 2 === 1) return 'a LIKE pattern cannot end with a lone backslash (escape it as \\\\)';
  return undefined;
}

/** `col=[not.]op[(any|all)].value` → a condition, or undefined with a named problem. */
export function operatorCondition(
  column: FilterColumn,
  expression: string,
  label: string,
  inTree: boolean,
  sql: StatementBuilder,
): string | undefined {
  const fail = (message: string) => {
    sql.problems.push({ field: label, message });
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
  const condition = operatorSql(column, operator, modifier, operand, label, fail, sql);
  if (condition === undefined) return undefined;
  return negated ? `NOT (${condition})` : condition;
}

/** The SQL of one operator over a column; user text only ever becomes parameter values. */
function operatorSql(
  column: FilterColumn,
  operator: FilterOperator,
  modifier: string | undefined,
  operand: string,
  label: string,
  fail: (message: string) => undefined,
  sql: StatementBuilder,
): string | undefined {
  const type = column.field.type;
  const ident = quoteIdent(column.name);
  const isText = type === 'text' || type === 'enum';
  const parse = (text: string): SqlValue | undefined => {
    const parsed = parseOperand(column.field, text, label);
    if ('problem' in parsed) {
      sql.problems.push(parsed.problem);
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
      return `${ident} = ANY(${sql.param(parsed as SqlValue[], column.sqlType)})`;
    }
    case 'cs':
    case 'cd': {
      if (type !== 'jsonb') return fail(`${operator} needs a jsonb field`);
      const value = parse(operand);
      return value === undefined
        ? undefined
        : `${ident} ${operator === 'cs' ? '@>' : '<@'} ${sql.param(value, 'jsonb')}`;
    }
    case 'isdistinct': {
      const value = parse(operand);
      return value === undefined
        ? undefined
        : `${ident} IS DISTINCT FROM ${sql.param(value, column.sqlType)}`;
    }
    default:
      break;
  }
  if (textSearch !== undefined) {
    if (type !== 'text') return fail(`${operator} needs a text field`);
    if (operand.includes('\0')) return fail(NUL_MESSAGE);
    const config = modifier === undefined ? '' : `${sql.param(modifier, 'regconfig')}, `;
    return `to_tsvector(${config}${ident}) @@ ${textSearch}(${config}${sql.param(operand, 'text')})`;
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
    return `${target} ${sqlOperator} ${modifier.toUpperCase()}(${sql.param(parsed as SqlValue[], castType)})`;
  }
  const value = valueOf(operand);
  if (value === undefined) return undefined;
  return `${target} ${sqlOperator} ${sql.param(value, castType)}`;
}
