import { JsonSchema } from '@choreo/http';
import { FieldDefinition, hasDefault } from './field-definition';
import { EntityModel } from './entity-model';
import { QueryParameterDefinition } from './query-definition';

// The JSON Schemas of an entity's values, rows and write bodies, as its OpenAPI document names them.

/** `order_item` → `OrderItem`: the schema name of an entity. */
export function entitySchemaName(name: string): string {
  return name.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

const INT32 = { minimum: -2147483648, maximum: 2147483647 };

/** The JSON Schema of a field's value; `input` for request bodies (some types accept two forms). */
export function fieldJsonSchema(
  field: FieldDefinition | QueryParameterDefinition,
  input: boolean,
): JsonSchema {
  const f = field as FieldDefinition & { min?: number; max?: number };
  const description = field.description !== undefined ? { description: field.description } : {};
  const bounds = {
    ...(f.min !== undefined ? { minimum: f.min } : {}),
    ...(f.max !== undefined ? { maximum: f.max } : {}),
  };
  switch (field.type) {
    case 'text':
      return {
        type: 'string',
        ...description,
        ...(f.type === 'text' && f.minLength !== undefined ? { minLength: f.minLength } : {}),
        ...(f.type === 'text' && f.maxLength !== undefined ? { maxLength: f.maxLength } : {}),
        ...(f.type === 'text' && f.pattern !== undefined ? { pattern: `^(?:${f.pattern})$` } : {}),
      };
    case 'integer':
      return { type: 'integer', format: 'int32', ...description, ...INT32, ...bounds };
    case 'bigint':
      return input
        ? {
            anyOf: [
              { type: 'integer', ...bounds },
              { type: 'string', pattern: '^-?\\d{1,19}$' },
            ],
            ...description,
          }
        : { type: 'string', format: 'int64', pattern: '^-?\\d{1,19}$', ...description };
    case 'decimal': {
      const note = [field.description, 'a decimal, returned as a string to keep every digit']
        .filter(Boolean)
        .join('; ');
      return input
        ? {
            anyOf: [
              { type: 'number', ...bounds },
              { type: 'string', pattern: '^-?\\d+(\\.\\d+)?$' },
            ],
            description: note,
          }
        : { type: 'string', format: 'decimal', description: note };
    }
    case 'boolean':
      return { type: 'boolean', ...description };
    case 'uuid':
      return { type: 'string', format: 'uuid', ...description };
    case 'timestamp':
      return { type: 'string', format: 'date-time', ...description };
    case 'date':
      return { type: 'string', format: 'date', ...description };
    case 'jsonb':
      return { ...description };
    case 'enum':
      return { type: 'string', enum: f.type === 'enum' ? f.values : [], ...description };
  }
}

function nullable(schema: JsonSchema, isNullable: boolean): JsonSchema {
  if (!isNullable) return schema;
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  if (schema.anyOf) return { ...schema, anyOf: [...(schema.anyOf as JsonSchema[]), { type: 'null' }] };
  return schema;
}

export function primaryKeySchema(model: EntityModel): JsonSchema {
  const type = model.primaryKey.type;
  return type === 'uuid'
    ? { type: 'string', format: 'uuid' }
    : type === 'bigint'
      ? { type: 'string', format: 'int64' }
      : { type: 'string' };
}

/** The row, create-body and patch-body schemas of an entity, by name. */
export function entitySchemas(model: EntityModel): Record<string, JsonSchema> {
  const name = entitySchemaName(model.name);
  const row: Record<string, JsonSchema> = { [model.primaryKey.name]: primaryKeySchema(model) };
  const create: Record<string, JsonSchema> = {};
  const patch: Record<string, JsonSchema> = {};
  const required: string[] = [];
  if (model.primaryKey.type === 'uuid')
    create[model.primaryKey.name] = {
      type: 'string',
      format: 'uuid',
      description: 'optional; a UUIDv7 is generated when absent',
    };
  if (model.primaryKey.type === 'text') {
    create[model.primaryKey.name] = { type: 'string', minLength: 1 };
    required.push(model.primaryKey.name);
  }
  for (const [field, definition] of model.fields) {
    row[field] = nullable(fieldJsonSchema(definition, false), !definition.required);
    create[field] = nullable(fieldJsonSchema(definition, true), !definition.required);
    patch[field] = create[field];
    if (definition.required && !hasDefault(definition)) required.push(field);
  }
  row.version = { type: 'integer', minimum: 1, description: 'incremented by every update; the ETag' };
  row.created_at = { type: 'string', format: 'date-time' };
  row.updated_at = { type: 'string', format: 'date-time' };
  return {
    [name]: {
      type: 'object',
      description: model.description,
      properties: row,
      // Every column is in every row (null when unset), unless the request narrowed it with select=.
      required: Object.keys(row),
    },
    [`${name}Create`]: { type: 'object', properties: create, required, additionalProperties: false },
    [`${name}Patch`]: { type: 'object', properties: patch, minProperties: 1, additionalProperties: false },
  };
}
