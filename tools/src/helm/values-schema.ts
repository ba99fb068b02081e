import path from 'node:path';
import { APP_PORTS, APPS, type AppName } from '@choreo/contracts';

import {
  boolean,
  digest,
  envMap,
  integer,
  LOG_LEVELS,
  object,
  objectList,
  optionalName,
  podExtras,
  probe,
  PULL_POLICIES,
  RESERVED_ENV,
  resources,
  scheduling,
  type Schema,
  serverImage,
  string,
  stringMap,
} from './schema-parts';
import { globalSchema } from './global-schema';
import { postgresqlSchema, redisSchema } from './server-schemas';

/**
 * The values.schema.json of every chart under charts/choreo, built from one definition so that the
 * `global:` block and the app values cannot drift apart between the umbrella and its seven subcharts
 * (Helm validates each subchart's values, `global` included, against that subchart's own schema).
 * `npm run chart:write` (write-chart.ts) rewrites the files, and
 * values-schema.spec.ts fails when a checked-in file differs from what this module builds.
 */
export const CHART_ROOT = path.resolve(__dirname, '../../../charts/choreo');

// The retention of dead-letters, which the events app owns (libs/streams dead-letter.config.ts).
const deadLetterRetention = object(
  'Retention of the dead-letters stream.',
  {
    retention: {
      type: ['string', 'integer'],
      description: 'DEAD_LETTER_RETENTION: 14d, 36h, 90m; 0: forever.',
      pattern: '^(0|[1-9][0-9]{0,5}(m|h|d))$',
      minimum: 0,
      maximum: 0,
    },
    alertLength: integer('DEAD_LETTER_ALERT_LENGTH: length that raises the alarm; 0: none.', 0, 100_000_000),
  },
  ['retention', 'alertLength'],
);

/** The values of one app subchart. */
export function appSchema(app: AppName): Schema {
  // The relay owns the one replication slot: a second replica could never become ready.
  const relay = app === 'cdc-relay';
  const replicaCount = relay
    ? integer('Number of pods: 0 (stopped) or 1; the relay owns the one replication slot.', 0, 1)
    : integer('Number of pods.', 0, 1000);
  return {
    $schema: 'https://json-schema.org/draft-07/schema#',
    title: `choreo ${app} values`,
    ...object(
      `Values of the choreo ${app} app.`,
      {
        global: globalSchema(),
        enabled: boolean(`Deploy ${app}.`),
        replicaCount,
        port: integer(`HTTP port (PORT), ${APP_PORTS[app]} by default.`, 1, 65535),
        image: object("Overrides of global.image for this app; empty strings use global's.", {
          repository: string('Image repository.'),
          tag: string('Image tag.', { pattern: '^([\\w][\\w.-]{0,127})?$' }),
          digest,
          pullPolicy: string('Image pull policy.', { enum: ['', ...PULL_POLICIES] }),
        }),
        logLevel: string('LOG_LEVEL of this app; empty: global.logLevel.', { enum: ['', ...LOG_LEVELS] }),
        ...(app === 'events' ? { deadLetters: deadLetterRetention } : {}),
        env: envMap('Extra plain environment variables of this app.'),
        extraEnv: {
          type: 'array',
          description: 'Extra container variables (Kubernetes EnvVar objects: name, and value or valueFrom).',
          items: object(
            'An EnvVar.',
            {
              name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', not: { enum: RESERVED_ENV } },
              value: { type: 'string' },
              valueFrom: { type: 'object' },
            },
            ['name'],
          ),
        },
        resources,
        probes: object(
          'Probe timings (paths are fixed: /livez and /readyz).',
          {
            startup: probe('Startup probe on /livez.'),
            liveness: probe('Liveness probe on /livez.'),
            readiness: probe('Readiness probe on /readyz.'),
          },
          ['startup', 'liveness', 'readiness'],
        ),
        shutdownDelaySeconds: integer('preStop sleep after SIGTERM, in seconds; 0: none.', 0, 60),
        terminationGracePeriodSeconds: integer('Seconds between SIGTERM and SIGKILL.', 1, 3600),
        service: object(
          'The Service of the app.',
          {
            type: string('Service type.', { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }),
            annotations: stringMap('Annotations of the Service.'),
          },
          ['type'],
        ),
        autoscaling: object(
          'HorizontalPodAutoscaler.',
          {
            enabled: relay ? { const: false, description: 'The relay never scales.' } : boolean('Create it.'),
            minReplicas: integer('Fewest pods.', 1, 1000),
            maxReplicas: integer('Most pods.', 1, 1000),
            targetCPUUtilizationPercentage: integer('CPU utilisation to aim at.', 1, 100),
            targetMemoryUtilizationPercentage: {
              type: ['integer', 'null'],
              minimum: 1,
              maximum: 100,
              description: 'Memory utilisation to aim at; null: CPU only.',
            },
          },
          ['enabled', 'minReplicas', 'maxReplicas', 'targetCPUUtilizationPercentage'],
        ),
        pdb: object(
          'PodDisruptionBudget (with more than one pod).',
          {
            enabled: boolean('Create it.'),
            maxUnavailable: {
              type: ['integer', 'string'],
              description: 'Pods down at once (or a percentage).',
            },
            minAvailable: { type: ['integer', 'string', 'null'], description: 'Pods that stay up instead.' },
          },
          ['enabled'],
        ),
        ...podExtras,
        ...scheduling,
        topologySpreadConstraints: objectList('Topology spread constraints of the pods.'),
        defaultSpread: boolean(
          'Spread the pods softly over nodes and zones when no affinity or constraints are set.',
        ),
      },
      [
        'replicaCount',
        'port',
        'probes',
        'service',
        'shutdownDelaySeconds',
        'terminationGracePeriodSeconds',
        'autoscaling',
        'pdb',
      ],
    ),
  };
}

