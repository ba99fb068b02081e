import { FieldDefinition } from './definition';
import { EntityModel, SqlValue, parseOperand, quoteIdent } from './entity-model';
import { EntityError, FieldProblem } from './errors';

/** The query string as the HTTP layer hands it over: repeated keys become arrays. */
export type QueryInput = Record<string, string | string[] | undefined>;

export const FILTER_OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'in', 'is'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export interface ListLimits {
  /** Rows when `limit` is not given. */
  defaultLimit: number;
  /** A larger `limit` is capped to this. */
  maxLimit: number;
}

export const DEFAULT_LIST_LIMITS: ListLimits = { defaultLimit: 100, maxLimit: 1000 };

/** A SELECT built from a list request: SQL text whose identifiers come from the definition, values as parameters. */
export interface ListStatement {
  text: string;
  values: SqlValue[];
  limit: number;
  offset: number;
}

const COMPARISON: Record<Exclude<FilterOperator, 'in' | 'is' | 'like' | 'ilike'>, string> = {
  eq: '=',
  neq: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
};

interface Column {
  name: string;
  sqlType: string;
  field: FieldDefinition;
}

/** Every filterable column of an entity, system columns included, each with a type to parse operands. */
function filterableColumns(model: EntityModel): Map<string, Column> {
  const columns = new Map<string, Column>();
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
    columns.set(column.name, { name: column.name, sqlType: column.sqlType, field });
  }
  return columns;
}

/** Splits `a,b,"c,d"` into items; double quotes protect commas and parentheses. */
export function splitList(text: string): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\' && i + 1 < text.length) current += text[++i];
      else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') {
      quoted = true;
      wasQuoted = true;
    } else if (ch === ',') {
      items.push(wasQuoted ? current : current.trim());
      current = '';
      wasQuoted = false;
    } else {
      current += ch;
    }
  }
  items.push(wasQuoted ? current : current.trim());
  return items;
}

class StatementBuilder {
  readonly values: SqlValue[] = [];
  readonly problems: FieldProblem[] = [];

  param(value: SqlValue | SqlValue[], columnType: string): string {
    this.values.push(value as SqlValue);
    // The base type: numeric(12,2) would round a filter operand before comparing.
    const sqlType = columnType.replace(/\(.*\)$/, '');
    return `$${this.values.length}::${Array.isArray(value) ? `${sqlType}[]` : sqlType}`;
  }
}

function filterCondition(column: Column, expression: string, sql: StatementBuilder): string | undefined {
  const label = column.name;
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
  const dot = rest.indexOf('.');
  if (dot < 0)
    return fail(
      `expected operator.value, e.g. eq.${'something'} (operators: ${FILTER_OPERATORS.join(', ')})`,
    );
  const operator = rest.slice(0, dot) as FilterOperator;
  const operand = rest.slice(dot + 1);
  if (!FILTER_OPERATORS.includes(operator))
    return fail(`unknown operator '${operator}' (one of ${FILTER_OPERATORS.join(', ')})`);
  const type = column.field.type;
  const ident = quoteIdent(column.name);
  const parse = (text: string): SqlValue | undefined => {
    const parsed = parseOperand(column.field, text, label);
    if ('problem' in parsed) {
      sql.problems.push(parsed.problem);
      return undefined;
    }
    return parsed.value;
  };

  let condition: string;
  switch (operator) {
    case 'is': {
      const keyword = { null: 'NULL', true: 'TRUE', false: 'FALSE', unknown: 'UNKNOWN' }[operand];
      if (!keyword) return fail('is takes null, true, false or unknown');
      if (keyword !== 'NULL' && type !== 'boolean') return fail(`is.${operand} needs a boolean field`);
      condition = `${ident} IS ${keyword}`;
      break;
    }
    case 'in': {
      const match = /^\((.*)\)$/s.exec(operand);
      if (!match) return fail('in takes a list in parentheses: in.(a,b,c)');
      if (type === 'jsonb') return fail('in is not available for jsonb fields');
      const items = match[1] === '' ? [] : splitList(match[1]);
      const parsed = items.map(parse);
      if (parsed.some((v) => v === undefined)) return undefined;
      condition = `${ident} = ANY(${sql.param(parsed as SqlValue[], column.sqlType)})`;
      break;
    }
    case 'like':
    case 'ilike': {
      if (type !== 'text' && type !== 'enum') return fail(`${operator} needs a text field`);
      // PostgREST's `*` wildcard saves URL-encoding `%`.
      condition = `${ident} ${operator === 'like' ? 'LIKE' : 'ILIKE'} ${sql.param(operand.replace(/\*/g, '%'), 'text')}`;
      break;
    }
    default: {
      if (type === 'jsonb' && operator !== 'eq' && operator !== 'neq')
        return fail(`${operator} is not available for jsonb fields`);
      if (type === 'boolean' && operator !== 'eq' && operator !== 'neq')
        return fail(`${operator} is not available for boolean fields`);
      const value = parse(operand);
      if (value === undefined) return undefined;
      condition = `${ident} ${COMPARISON[operator]} ${sql.param(value, column.sqlType)}`;
    }
  }
  return negated ? `NOT (${condition})` : condition;
}

