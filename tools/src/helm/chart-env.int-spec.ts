import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { startPostgres, startRedis, waitFor } from '@choreo/testing';
import type { PostgresServer, RedisServer } from '@choreo/testing';
import { type Manifest, named, renderChart, secretData, workloadSpec } from './manifests';
import { APPS } from './values-schema';

// The chart and the apps must agree on every variable name: this boots each app with exactly the
// environment its rendered Deployment declares (ConfigMap + Secret keys, nothing inherited), against a
// real PostgreSQL and Redis given as external services, and asks the probe paths of the manifest.

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
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      taken.add(port);
      return port;
    }
  }
}

async function httpStatus(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.status;
}

describe('the environment the chart renders boots every app (NODE_ENV=production, generated secrets)', () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let manifests: Manifest[];
  const ports = {} as Record<(typeof APPS)[number], number>;
  const running = new Map<string, { child: ChildProcess; output: string[]; exited: Promise<never> }>();

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres({ fsync: false }), startRedis()]);
    const databaseUrl = await postgres.createDatabase('chart_env');
    const taken = new Set<number>();
    for (const app of APPS) ports[app] = await listenPort(taken);
    manifests = renderChart(RELEASE, [
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
      ...APPS.flatMap((app) => ['--set', `${app}.port=${ports[app]}`]),
    ]);
  });

  afterAll(async () => {
    await Promise.all(
      [...running.values()].map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await Promise.all([postgres?.stop(), redis?.stop()]);
  });

  it('every app answers its liveness and readiness probes', async () => {
    for (const app of APPS) {
      const deployment = named(manifests, 'Deployment', `${RELEASE}-${app}`);
      const env = containerEnvironment(manifests, deployment);
      expect(env).toMatchObject({ APP: app, NODE_ENV: 'production', PORT: String(ports[app]) });
      const output: string[] = [];
      // Only PATH and HOME come from outside: everything the app reads must come from the chart.
      const child = spawn(process.execPath, ['-r', '@swc-node/register', `apps/${env.APP}/src/main.ts`], {
        cwd: root,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      for (const stream of [child.stdout, child.stderr]) {
        stream?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      }
      // waitFor retries through errors, so an app that exits is caught by racing its exit, watched
      // from the start because an app may fail while the ones before it are still booting.
      const exited = once(child, 'exit').then(([code]) => {
        throw new Error(`${app} exited with ${String(code)}`);
      });
      exited.catch(() => undefined); // handled by the race below
      running.set(app, { child, output, exited });
    }

    for (const app of APPS) {
      const [container] = workloadSpec(named(manifests, 'Deployment', `${RELEASE}-${app}`)).template.spec
        .containers;
      const base = `http://127.0.0.1:${ports[app]}`;
      const { output, exited } = running.get(app)!;
      await Promise.race([
        exited,
        waitFor(
          `${app} ready on ${container.readinessProbe!.httpGet!.path}`,
          async () => (await httpStatus(`${base}${container.readinessProbe!.httpGet!.path}`)) === 200,
          90_000,
        ),
      ]).catch((error: unknown) => {
        throw new Error(`${String(error)}\n--- ${app} output ---\n${output.join('').slice(-3000)}`);
      });
      expect({ app, livez: await httpStatus(`${base}${container.livenessProbe!.httpGet!.path}`) }).toEqual({
        app,
        livez: 200,
      });
    }
  }, 180_000);
});