/** The umbrella's own values; each subchart's section is checked in full by that subchart's schema. */
export function umbrellaSchema(): Schema {
  const section = (description: string): Schema => ({
    type: 'object',
    description,
    properties: { enabled: boolean('Deploy it.') },
  });
  return {
    $schema: 'https://json-schema.org/draft-07/schema#',
    title: 'choreo values',
    ...object(
      'The choreo umbrella chart.',
      {
        global: globalSchema(),
        ...Object.fromEntries(
          APPS.map((app) => [app, section(`The ${app} app (charts/${app}/values.schema.json).`)]),
        ),
        redis: section('The bundled Redis (charts/redis/values.schema.json).'),
        postgresql: section('The bundled PostgreSQL (charts/postgresql/values.schema.json).'),
        // Helm hands every dependency, the library chart included, a section of its own.
        common: { type: 'object', description: 'The library chart (takes no values).' },
        tests: object('The `helm test` pod.', { image: serverImage }, ['image']),
        ingress: object('One Ingress for every client path.', {
          enabled: boolean('Create it.'),
          className: optionalName('IngressClass; empty: the cluster default.'),
          host: string('Host name; empty: every host.', {
            pattern: '^(([a-z0-9*]([-a-z0-9]*[a-z0-9])?)(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$',
          }),
          annotations: stringMap('Annotations (cert-manager, controller settings).'),
          nginxStreaming: boolean('Add the ingress-nginx annotations for WebSocket and SSE.'),
          streamTimeoutSeconds: integer('Read/send timeout of the long-lived connections.', 60, 86400),
          tls: object('TLS.', {
            enabled: boolean('Serve HTTPS.'),
            secretName: optionalName('Secret with the certificate; empty: <release>-tls.'),
          }),
        }),
        httpRoute: object('A Gateway API HTTPRoute for every client path.', {
          enabled: boolean('Create it.'),
          parentRefs: objectList('The Gateways (name, namespace, sectionName).'),
          hostnames: { type: 'array', description: 'Host names.', items: { type: 'string' } },
          annotations: stringMap('Annotations.'),
        }),
        networkPolicy: object('NetworkPolicies: who may reach the apps and the bundled servers.', {
          enabled: boolean('Create them.'),
          ingressControllers: objectList('NetworkPolicyPeers of the Ingress controller / Gateway.'),
          prometheus: objectList('NetworkPolicyPeers that scrape /metrics.'),
          extraAppClients: objectList('Other NetworkPolicyPeers that may call the apps.'),
        }),
      },
      ['global'],
    ),
  };
}

/** Every schema file of the chart tree, by path relative to charts/choreo. */
export function chartSchemas(): Record<string, Schema> {
  return {
    'values.schema.json': umbrellaSchema(),
    ...Object.fromEntries(APPS.map((app) => [`charts/${app}/values.schema.json`, appSchema(app)])),
    'charts/redis/values.schema.json': redisSchema(),
    'charts/postgresql/values.schema.json': postgresqlSchema(),
  };
}
