import path from 'node:path';
import { runHelm } from './helm';
import { type Manifest, type PodSpec, named, renderChart, workloadSpec, workloads } from './manifests';
import { type Endpoint, type NetworkPolicySpec, admitted } from './network-policy';
import { APP_PORTS, APPS, type AppName } from '@choreo/contracts';
import { CHART_ROOT } from './values-schema';

// What an operator meets after `helm install`: the image guard, the Ingress and HTTPRoute paths,
// pods that roll when a password they read changes, and NetworkPolicies that let in only what must
// pass. Rendered by a real helm; no cluster.

const RELEASE = 'choreo';
const NAMESPACE = 'shop';
const REGISTRY = ['--set', 'global.imageRegistry=registry.example.com'];
const render = (args: string[]) => renderChart(RELEASE, ['--namespace', NAMESPACE, ...REGISTRY, ...args]);
const exposed = ['-f', path.join(CHART_ROOT, 'ci/exposed.yaml')];

describe('the image guard', () => {
  it('refuses the bare default image at install, printing the build-and-push commands', () => {
    const result = runHelm(['template', RELEASE, CHART_ROOT]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('global.image.repository is "choreo", an image no registry serves');
    expect(result.stderr).toContain('docker build -f docker/Dockerfile -t <registry>/choreo:0.1.0 .');
    expect(result.stderr).toContain('docker push <registry>/choreo:0.1.0');
    expect(result.stderr).toContain(
      'helm install choreo charts/choreo --set global.image.repository=<registry>/choreo',
    );
  });

  it('still lints with the defaults (lint renders neither an install nor an upgrade)', () => {
    expect(runHelm(['lint', '--strict', CHART_ROOT]).stdout).toContain('0 chart(s) failed');
  });

  it('a pre-install/pre-upgrade Job pulls the image the apps run, and fails the release when it cannot', () => {
    const manifests = render(['--set', `global.image.digest=sha256:${'c'.repeat(64)}`]);
    const job = named(manifests, 'Job', `${RELEASE}-image-pull-check`);
    expect(job.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade' });
    const spec = job.spec as {
      backoffLimit: number;
      activeDeadlineSeconds: number;
      template: { spec: PodSpec };
    };
    expect(spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 180 });
    const image = `registry.example.com/choreo:0.1.0@sha256:${'c'.repeat(64)}`;
    expect(spec.template.spec.containers[0].image).toBe(image);
    for (const deployment of manifests.filter((m) => m.kind === 'Deployment'))
      expect(workloadSpec(deployment).template.spec.containers[0].image).toBe(image);
  });

  it('global.imageRegistry and pull secrets reach every pod, the bundled servers included', () => {
    const manifests = render(['--set', 'global.imagePullSecrets[0].name=registry-credentials']);
    const pods = [
      ...workloads(manifests).map((w) => workloadSpec(w).template.spec),
      ...manifests.filter((m) => m.kind === 'Pod').map((m) => m.spec as unknown as PodSpec),
    ];
    expect(pods.length).toBe(8);
    for (const pod of pods) {
      const withSecrets = pod as PodSpec & { imagePullSecrets?: { name: string }[] };
      expect(withSecrets.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
      expect(pod.containers[0].image).toMatch(/^registry\.example\.com\//);
    }
  });
});

/** The backend an Ingress sends `path` to, by the API's matching rules (longest match; Exact first). */
function ingressBackend(ingress: Manifest, requestPath: string): string | undefined {
  type Path = {
    path: string;
    pathType: string;
    backend: { service: { name: string; port: { number: number } } };
  };
  const paths = (ingress.spec as { rules: { http: { paths: Path[] } }[] }).rules[0].http.paths;
  const matches = paths.filter((p) =>
    p.pathType === 'Exact'
      ? requestPath === p.path
      : p.path === '/' || requestPath === p.path || requestPath.startsWith(`${p.path}/`),
  );
  matches.sort((a, b) => b.path.length - a.path.length || (a.pathType === 'Exact' ? -1 : 1));
  const [best] = matches;
  return best && `${best.backend.service.name}:${best.backend.service.port.number}`;
}

describe('the Ingress and the HTTPRoute', () => {
  const manifests = render(exposed);
  const ingress = named(manifests, 'Ingress', `${RELEASE}-choreo`);
  const service = (app: AppName) => `${RELEASE}-${app}:${APP_PORTS[app]}`;

  it.each([
    ['/crud/menu-items', 'crud'],
    ['/crud/menu-items/42', 'crud'],
    ['/docs', 'crud'],
    ['/docs/json', 'crud'],
    ['/events/menu-items', 'events'],
    ['/orders', 'events'],
    ['/orders/7/track', 'events'],
    ['/aggregates/revenue', 'aggregator'],
    ['/ws', 'notifications'],
    ['/sse', 'notifications'],
    ['/sse/orders/7', 'notifications'],
    ['/', 'notifications'],
    ['/assets/index.js', 'notifications'],
    ['/live-page/config.json', 'notifications'],
  ] as const)('routes %s to %s', (requestPath, app) => {
    expect(ingressBackend(ingress, requestPath)).toBe(service(app));
  });

  it.each(['/livez', '/readyz', '/metrics', '/crudx', '/favicon.ico'])('does not route %s', (requestPath) => {
    expect(ingressBackend(ingress, requestPath)).toBeUndefined();
  });

  it('keeps WebSocket and SSE connections open and unbuffered, with TLS for the host', () => {
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'cert-manager.io/cluster-issuer': 'letsencrypt',
    });
    expect(ingress.spec).toMatchObject({
      ingressClassName: 'nginx',
      tls: [{ secretName: `${RELEASE}-tls`, hosts: ['choreo.example.com'] }],
      rules: [{ host: 'choreo.example.com' }],
    });
  });

  it('the HTTPRoute carries the same paths to the same Services', () => {
    const route = named(manifests, 'HTTPRoute', `${RELEASE}-choreo`);
    type Rule = {
      matches: { path: { type: string; value: string } }[];
      backendRefs: { name: string; port: number }[];
    };
    const rules = (route.spec as { rules: Rule[] }).rules.map((r) => ({
      path: `${r.matches[0].path.type} ${r.matches[0].path.value}`,
      to: `${r.backendRefs[0].name}:${r.backendRefs[0].port}`,
    }));
    const ingressPaths = (
      ingress.spec as { rules: { http: { paths: { path: string; pathType: string }[] } }[] }
    ).rules[0].http.paths;
    expect(rules.map((r) => r.path)).toEqual(
      ingressPaths.map((p) => `${p.pathType === 'Prefix' ? 'PathPrefix' : 'Exact'} ${p.path}`),
    );
    expect(rules.find((r) => r.path === 'PathPrefix /ws')?.to).toBe(service('notifications'));
  });

  it('without an Ingress, NOTES prints a port-forward line per app', () => {
    const result = runHelm([
      'install',
      RELEASE,
      CHART_ROOT,
      '--dry-run=client',
      '-n',
      NAMESPACE,
      ...REGISTRY,
    ]);
    expect(result.stdout).toContain(
      `kubectl port-forward -n ${NAMESPACE} svc/${RELEASE}-notifications 3005:3005`,
    );
    const withIngress = runHelm([
      'install',
      RELEASE,
      CHART_ROOT,
      '--dry-run=client',
      '-n',
      NAMESPACE,
      ...exposed,
    ]);
    expect(withIngress.stdout).toContain('Open it at https://choreo.example.com/');
  });
});

describe('a changed password rolls exactly the pods that read it', () => {
  const checksums = (args: string[]) =>
    Object.fromEntries(
      workloads(render(args)).map((w) => [
        w.metadata.labels?.['app.kubernetes.io/name'],
        workloadSpec(w).template.metadata.annotations?.['checksum/secret'],
      ]),
    );
  const pinned = [
    '--set',
    'global.redis.password=redis-password-1',
    '--set',
    'global.postgresql.auth.password=db-password-1',
    '--set',
    'global.postgresql.auth.postgresPassword=admin-password-1',
    '--set',
    'global.apiTokens[0]=api-token-0000000001',
    '--set',
    'global.trackingTokenSecret=tracking-secret-0123456789abcdef0123',
    '--set',
    'simulator.enabled=true',
  ];
  const before = checksums(pinned);
  const readers = {
    'global.redis.password': ['events', 'cdc-relay', 'aggregator', 'notifications', 'simulator', 'redis'],
    'global.postgresql.auth.password': [
      'crud',
      'events',
      'cdc-relay',
      'aggregator',
      'notifications',
      'postgresql',
    ],
    'global.postgresql.auth.postgresPassword': ['postgresql'],
    'global.apiTokens[0]': ['crud', 'events', 'notifications'],
    'global.trackingTokenSecret': ['events', 'notifications'],
  };

  it('renders the same checksums twice (nothing random in them once the secrets are pinned)', () => {
    expect(checksums(pinned)).toEqual(before);
  });

  it.each(Object.entries(readers))('%s', (value, expected) => {
    const after = checksums([...pinned, '--set', `${value}=changed-value-0123456789abcdef0123456789`]);
    const rolled = Object.keys(before).filter((pod) => after[pod] !== before[pod]);
    expect(rolled.sort()).toEqual([...expected].sort());
  });
});

describe('the retention of dead-letters', () => {
  const configOf = (manifests: Manifest[], app: string) =>
    named(manifests, 'ConfigMap', `${RELEASE}-${app}`).data ?? {};

  it('events, its one owner, gets DEAD_LETTER_* from its values; a change rolls events alone', () => {
    const defaults = render(['--set', 'simulator.enabled=true']);
    expect(configOf(defaults, 'events')).toMatchObject({
      DEAD_LETTER_RETENTION: '14d',
      DEAD_LETTER_ALERT_LENGTH: '10000',
    });
    for (const app of APPS.filter((a) => a !== 'events'))
      expect(Object.keys(configOf(defaults, app)).filter((k) => k.startsWith('DEAD_LETTER'))).toEqual([]);
    const changed = render([
      '--set',
      'simulator.enabled=true',
      '--set',
      'events.deadLetters.retention=36h',
      '--set',
      'events.deadLetters.alertLength=500',
    ]);
    expect(configOf(changed, 'events')).toMatchObject({
      DEAD_LETTER_RETENTION: '36h',
      DEAD_LETTER_ALERT_LENGTH: '500',
    });
    const checksum = (manifests: Manifest[]) =>
      Object.fromEntries(
        workloads(manifests).map((w) => [
          w.metadata.labels?.['app.kubernetes.io/name'],
          workloadSpec(w).template.metadata.annotations?.['checksum/config'],
        ]),
      );
    const [before, after] = [checksum(defaults), checksum(changed)];
    expect(Object.keys(before).filter((pod) => after[pod] !== before[pod])).toEqual(['events']);
  });

  it('the schema refuses a retention it cannot read, and DEAD_LETTER_* through env', () => {
    const refused = (args: string[]) => runHelm(['template', RELEASE, CHART_ROOT, ...REGISTRY, ...args]);
    const badWindow = refused(['--set', 'events.deadLetters.retention=2w']);
    expect(badWindow.code).not.toBe(0);
    expect(badWindow.stderr).toContain("at '/deadLetters/retention': '2w' does not match pattern");
    const viaEnv = refused(['--set', 'events.env.DEAD_LETTER_RETENTION=1d']);
    expect(viaEnv.code).not.toBe(0);
    expect(viaEnv.stderr).toContain("invalid propertyName 'DEAD_LETTER_RETENTION'");
    expect(refused(['--set', 'events.deadLetters.retention=0']).code).toBe(0);
  });
});

describe('the NetworkPolicies', () => {
  const manifests = render(['--set', 'simulator.enabled=true']);
  const policies = manifests
    .filter((m) => m.kind === 'NetworkPolicy')
    .map((m) => m.spec as unknown as NetworkPolicySpec);
  const podLabels = (app: string) => {
    const workload = workloads(manifests).find((w) => w.metadata.labels?.['app.kubernetes.io/name'] === app)!;
    return (workload.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata
      .labels;
  };
  const inNamespace = (labels: Record<string, string>, namespace = NAMESPACE): Endpoint => ({
    namespace,
    namespaceLabels: { 'kubernetes.io/metadata.name': namespace },
    labels,
  });
  const testPod = manifests.find((m) => m.metadata.annotations?.['helm.sh/hook'] === 'test')!;
  const can = (from: Endpoint, to: string, port: number) =>
    admitted(policies, NAMESPACE, from, podLabels(to), port);

  it('admits every app that reads PostgreSQL or Redis, and nobody else', () => {
    for (const app of ['crud', 'events', 'cdc-relay', 'aggregator'])
      expect({ app, ok: can(inNamespace(podLabels(app)), 'postgresql', 5432) }).toEqual({ app, ok: true });
    for (const app of ['events', 'cdc-relay', 'aggregator', 'notifications', 'simulator'])
      expect({ app, ok: can(inNamespace(podLabels(app)), 'redis', 6379) }).toEqual({ app, ok: true });
    expect(can(inNamespace(testPod.metadata.labels ?? {}), 'postgresql', 5432)).toBe(false);
    expect(can(inNamespace({ app: 'someone-else' }), 'redis', 6379)).toBe(false);
    expect(can(inNamespace(podLabels('crud'), 'other'), 'postgresql', 5432)).toBe(false);
    expect(can(inNamespace({}, 'ingress-nginx'), 'redis', 6379)).toBe(false);
  });

  it("lets the demo's seed-menu Job reach PostgreSQL, and only with the simulator on", () => {
    const seed = named(manifests, 'Job', `${RELEASE}-demo-seed`);
    const seedLabels = (seed.spec as { template: { metadata: { labels: Record<string, string> } } }).template
      .metadata.labels;
    expect(seed.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'post-install,post-upgrade' });
    expect(can(inNamespace(seedLabels), 'postgresql', 5432)).toBe(true);
    expect(can(inNamespace(seedLabels), 'redis', 6379)).toBe(false);
    expect(render([]).some((m) => m.metadata.name === `${RELEASE}-demo-seed`)).toBe(false);
  });

  it('lets the Ingress controller, Prometheus and the release itself reach the apps, nobody else', () => {
    for (const app of APPS) {
      const port = APP_PORTS[app];
      expect({ app, ingress: can(inNamespace({}, 'ingress-nginx'), app, port) }).toEqual({
        app,
        ingress: true,
      });
      expect({ app, prometheus: can(inNamespace({}, 'monitoring'), app, port) }).toEqual({
        app,
        prometheus: true,
      });
      expect({ app, test: can(inNamespace(testPod.metadata.labels ?? {}), app, port) }).toEqual({
        app,
        test: true,
      });
      expect({ app, other: can(inNamespace({ app: 'x' }), app, port) }).toEqual({ app, other: false });
      expect({ app, elsewhere: can(inNamespace({}, 'default'), app, port) }).toEqual({
        app,
        elsewhere: false,
      });
    }
  });
});
