import { FieldDefinition, RESERVED_QUERY_WORDS } from './definition';
import { EntityModel, SqlValue, parseOperand, quoteIdent, shortHash } from './entity-model';
import type { FieldProblem } from '@choreo/http';
import { EntityError } from './errors';

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
  /** Identifies the entity and the total order of the rows; every cursor carries it. */
  orderFingerprint: string;
  /** Whether the request continued after a `cursor`. */
  afterCursor: boolean;
}

/**
 * Every listed row carries its sort-key values under this alias, as PostgreSQL's text, so the
 * cursor after the last row is exact (a JS Date would drop the microseconds of a timestamptz).
 * A field name cannot start with `_`, so it never hides a column; the repository removes it.
 */
export const CURSOR_COLUMN = '_cursor';

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
  notNull: boolean;
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
    columns.set(column.name, { name: column.name, sqlType: column.sqlType, notNull: column.notNull, field });
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

const LIST_WORDS = new Set<string>(RESERVED_QUERY_WORDS);

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
 * `order=field.asc|desc[.nullsfirst|.nullslast],…`, `select=a,b`, `limit` (capped), and `offset` or
 * `cursor` (keyset paging after the last row of the previous page, see `encodeCursor`).
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
    if (raw === undefined || LIST_WORDS.has(key)) continue;
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

  const terms: OrderTerm[] = [];
  const problemsBeforeOrder = sql.problems.length;
  const order = single(input, 'order', sql.problems);
  if (order !== undefined) {
    for (const term of order.split(',')) {
      const [name, ...modifiers] = term.trim().split('.');
      const column = columns.get(name);
      if (!column) {
        sql.problems.push({ field: 'order', message: `unknown field '${name}'` });
        continue;
      }
      let descending = false;
      let nulls: boolean | undefined;
      for (const modifier of modifiers) {
        if (modifier === 'asc' || modifier === 'desc') descending = modifier === 'desc';
        else if (modifier === 'nullsfirst' || modifier === 'nullslast') nulls = modifier === 'nullsfirst';
        else
          sql.problems.push({
            field: 'order',
            message: `'${modifier}' is not asc, desc, nullsfirst or nullslast`,
          });
      }
      terms.push({ column, descending, explicitNulls: nulls !== undefined, nullsFirst: nulls ?? descending });
    }
  }
  // The primary key last makes the order total, so pages neither repeat nor skip rows.
  const pk = columns.get(model.primaryKey.name);
  if (pk && !terms.some((term) => term.column === pk)) {
    terms.push({ column: pk, descending: false, explicitNulls: false, nullsFirst: false });
  }
  const orderFingerprint = shortHash(`${model.name}:${terms.map(normalTerm).join(',')}`);
  const orderValid = sql.problems.length === problemsBeforeOrder;

  const requested = integerParam(single(input, 'limit', sql.problems), 'limit', sql.problems);
  const offsetText = single(input, 'offset', sql.problems);
  const offset = integerParam(offsetText, 'offset', sql.problems) ?? 0;
  const cursorText = single(input, 'cursor', sql.problems);
  if (cursorText !== undefined) {
    if (offsetText !== undefined) {
      sql.problems.push({ field: 'cursor', message: 'cannot be combined with offset' });
    } else if (orderValid) {
      // (With a bad order there is no order to check the cursor against; that problem is named.)
      const keys = decodeCursor(cursorText, terms, orderFingerprint, sql.problems);
      if (keys) conditions.push(afterKeys(terms, keys, sql));
    }
  }
  if (sql.problems.length > 0) throw EntityError.invalid(sql.problems, 'query');
  const limit = Math.min(requested ?? limits.defaultLimit, limits.maxLimit);

  const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  const orderBy = terms.map(
    (t) =>
      `${quoteIdent(t.column.name)} ${t.descending ? 'DESC' : 'ASC'}${t.explicitNulls ? (t.nullsFirst ? ' NULLS FIRST' : ' NULLS LAST') : ''}`,
  );
  const cursorKeys = terms.map((t) => `${quoteIdent(t.column.name)}::text`).join(', ');
  // The cursor keys are computed over the page only: in one SELECT PostgreSQL would compute them for
  // every row it sorts (3-4x slower for 100 of 20,000 rows). The outer ORDER BY costs nothing, the
  // planner knows the page comes sorted, but it is what guarantees the order.
  const ordered = orderBy.join(', ');
  const page =
    `SELECT * FROM ${quoteIdent(model.table)}${where} ORDER BY ${ordered}` +
    ` LIMIT ${sql.param(limit, 'integer')} OFFSET ${sql.param(offset, 'integer')}`;
  const text = `SELECT ${selected}, ARRAY[${cursorKeys}] AS ${quoteIdent(CURSOR_COLUMN)} FROM (${page}) AS page ORDER BY ${ordered}`;
  return { text, values: sql.values, limit, offset, orderFingerprint, afterCursor: cursorText !== undefined };
}

