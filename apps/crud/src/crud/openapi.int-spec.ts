import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { runApp } from '@choreo/runtime';
import { ContractCase, lintOpenApi, probeContract, useSpecServers, servedOpenApi } from '@choreo/testing';
import { CrudModule } from './crud.module';

type Operation = { summary?: string; security?: unknown[]; responses: Record<string, unknown> };

// The crud app's OpenAPI document, linted by Redocly's recommended rules, and checked against what
// the routes really answer: every status a request provokes must be documented for its operation.
describe('crud OpenAPI: lint-clean, and every answer documented', () => {
  const servers = useSpecServers({ postgres: true, database: 'openapi' });
  let base: string;
  let document: { servers?: unknown[]; paths: Record<string, Record<string, Operation>> };

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'openapi-entities-'));
    writeFileSync(
      path.join(dir, 'item.yaml'),
      'name: item\nfields:\n  label: { type: text, maxLength: 5 }\n',
    );
    const app: INestApplication = await runApp({
      app: 'crud',
      module: CrudModule.forRoot({
        entitiesDir: dir,
        database: { url: servers.databaseUrl, poolMax: 2 },
        auth: { tokens: ['openapi-token-0123456789'], protectReads: false },
      }),
      http: { port: 0, host: '127.0.0.1', bodyLimitBytes: 1024, corsOrigins: [] },
      log: { level: 'silent' },
    });
    servers.atStop(() => app.close());
    ({ base, document } = await servedOpenApi<typeof document>(app));
  });

  it('passes the Redocly linter with no error or warning', () => {
    expect(lintOpenApi(document)).toEqual([]);
  });

  it('gives every operation a summary and security, public reads security: []', () => {
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
    for (const [route, operations] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(operations)) {
        expect([route, method, typeof operation.summary]).toEqual([route, method, 'string']);
        if (method === 'get') expect([route, operation.security]).toEqual([route, []]);
        else expect([route, method, operation.security?.length]).toEqual([route, method, 1]);
      }
  });

  it('documents every status the routes answer', async () => {
    const token = { authorization: 'Bearer openapi-token-0123456789' };
    const json = { ...token, 'content-type': 'application/json' };
    const created = await fetch(`${base}/crud/item`, {
      method: 'POST',
      headers: json,
      body: '{"label":"a"}',
    });
    const row = (await created.json()) as { id: string };
    const etag = created.headers.get('etag') ?? '';
    const cases: ContractCase[] = [
      ['/crud/item', 'get', {}],
      ['/crud/item', 'get', { headers: { accept: 'text/csv' } }],
      ['/crud/item', 'get', { headers: { accept: 'application/vnd.pgrst.object+json' } }],
      ['/crud/item', 'get', { headers: { prefer: 'count=exact', range: '0-0' } }],
      ['/crud/item', 'get', { headers: { prefer: 'count=exact', range: '50-' } }],
      ['/crud/item?label=zz.1', 'get', {}],
      ['/crud/item', 'post', { method: 'POST', headers: json, body: '{"label":"b"}' }],
      ['/crud/item', 'post', { method: 'POST', headers: json, body: '{"label":"toolong"}' }],
      ['/crud/item', 'post', { method: 'POST', headers: json, body: '{' }],
      ['/crud/item', 'post', { method: 'POST', headers: json, body: `"${'x'.repeat(2000)}"` }],
      [
        '/crud/item',
        'post',
        { method: 'POST', headers: { ...token, 'content-type': 'text/plain' }, body: 'x' },
      ],
      ['/crud/item', 'post', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }],
      [
        '/crud/item',
        'post',
        { method: 'POST', headers: { ...json, authorization: 'Bearer nope-nope-nope-nope' }, body: '{}' },
      ],
      ['/crud/item', 'patch', { method: 'PATCH', headers: json, body: '{"label":"c"}' }],
      ['/crud/item', 'delete', { method: 'DELETE', headers: token }],
      ['/crud/item/{id}', 'get', {}],
      ['/crud/item/{id}', 'get', { headers: { 'if-none-match': etag } }],
      [
        '/crud/item/{id}',
        'patch',
        { method: 'PATCH', headers: { ...json, 'if-match': '"99"' }, body: '{"label":"d"}' },
      ],
      ['/crud/item/{id}', 'delete', { method: 'DELETE', headers: { ...token, 'if-match': '"99"' } }],
    ];
    const ids = [row.id, 'not-a-uuid', '0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d'];
    const { undocumented } = await probeContract(base, document, cases, ids);
    expect(undocumented).toEqual([]);
  });
});
