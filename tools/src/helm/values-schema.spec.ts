import { readFileSync } from 'node:fs';
import path from 'node:path';
import { APPS, CHART_ROOT, appSchema, chartSchemas } from './values-schema';

describe('values.schema.json files', () => {
  it.each(Object.entries(chartSchemas()))(
    '%s is what values-schema.ts builds (run write-schemas.ts)',
    (file, schema) => {
      const onDisk: unknown = JSON.parse(readFileSync(path.join(CHART_ROOT, file), 'utf8'));
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