interface OrderTerm {
  column: Column;
  descending: boolean;
  /** Where NULLs sort: PostgreSQL's default is last for ascending, first for descending. */
  nullsFirst: boolean;
  /** Whether the request said NULLS FIRST/LAST (the SQL repeats only what was asked). */
  explicitNulls: boolean;
}

/** `name.asc` and `name.asc.nullslast` are the same order, so they make the same fingerprint. */
function normalTerm(term: OrderTerm): string {
  return `${term.column.name}.${term.descending ? 'desc' : 'asc'}.${term.nullsFirst ? 'nullsfirst' : 'nullslast'}`;
}

/** The sort keys of a row, as PostgreSQL's text; null for a NULL. */
export type CursorKeys = (string | null)[];

interface CursorPayload {
  /** The order fingerprint. */
  o: string;
  /** The sort-key values of the last row of the previous page. */
  k: CursorKeys;
}

/** The opaque `cursor` that continues a list after the row whose sort keys are `keys`. */
export function encodeCursor(statement: Pick<ListStatement, 'orderFingerprint'>, keys: CursorKeys): string {
  const payload: CursorPayload = { o: statement.orderFingerprint, k: keys };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

/** The problem with a cursor that did not come from a Link header of this API. */
export const MALFORMED_CURSOR = 'malformed; pass the cursor of a Link header unchanged';

function decodeCursor(
  text: string,
  terms: OrderTerm[],
  fingerprint: string,
  problems: FieldProblem[],
): CursorKeys | undefined {
  let payload: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new Error('not base64url');
    payload = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    payload = undefined;
  }
  const candidate = payload as Partial<CursorPayload> | undefined;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.o !== 'string') {
    problems.push({ field: 'cursor', message: MALFORMED_CURSOR });
    return undefined;
  }
  if (candidate.o !== fingerprint) {
    problems.push({
      field: 'cursor',
      message: 'was made for another order (or entity); keep the order of the request that gave it',
    });
    return undefined;
  }
  const keys = candidate.k;
  // NULL only where the column can hold one: anything else did not come from us.
  if (
    !Array.isArray(keys) ||
    keys.length !== terms.length ||
    keys.some((key, i) => !(typeof key === 'string' || (key === null && !terms[i].column.notNull)))
  ) {
    problems.push({ field: 'cursor', message: MALFORMED_CURSOR });
    return undefined;
  }
  return keys as CursorKeys;
}

/**
 * The rows strictly after `keys` in the order of `terms`: keyset paging. Where every term runs the
 * same way over NOT NULL columns it is one row comparison, `(a, b) > ($1, $2)`, which a btree index
 * can serve; otherwise each term says "after" by itself, NULLs placed where ORDER BY puts them.
 */
function afterKeys(terms: OrderTerm[], keys: CursorKeys, sql: StatementBuilder): string {
  const params = keys.map((key, i) => (key === null ? null : sql.param(key, terms[i].column.sqlType)));
  const idents = terms.map((t) => quoteIdent(t.column.name));
  const sameWay = terms.every((t) => t.descending === terms[0].descending && t.column.notNull);
  if (sameWay) {
    const op = terms[0].descending ? '<' : '>';
    return terms.length === 1
      ? `${idents[0]} ${op} ${params[0]}`
      : `(${idents.join(', ')}) ${op} (${params.join(', ')})`;
  }
  let condition: string | undefined;
  for (let i = terms.length - 1; i >= 0; i--) {
    const term = terms[i];
    const ident = idents[i];
    const param = params[i];
    let after: string | undefined;
    if (param === null) {
      // Every NULL ties with this one: only the non-NULLs can follow, and only if NULLs come first.
      after = term.nullsFirst ? `${ident} IS NOT NULL` : undefined;
    } else {
      after = `${ident} ${term.descending ? '<' : '>'} ${param}`;
      if (!term.nullsFirst && !term.column.notNull) after = `(${after} OR ${ident} IS NULL)`;
    }
    if (condition === undefined) {
      condition = after ?? 'FALSE';
      continue;
    }
    const same = param === null ? `${ident} IS NULL` : `${ident} = ${param}`;
    const tied = `${same} AND ${condition}`;
    condition = after === undefined ? tied : `(${after} OR (${tied}))`;
  }
  return condition ?? 'TRUE';
}

/**
 * The RFC 8288 `Link` header value of the next page: the same request at `path` with `cursor`
 * instead of any `offset` or previous cursor.
 */
export function nextPageLink(path: string, input: QueryInput, cursor: string): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || key === 'cursor' || key === 'offset') continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
  }
  params.append('cursor', cursor);
  return `<${path}?${params.toString()}>; rel="next"`;
}
