import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { entityDefinition } from './definition';

/** The JSON Schema of `entities/<name>.yaml`, for editors (`# yaml-language-server: $schema=…`) and CI. */
export function entityDefinitionJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(entityDefinition, { target: 'draft-2020-12', io: 'input' });
  return {
    ...schema,
    $id: 'https://choreo.dev/schemas/entity.schema.json',
    title: 'choreo entity definition',
    description: 'One entity: its table, fields, indexes and named read queries. See docs/entities.md.',
  };
}

/** The file's text, as shipped in `entities/entity.schema.json`. */
export function entityDefinitionJsonSchemaText(): string {
  return `${JSON.stringify(entityDefinitionJsonSchema(), null, 2)}\n`;
}

// `node -r @swc-node/register libs/entities/src/json-schema.ts` regenerates the shipped file.
if (require.main === module) {
  const target = path.resolve(__dirname, '../../../entities/entity.schema.json');
  writeFileSync(target, entityDefinitionJsonSchemaText());
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
}
