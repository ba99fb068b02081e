import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { aggregationRulesJsonSchemaText } from '@choreo/aggregation';
import { entityDefinitionJsonSchemaText } from '@choreo/entities';

// `npm run docs:definitions`: writes the JSON Schemas of the definition files (entities/*.yaml,
// aggregations/*.yaml) from their zod schemas, so editors check what the loaders check.
if (process.argv.includes('--help')) {
  process.stdout.write(
    'usage: npm run docs:definitions\n' +
      '  writes entities/entity.schema.json and aggregations/aggregation.schema.json from the zod schemas\n',
  );
  process.exit(0);
}
const root = path.join(__dirname, '../../..');
const files: [string, string][] = [
  ['entities/entity.schema.json', entityDefinitionJsonSchemaText()],
  ['aggregations/aggregation.schema.json', aggregationRulesJsonSchemaText()],
];
for (const [file, text] of files) {
  writeFileSync(path.join(root, file), text);
  process.stdout.write(`wrote ${file}\n`);
}
