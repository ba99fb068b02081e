import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { CHART_ROOT, chartSchemas } from './values-schema';

// Rewrites every values.schema.json under charts/choreo from values-schema.ts, formatted by the
// repository's prettier so that `npm run format:check` agrees with the generated files.
async function main(): Promise<void> {
  for (const [relative, schema] of Object.entries(chartSchemas())) {
    const file = path.join(CHART_ROOT, relative);
    const options = (await prettier.resolveConfig(file)) ?? {};
    writeFileSync(file, await prettier.format(JSON.stringify(schema), { ...options, filepath: file }));
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
