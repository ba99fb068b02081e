import { readFileSync } from 'node:fs';
import path from 'node:path';
import { appValuesYaml, withGlobalDefaults } from './app-values';
import { chartReadmes, generatedReadme, prettierFormat } from './chart-readme';
import { APPS } from '@choreo/contracts';
import { CHART_ROOT, appSchema, chartSchemas } from './values-schema';

// The chart's generated files must be what their sources make (`npm run chart:write` rewrites them).

const read = (file: string) => readFileSync(file, 'utf8');

describe('values.schema.json files', () => {
  it.each(Object.entries(chartSchemas()))(
    '%s is what values-schema.ts builds (npm run chart:write)',
    (file, schema) => {
      const onDisk: unknown = JSON.parse(read(path.join(CHART_ROOT, file)));
      expect(onDisk).toEqual(schema);
    },
  );

  it('caps the relay at one replica and no other app', () => {
    const maximum = (app: (typeof APPS)[number]) =>
      (appSchema(app).properties as Record<string, { maximum?: number }>).replicaCount.maximum;
    expect(maximum('cdc-relay')).toBe(1);
    for (const app of APPS.filter((a) => a !== 'cdc-relay')) expect(maximum(app)).toBeGreaterThan(1);
  });
});

describe('values.yaml of the subcharts', () => {
  const umbrella = read(path.join(CHART_ROOT, 'values.yaml'));

  it.each(APPS)('charts/%s/values.yaml is what app-values.ts builds (npm run chart:write)', (app) => {
    const file = path.join(CHART_ROOT, 'charts', app, 'values.yaml');
    expect(read(file)).toBe(prettierFormat(file, withGlobalDefaults(appValuesYaml(app), umbrella)));
  });

  it.each(['redis', 'postgresql'])(
    "charts/%s/values.yaml ends with the umbrella's global defaults",
    (server) => {
      const file = path.join(CHART_ROOT, 'charts', server, 'values.yaml');
      expect(read(file)).toBe(prettierFormat(file, withGlobalDefaults(read(file), umbrella)));
    },
  );
});

describe('chart READMEs', () => {
  it.each(chartReadmes().map(({ values, readme }) => [path.relative(CHART_ROOT, readme), values, readme]))(
    "%s: its Parameters tables are the readme generator's, from the values comments (npm run chart:write)",
    (_name, values, readme) => {
      expect(read(readme)).toBe(generatedReadme(values, readme));
    },
    30_000,
  );
});
