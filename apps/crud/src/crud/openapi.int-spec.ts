import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { runApp } from '@choreo/runtime';
import { useSpecServers } from '@choreo/testing';
import { CrudModule } from './crud.module';

const repoRoot = path.resolve(__dirname, '../../../..');

// @redocly/openapi-core is ESM only: it lints in its own Node process.
const LINT = `
import { createConfig, lintFromString } from '@redocly/openapi-core';
const source = await new Promise((resolve) => { let text = ''; process.stdin.on('data', (c) => (text += c)); process.stdin.on('end', () => resolve(text)); });
const config = await createConfig({ extends: ['recommended'], rules: { 'info-license': 'off' } });
const problems = await lintFromString({ source, absoluteRef: '/openapi.json', config });
process.stdout.write(JSON.stringify(problems.map((p) => ({ rule: p.ruleId, severity: p.severity, message: p.message, at: p.location?.[0]?.pointer }))));
`;

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
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    document = (await (await fetch(`${base}/openapi.json`)).json()) as typeof document;
  });

  it('passes the Redocly linter with no error or warning', () => {
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', LINT], {
      cwd: repoRoot,
      input: JSON.stringify(document),
    }).toString();
    expect(JSON.parse(output)).toEqual([]);
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
    const cases: [string, string, RequestInit][] = [
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
    const undocumented: string[] = [];
    for (const [route, method, init] of cases) {
      for (const id of [row.id, 'not-a-uuid', '0190b2c4-1f6e-7a3b-9c1d-2e3f4a5b6c7d']) {
        if (!route.includes('{id}') && id !== row.id) continue;
        const url = route.replace('{id}', id);
        const response = await fetch(`${base}${url}`, init);
        const documented = document.paths[route.split('?')[0]][method].responses;
        if (!(String(response.status) in documented))
          undocumented.push(`${method} ${url} → ${response.status}`);
      }
    }
    expect(undocumented).toEqual([]);
  });
});
