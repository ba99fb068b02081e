import { EntityDefinition } from './definition';
import { FieldDefinition, MAX_IDENTIFIER } from './field-definition';
import {
  NamedQueryDefinition,
  QueryParameterDefinition,
  replaceQueryParameters,
  stripTrailingSemicolon,
} from './query-definition';
import { CheckModel, fieldChecks } from './check-constraints';
import { EntityError } from './errors';
import { quoteLiteral, shortHash, sqlTypeOf } from './sql-text';

/** One column of an entity table, as PostgreSQL's `format_type()` spells its type. */
export interface ColumnModel {
  name: string;
  sqlType: string;
  notNull: boolean;
  /** SQL default expression, built from the definition only (never from request input). */
  defaultSql?: string;
  kind: 'primary-key' | 'field' | 'system';
  /** For a field: its definition. */
  field?: FieldDefinition;
}

export interface IndexModel {
  name: string;
  columns: string[];
  method: 'btree' | 'gin';
  unique: boolean;
}

export interface QueryParameterModel {
  name: string;
  definition: QueryParameterDefinition;
  sqlType: string;
}

export interface NamedQueryModel {
  name: string;
  description?: string;
  /** The SQL with every `:name` replaced by a typed positional parameter (`($1::text)`). */
  text: string;
  /** Parameter names in positional order. */
  params: QueryParameterModel[];
}

export interface PrimaryKeyModel {
  name: string;
  type: 'uuid' | 'bigint' | 'text';
}

/** Everything derived from one definition: table, columns, indexes, validators, named queries. */
export interface EntityModel {
  name: string;
  table: string;
  description?: string;
  /** The definition file, for messages. */
  file: string;
  definition: EntityDefinition;
  primaryKey: PrimaryKeyModel;
  /** The declared fields, in definition order. */
  fields: Map<string, FieldDefinition>;
  /** Every column, primary key first, system columns last. */
  columns: ColumnModel[];
  indexes: IndexModel[];
  checks: CheckModel[];
  queries: Map<string, NamedQueryModel>;
}

function defaultSql(field: FieldDefinition): string | undefined {
  if (!('default' in field) || field.default === undefined) return undefined;
  switch (field.type) {
    case 'text':
    case 'enum':
      return quoteLiteral(field.default);
    case 'integer':
    case 'bigint':
    case 'decimal':
      return String(field.default);
    case 'boolean':
      return field.default ? 'true' : 'false';
    case 'timestamp':
      return 'now()';
    case 'date':
      return 'current_date';
    case 'jsonb':
      return `${quoteLiteral(JSON.stringify(field.default))}::jsonb`;
  }
}

function indexName(table: string, columns: string[], unique: boolean): string {
  const name = `${table}_${columns.join('_')}_${unique ? 'key' : 'idx'}`;
  return name.length <= MAX_IDENTIFIER ? name : `${name.slice(0, MAX_IDENTIFIER - 9)}_${shortHash(name)}`;
}

/** Builds the model of one validated definition. */
export function compileEntity(definition: EntityDefinition, file: string): EntityModel {
  const table = definition.name;
  const primaryKey: PrimaryKeyModel = {
    name: definition.primaryKey?.name ?? 'id',
    type: definition.primaryKey?.type ?? 'uuid',
  };
  const fields = new Map(Object.entries(definition.fields));
  const columns: ColumnModel[] = [
    {
      name: primaryKey.name,
      sqlType: primaryKey.type,
      notNull: true,
      kind: 'primary-key',
      // The app sends UUIDv7 (index-friendly); the default serves rows written by hand.
      defaultSql: primaryKey.type === 'uuid' ? 'gen_random_uuid()' : undefined,
    },
  ];
  for (const [name, field] of fields) {
    columns.push({
      name,
      sqlType: sqlTypeOf(field),
      notNull: field.required === true,
      defaultSql: defaultSql(field),
      kind: 'field',
      field,
    });
  }
  columns.push(
    { name: 'version', sqlType: 'integer', notNull: true, defaultSql: '1', kind: 'system' },
    {
      name: 'created_at',
      sqlType: 'timestamp with time zone',
      notNull: true,
      defaultSql: 'now()',
      kind: 'system',
    },
    {
      name: 'updated_at',
      sqlType: 'timestamp with time zone',
      notNull: true,
      defaultSql: 'now()',
      kind: 'system',
    },
  );

  const indexes: IndexModel[] = [];
  for (const [name, field] of fields) {
    if (field.unique)
      indexes.push({ name: indexName(table, [name], true), columns: [name], method: 'btree', unique: true });
  }
  for (const index of definition.indexes ?? []) {
    const unique = index.unique === true;
    indexes.push({
      name: indexName(table, index.fields, unique),
      columns: index.fields,
      method: index.type ?? 'btree',
      unique,
    });
  }

  const checks = [...fields].flatMap(([name, field]) => fieldChecks(table, name, field));

  const queries = new Map<string, NamedQueryModel>();
  for (const [name, query] of Object.entries(definition.queries ?? {})) {
    queries.set(name, compileQuery(name, query));
  }

  return {
    name: definition.name,
    table,
    description: definition.description,
    file,
    definition,
    primaryKey,
    fields,
    columns,
    indexes,
    checks,
    queries,
  };
}

function compileQuery(name: string, query: NamedQueryDefinition): NamedQueryModel {
  const params: QueryParameterModel[] = [];
  const position = new Map<string, number>();
  const text = replaceQueryParameters(stripTrailingSemicolon(query.sql), (param) => {
    let index = position.get(param);
    const definition = query.params?.[param];
    if (definition === undefined) throw new Error(`query ${name}: undeclared parameter :${param}`);
    if (index === undefined) {
      params.push({ name: param, definition, sqlType: sqlTypeOf(definition) });
      index = params.length;
      position.set(param, index);
    }
    // The cast gives PostgreSQL the type even where the context does not (`:p is null`).
    return `($${index}::${sqlTypeOf(definition)})`;
  });
  return { name, description: query.description, text, params };
}

/** All entities of a deployment, by name. */
export class EntityCatalog {
  private readonly byName: Map<string, EntityModel>;

  constructor(models: Iterable<EntityModel>) {
    this.byName = new Map([...models].map((m) => [m.name, m]));
  }

  /** The model of `name`; throws EntityError('unknown_entity') for a name with no definition. */
  get(name: string): EntityModel {
    const model = this.byName.get(name);
    if (!model) throw EntityError.unknownEntity(name);
    return model;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  all(): EntityModel[] {
    return [...this.byName.values()];
  }
}
