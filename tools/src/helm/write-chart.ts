import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { appValuesYaml, withGlobalDefaults } from './app-values';
import { chartReadmes, generatedReadme, prettierFormat } from './chart-readme';
import { APPS } from '@choreo/contracts';
import { CHART_ROOT, chartSchemas } from './values-schema';

// `npm run chart:write`: rewrites the generated files of charts/choreo: every values.schema.json
// (values-schema.ts), each subchart's values.yaml (app-values.ts; the servers' get the umbrella's
// global defaults appended), then the README tables from the values comments. Each is formatted by
// the repository's prettier, so `npm run format:check` agrees; values-schema.spec.ts checks them all.
function write(file: string, text: string): void {
  writeFileSync(file, prettierFormat(file, text));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

for (const [relative, schema] of Object.entries(chartSchemas()))
  write(path.join(CHART_ROOT, relative), JSON.stringify(schema));
const umbrella = readFileSync(path.join(CHART_ROOT, 'values.yaml'), 'utf8');
for (const app of APPS)
  write(
    path.join(CHART_ROOT, 'charts', app, 'values.yaml'),
    withGlobalDefaults(appValuesYaml(app), umbrella),
  );
for (const server of ['redis', 'postgresql']) {
  const file = path.join(CHART_ROOT, 'charts', server, 'values.yaml');
  write(file, withGlobalDefaults(readFileSync(file, 'utf8'), umbrella));
}
for (const { values, readme } of chartReadmes()) {
  writeFileSync(readme, generatedReadme(values, readme));
  console.log(`wrote ${path.relative(process.cwd(), readme)}`);
}