function single(input: QueryInput, key: string, problems: FieldProblem[]): string | undefined {
  const value = input[key];
  if (Array.isArray(value)) {
    problems.push({ field: key, message: 'given more than once' });
    return undefined;
  }
  return value;
}

function integerParam(text: string | undefined, key: string, problems: FieldProblem[]): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text)) {
    problems.push({ field: key, message: 'expected a non-negative integer' });
    return undefined;
  }
  return Number(text);
}

/**
 * Builds the SELECT of `GET /crud/:entity?…` (PostgREST style): `field=[not.]op.value` filters,
 * `order=field.asc|desc[.nullsfirst|.nullslast],…`, `select=a,b`, `limit` (capped), `offset`.
 * Throws EntityError('invalid') naming every bad parameter. User text only ever becomes
 * parameter values; identifiers are looked up in the definition.
 */
export function buildListStatement(
  model: EntityModel,
  input: QueryInput,
  limits: ListLimits = DEFAULT_LIST_LIMITS,
): ListStatement {
  const columns = filterableColumns(model);
  const sql = new StatementBuilder();
  const conditions: string[] = [];

  for (const [key, raw] of Object.entries(input)) {
    if (raw === undefined || key === 'order' || key === 'select' || key === 'limit' || key === 'offset')
      continue;
    const column = columns.get(key);
    if (!column) {
      sql.problems.push({ field: key, message: `unknown field of ${model.name}` });
      continue;
    }
    for (const expression of Array.isArray(raw) ? raw : [raw]) {
      const condition = filterCondition(column, expression, sql);
      if (condition) conditions.push(condition);
    }
  }

  let selected = '*';
  const select = single(input, 'select', sql.problems);
  if (select !== undefined) {
    const names = select.split(',').map((s) => s.trim());
    const unknown = names.filter((n) => !columns.has(n));
    if (unknown.length > 0 || names.length === 0) {
      sql.problems.push({
        field: 'select',
        message: `unknown field${unknown.length === 1 ? '' : 's'}: ${unknown.join(', ')}`,
      });
    } else {
      selected = [...new Set(names)].map(quoteIdent).join(', ');
    }
  }

  const orderBy: string[] = [];
  const order = single(input, 'order', sql.problems);
  if (order !== undefined) {
    for (const term of order.split(',')) {
      const [name, ...modifiers] = term.trim().split('.');
      if (!columns.has(name)) {
        sql.problems.push({ field: 'order', message: `unknown field '${name}'` });
        continue;
      }
      let direction = 'ASC';
      let nulls = '';
      for (const modifier of modifiers) {
        if (modifier === 'asc' || modifier === 'desc') direction = modifier.toUpperCase();
        else if (modifier === 'nullsfirst') nulls = ' NULLS FIRST';
        else if (modifier === 'nullslast') nulls = ' NULLS LAST';
        else
          sql.problems.push({
            field: 'order',
            message: `'${modifier}' is not asc, desc, nullsfirst or nullslast`,
          });
      }
      orderBy.push(`${quoteIdent(name)} ${direction}${nulls}`);
    }
  }
  // The primary key last makes the order total, so limit/offset pages neither repeat nor skip rows.
  orderBy.push(`${quoteIdent(model.primaryKey.name)} ASC`);

  const requested = integerParam(single(input, 'limit', sql.problems), 'limit', sql.problems);
  const offset = integerParam(single(input, 'offset', sql.problems), 'offset', sql.problems) ?? 0;
  if (sql.problems.length > 0) throw EntityError.invalid(sql.problems, 'query');
  const limit = Math.min(requested ?? limits.defaultLimit, limits.maxLimit);

  const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  const text =
    `SELECT ${selected} FROM ${quoteIdent(model.table)}${where} ORDER BY ${orderBy.join(', ')}` +
    ` LIMIT ${sql.param(limit, 'integer')} OFFSET ${sql.param(offset, 'integer')}`;
  return { text, values: sql.values, limit, offset };
}
