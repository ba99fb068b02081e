import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { aggregationRulesFile } from './rule';

/** The JSON Schema of `aggregations/*.yaml`, for editors (`# yaml-language-server: $schema=…`) and CI. */
export function aggregationRulesJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(aggregationRulesFile, { target: 'draft-2020-12', io: 'input' });
  return {
    ...schema,
    $id: 'https://choreo.dev/schemas/aggregation.schema.json',
    title: 'choreo aggregation rules',
    description: 'Windowed aggregation rules over the streams. See docs/aggregations.md.',
  };
}

/** The file's text, as shipped in `aggregations/aggregation.schema.json`. */
export function aggregationRulesJsonSchemaText(): string {
  return `${JSON.stringify(aggregationRulesJsonSchema(), null, 2)}\n`;
}

// `node -r @swc-node/register libs/aggregation/src/json-schema.ts` regenerates the shipped file.
if (require.main === module) {
  const target = path.resolve(__dirname, '../../../aggregations/aggregation.schema.json');
  writeFileSync(target, aggregationRulesJsonSchemaText());
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
}
