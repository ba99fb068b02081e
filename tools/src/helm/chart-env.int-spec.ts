import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { useSpecServers, waitFor } from '@choreo/testing';
import type { PostgresServer } from '@choreo/testing';
import { Client } from 'pg';
import { type Container, type Manifest, named, renderChart, secretData, workloadSpec } from './manifests';
import { APPS, type AppName } from '@choreo/contracts';

// The chart and the apps must agree on every variable name: this boots each app with exactly the
// environment its rendered Deployment declares (ConfigMap + Secret keys, nothing inherited), against a
// real PostgreSQL and Redis given as external services, and asks the probe paths of the manifest.
// The apps connect as the role the bundled PostgreSQL's init script creates (run here with psql,
// as the image's entrypoint runs it): no superuser, so every migration, the CDC publication and the
// relay's replication slot are proven to work without one.

const root = path.resolve(__dirname, '../../..');
const RELEASE = 'choreo';

/** The environment a Deployment's container would see: its ConfigMap, then its Secret references. */
function containerEnvironment(manifests: Manifest[], deployment: Manifest): Record<string, string> {
  const [container] = workloadSpec(deployment).template.spec.containers;
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    Object.assign(env, named(manifests, 'ConfigMap', source.configMapRef!.name).data);
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (!ref) {
      env[variable.name] = variable.value ?? '';
      continue;
    }
    const value = secretData(named(manifests, 'Secret', ref.name))[ref.key];
    if (value === undefined)
      throw new Error(`${deployment.metadata.name}: Secret ${ref.name} has no ${ref.key}`);
    env[variable.name] = value;
  }
  return env;
}

/**
 * A port for an app to listen on, below the kernel's ephemeral range (32768+ on Linux): a port from
 * that range, free when picked, can be taken a moment later by one of the other apps' outgoing
 * connections to PostgreSQL or Redis.
 */
async function listenPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    // Claimed before the first await, so concurrent callers never pick the same port.
    taken.add(port);
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
}

async function httpStatus(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.status;
}

/**
 * Runs the bundled PostgreSQL's init script (from its rendered ConfigMap) against `postgres`, and
 * returns the DATABASE_URL of the role it creates.
 */
function createAppRole(postgres: PostgresServer): string {
  const manifests = renderChart(RELEASE, ['--set', 'global.image.loadedOnNodes=true']);
  const script = named(manifests, 'ConfigMap', `${RELEASE}-postgresql-init`).data?.['10-choreo-role.sh'];
  if (!script) throw new Error('the postgresql init ConfigMap has no 10-choreo-role.sh');
  const [role, password, database] = ['choreo_app', 'app-role-password', 'chart_env'];
  execFileSync('sh', ['-c', script], {
    env: {
      PATH: process.env.PATH,
      PGHOST: '127.0.0.1',
      PGPORT: String(postgres.port),
      CHOREO_ROLE: role,
      CHOREO_PASSWORD: password,
      CHOREO_DATABASE: database,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return `postgres://${role}:${password}@127.0.0.1:${postgres.port}/${database}`;
}

describe('the environment the chart renders boots every app (NODE_ENV=production, generated secrets)', () => {
  const servers = useSpecServers({ redis: true, postgres: true });
  let externalServices: string[];
  const taken = new Set<number>();
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    const { redis } = servers;
    const databaseUrl = createAppRole(servers.postgres);
    externalServices = [
      '--set',
      'postgresql.enabled=false',
      '--set',
      'redis.enabled=false',
      '--set',
      `global.databaseUrl=${databaseUrl}`,
      '--set',
      `global.redisUrl=${redis.url}`,
      '--set',
      'simulator.enabled=true',
      '--set',
      'global.image.loadedOnNodes=true',
    ];
  });

  servers.atStop(async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  });

  /**
   * Renders the chart with `app` on a free port, starts the app with exactly its container's
   * environment and waits until the manifest's readiness path answers 200. Returns the base URL and
   * the container. Only a port lost to another process between picking and listening is retried.
   */
  async function bootApp(app: AppName): Promise<{ base: string; container: Container }> {
    for (let attempt = 1; ; attempt++) {
      const port = await listenPort(taken);
      const manifests = renderChart(RELEASE, [...externalServices, '--set', `${app}.port=${port}`]);
      const deployment = named(manifests, 'Deployment', `${RELEASE}-${app}`);
      const [container] = workloadSpec(deployment).template.spec.containers;
      const env = containerEnvironment(manifests, deployment);
      expect(env).toMatchObject({ APP: app, NODE_ENV: 'production', PORT: String(port) });

      // Only PATH and HOME come from outside: everything the app reads must come from the chart.
      const child = spawn(process.execPath, ['-r', '@swc-node/register', `apps/${env.APP}/src/main.ts`], {
        cwd: root,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      const output: string[] = [];
      for (const stream of [child.stdout, child.stderr]) {
        stream?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      }
      // waitFor retries through errors, so an app that exits is caught by racing its exit.
      const exited = once(child, 'exit').then(([code]) => {
        throw new Error(`${app} exited with ${String(code)}`);
      });
      exited.catch(() => undefined); // handled by the race below
      const base = `http://127.0.0.1:${port}`;
      try {
        await Promise.race([
          exited,
          waitFor(
            `${app} ready on ${container.readinessProbe!.httpGet!.path}`,
            async () => (await httpStatus(`${base}${container.readinessProbe!.httpGet!.path}`)) === 200,
            90_000,
          ),
        ]);
        return { base, container };
      } catch (error) {
        const log = output.join('');
        if (attempt < 3 && log.includes('EADDRINUSE')) continue;
        throw new Error(`${String(error)}\n--- ${app} output ---\n${log.slice(-3000)}`);
      }
    }
  }

  it('every app answers its liveness and readiness probes', async () => {
    // All at once, as a fresh release starts them (crud and events migrate while the relay sets up).
    const booted = await Promise.all(APPS.map(async (app) => ({ app, ...(await bootApp(app)) })));
    for (const { app, base, container } of booted) {
      expect({ app, livez: await httpStatus(`${base}${container.livenessProbe!.httpGet!.path}`) }).toEqual({
        app,
        livez: 200,
      });
    }
    // Ready means migrated, published and streaming: all of it done by a role that is no superuser.
    const client = new Client({ connectionString: servers.postgres.urlFor('chart_env') });
    await client.connect();
    try {
      const { rows } = await client.query<{
        rolsuper: boolean;
        rolreplication: boolean;
        slots: number;
        publications: number;
      }>(
        `select rolsuper, rolreplication,
                (select count(*)::int from pg_replication_slots where database = 'chart_env') as slots,
                (select count(*)::int from pg_publication p where p.pubowner = r.oid) as publications
           from pg_roles r where rolname = 'choreo_app'`,
      );
      expect(rows).toEqual([{ rolsuper: false, rolreplication: true, slots: 1, publications: 1 }]);
    } finally {
      await client.end();
    }
  }, 180_000);
});
