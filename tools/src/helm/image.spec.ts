import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { APP_ENV, APP_NODE_FLAGS } from '../stack/app-runtime';

// docker/Dockerfile cannot be built here (no Docker engine): these read what it says, and run the
// image's HEALTHCHECK script against a real HTTP server.

const root = path.resolve(__dirname, '../../..');
const dockerfile = readFileSync(path.join(root, 'docker/Dockerfile'), 'utf8');
const run = promisify(execFile);

describe('docker/Dockerfile', () => {
  it('builds and runs on Node 24, installing exactly the lock file with .npmrc in place', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    const copyManifests = dockerfile.indexOf('COPY package.json package-lock.json .npmrc ./');
    const install = dockerfile.indexOf('RUN npm ci ');
    expect(copyManifests).toBeGreaterThan(0);
    expect(install).toBeGreaterThan(copyManifests);
    expect(dockerfile).not.toMatch(/npm install/);
  });

  it('runs on debian:bookworm-slim with the node binary alone, stripped, and the pruned dependencies', () => {
    expect(dockerfile).toMatch(/^ARG RUNTIME_IMAGE=debian:bookworm-slim$/m);
    expect(dockerfile).toMatch(/^FROM \$\{RUNTIME_IMAGE\}$/m);
    expect(dockerfile).toContain('COPY --from=node /node /usr/local/bin/node');
    expect(dockerfile).toMatch(/strip \/node/);
    expect(dockerfile).toMatch(/-name '\*\.map'/);
    expect(dockerfile).toContain('rm -rf node_modules/@types');
  });

  it('gives the apps the V8 flags and environment npm start gives them', () => {
    expect(dockerfile).toContain(`ENV NODE_OPTIONS="${APP_NODE_FLAGS.join(' ')}"`);
    for (const [name, value] of Object.entries(APP_ENV))
      expect(dockerfile).toContain(`ENV ${name}=${value}\n`);
  });

  it('copies the definition directories the apps read by default (ENTITIES_DIR, AGGREGATIONS_DIR)', () => {
    // The defaults of libs/entities' entitiesConfig and apps/aggregator's aggregationConfig.
    for (const name of ['entities', 'aggregations']) {
      expect(existsSync(path.join(root, name))).toBe(true);
      expect(dockerfile).toContain(`COPY --from=build --chown=root:root /src/${name} ./${name}`);
    }
  });

  it('runs as a numeric user (the kubelet can only verify runAsNonRoot for a number)', () => {
    expect(dockerfile.match(/^USER .*$/gm)).toEqual(['USER 1000:1000']);
  });

  it('carries the OCI labels', () => {
    for (const label of ['title', 'version', 'revision', 'created', 'source', 'licenses'])
      expect(dockerfile).toContain(`org.opencontainers.image.${label}=`);
  });

  it("health-checks with docker/healthcheck.cjs, whose registry is the apps' own", () => {
    expect(dockerfile).toMatch(/^HEALTHCHECK .*CMD \["node", "healthcheck.cjs"\]$/m);
    expect(dockerfile).toContain('/src/docker/healthcheck.cjs ./healthcheck.cjs');
    const script = readFileSync(path.join(root, 'docker/healthcheck.cjs'), 'utf8');
    const registry = /const REGISTRY = '\.\/dist\/(.+)\.js';/.exec(script)?.[1];
    expect(registry && existsSync(path.join(root, `${registry}.ts`))).toBe(true);
    expect(readFileSync(path.join(root, `${registry}.ts`), 'utf8')).toMatch(/export const APP_PORTS = \{/);
  });
});

describe('docker/healthcheck.cjs', () => {
  let status = 200;
  let seen: string[] = [];
  const server = http.createServer((request, response) => {
    seen.push(request.url ?? '');
    response.writeHead(status).end();
  });
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    seen = [];
  });

  const check = () =>
    run(process.execPath, [path.join(root, 'docker/healthcheck.cjs')], {
      env: { PATH: process.env.PATH, APP: 'crud', PORT: String((server.address() as AddressInfo).port) },
    }).then(
      () => 0,
      (error: { code: number }) => error.code,
    );

  it('passes when /livez on PORT answers 200', async () => {
    status = 200;
    expect(await check()).toBe(0);
    expect(seen).toEqual(['/livez']);
  });

  it('fails when /livez answers 503', async () => {
    status = 503;
    expect(await check()).toBe(1);
  });
});
