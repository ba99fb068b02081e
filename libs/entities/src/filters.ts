import { EntityModel } from './entity-model';
import { FieldDefinition, RESERVED_QUERY_WORDS } from './field-definition';
import { FilterColumn, operatorCondition } from './filter-operators';
import { QueryInput, StatementBuilder, splitList } from './query-syntax';

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
/** What a filter is parsed against: the entity, its columns, and the statement it adds to. */
interface FilterScope {
  model: EntityModel;
  columns: Map<string, FilterColumn>;
  sql: StatementBuilder;
}

/** `(a.eq.1,and(b.gt.2,c.is.null))` joined by `joiner`; `label` names the parameter in problems. */
function filterTree(
  text: string,
  joiner: 'AND' | 'OR',
  label: string,
  scope: FilterScope,
  depth = 0,
): string | undefined {
  const match = /^\((.*)\)$/s.exec(text);
  if (!match) {
    scope.sql.problems.push({
      field: label,
      message: 'expected a list in parentheses, e.g. (a.eq.1,b.gt.2)',
    });
    return undefined;
  }
  if (depth > 8) {
    scope.sql.problems.push({ field: label, message: 'nested more than 8 levels deep' });
    return undefined;
  }
  const parts: string[] = [];
  for (const item of splitList(match[1], true)) {
    const logic = /^(not\.)?(and|or)(\(.*\))$/s.exec(item);
    let condition: string | undefined;
    if (logic) {
      condition = filterTree(logic[3], logic[2] === 'and' ? 'AND' : 'OR', label, scope, depth + 1);
      if (condition !== undefined && logic[1]) condition = `NOT ${condition}`;
    } else {
      const dot = item.indexOf('.');
      const column = dot > 0 ? scope.columns.get(item.slice(0, dot)) : undefined;
      if (!column) {
        const name = dot > 0 ? item.slice(0, dot) : item;
        scope.sql.problems.push({ field: label, message: `'${name}' is not a field of ${scope.model.name}` });
        continue;
      }
      condition = operatorCondition(column, item.slice(dot + 1), label, true, scope.sql);
    }
    if (condition !== undefined) parts.push(condition);
  }
  if (parts.length === 0) return undefined;
  return `(${parts.join(` ${joiner} `)})`;
}

/** Query keys that are not filters; a field may not take one of these names (see field-definition.ts). */
export const NON_FILTER_KEYS = new Set<string>(RESERVED_QUERY_WORDS.filter((w) => w !== 'or' && w !== 'and'));

/**
 * The WHERE conditions of a request, PostgREST style: `field=[not.]op[(any|all)].value` (repeat to
 * AND), `or=(…)`, `and=(…)`, `not.or=(…)`, `not.and=(…)`. Problems are pushed on `sql`, each
 * naming its parameter; user text only ever becomes parameter values.
 */
export function filterConditions(model: EntityModel, input: QueryInput, sql: StatementBuilder): string[] {
  const columns = filterableColumns(model);
  const scope: FilterScope = { model, columns, sql };
  const conditions: string[] = [];
  for (const [key, raw] of Object.entries(input)) {
    if (raw === undefined || NON_FILTER_KEYS.has(key)) continue;
    const logic = /^(not\.)?(and|or)$/.exec(key);
    for (const expression of Array.isArray(raw) ? raw : [raw]) {
      let condition: string | undefined;
      if (logic && !columns.has(key)) {
        condition = filterTree(expression, logic[2] === 'and' ? 'AND' : 'OR', key, scope);
        if (condition !== undefined && logic[1]) condition = `NOT ${condition}`;
      } else {
        const column = columns.get(key);
        if (!column) {
          sql.problems.push({ field: key, message: `unknown field of ${model.name}` });
          break;
        }
        condition = operatorCondition(column, expression, key, false, sql);
      }
      if (condition !== undefined) conditions.push(condition);
    }
  }
  return conditions;
}
