import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { jsonSchemaText, realtimeJsonSchemas } from '@choreo/contracts';

// `npm run docs:realtime`: writes docs/realtime.schema.json from the zod frame definitions
// (libs/contracts/src/realtime), so the documented schemas are the ones the server validates with.
if (process.argv.includes('--help')) {
  process.stdout.write(
    'usage: npm run docs:realtime\n  writes docs/realtime.schema.json from libs/contracts/src/realtime\n',
  );
  process.exit(0);
}
const target = path.join(__dirname, '../../../docs/realtime.schema.json');
writeFileSync(target, jsonSchemaText(realtimeJsonSchemas()));
process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
