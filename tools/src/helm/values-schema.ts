import path from 'node:path';
import { APP_PORTS, APPS, type AppName } from '@choreo/contracts';

/**
 * The values.schema.json of every chart under charts/choreo, built from one definition so that the
 * `global:` block and the app values cannot drift apart between the umbrella and its seven subcharts
 * (Helm validates each subchart's values, `global` included, against that subchart's own schema).
 * `npm run chart:write` (write-chart.ts) rewrites the files, and
 * values-schema.spec.ts fails when a checked-in file differs from what this module builds.
 */

export type Schema = Record<string, unknown>;

export const CHART_ROOT = path.resolve(__dirname, '../../../charts/choreo');

const object = (
  description: string,
  properties: Record<string, Schema>,
  required: string[] = [],
): Schema => ({
  type: 'object',
  description,
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});
const string = (description: string, extra: Schema = {}): Schema => ({
  type: 'string',
  description,
  ...extra,
});
const integer = (description: string, minimum: number, maximum?: number): Schema => ({
  type: 'integer',
  description,
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
});
const boolean = (description: string): Schema => ({ type: 'boolean', description });
const stringMap = (description: string): Schema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
});

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const PULL_POLICIES = ['IfNotPresent', 'Always', 'Never'];
// Kubernetes resource quantities: 100m, 0.5, 256Mi, 1G …
const QUANTITY = '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$';
const quantity: Schema = { type: ['string', 'number'], pattern: QUANTITY };

// Set by the chart itself (from other values or the Secret): an `env` entry would be ignored or would
// break the pod (PORT apart from the container port and probes).
const RESERVED_ENV = [
  'APP',
  'PORT',
  'LOG_LEVEL',
  'NODE_ENV',
  'OTEL_SERVICE_NAME',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'DATABASE_URL',
  'REDIS_URL',
  'API_TOKENS',
  'TRACKING_TOKEN_SECRET',
];

const envMap = (description: string): Schema => ({
  type: 'object',
  description: `${description} Not the variables the chart sets itself: ${RESERVED_ENV.join(', ')}.`,
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', not: { enum: RESERVED_ENV } },
  additionalProperties: { type: ['string', 'number', 'boolean'] },
});

const resources = object('Container requests and limits.', {
  requests: object('Requested resources.', { cpu: quantity, memory: quantity }),
  limits: object('Resource limits.', { cpu: quantity, memory: quantity }),
});

const scheduling: Record<string, Schema> = {
  nodeSelector: stringMap('Node selector of the pods.'),
  tolerations: { type: 'array', description: 'Tolerations of the pods.', items: { type: 'object' } },
  affinity: { type: 'object', description: 'Affinity of the pods.' },
};

const DIGEST = '^(sha256:[a-f0-9]{64})?$';
const digest = string('Image digest (sha256:…); set, the image is pulled by digest.', { pattern: DIGEST });
// A Kubernetes object name (DNS subdomain), or empty.
const optionalName = (description: string): Schema =>
  string(description, { pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$', maxLength: 253 });
const objectList = (description: string): Schema => ({
  type: 'array',
  description,
  items: { type: 'object' },
});
// What every pod of the tree accepts for its placement and metadata.
const podExtras: Record<string, Schema> = {
  podLabels: stringMap('Extra labels of the pods.'),
  podAnnotations: stringMap('Extra annotations of the pods.'),
  priorityClassName: optionalName('PriorityClass of the pods.'),
  // Helm gives each dependency, the library chart included, a section of its own values.
  common: { type: 'object', description: 'The library chart (takes no values).' },
};

const persistence = object(
  'The data volume (a PersistentVolumeClaim per pod).',
  {
    size: { ...quantity, description: 'Size of the volume, e.g. 8Gi.' },
    storageClass: string("StorageClass of the volume; empty: the cluster's default."),
  },
  ['size'],
);

/** The `global:` block every chart of the tree sees. */
export function globalSchema(): Schema {
  return object('Settings shared by every subchart.', {
    image: object(
      'The one choreo image every app runs.',
      {
        repository: string('Image repository.', { minLength: 1 }),
        tag: string("Image tag; empty: the chart's appVersion.", { pattern: '^([\\w][\\w.-]{0,127})?$' }),
        digest,
        pullPolicy: string('Image pull policy.', { enum: PULL_POLICIES }),
        loadedOnNodes: boolean(
          'The image is already on the nodes (kind load, minikube image load): skip the registry guard.',
        ),
      },
      ['repository'],
    ),
    imageRegistry: string('Registry put in front of every image of the chart (host[:port][/path]).', {
      pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._/-]+)?)?$',
    }),
    imagePullCheck: object('The pre-install/pre-upgrade Job that pulls the choreo image first.', {
      enabled: boolean('Run it.'),
      timeoutSeconds: integer('Seconds the pull may take before the install fails.', 30, 3600),
    }),
    openshift: boolean('Leave out the fixed user and group ids (OpenShift assigns them).'),
    serviceAccount: object('The ServiceAccount of the pods.', {
      create: boolean('Create one for the release.'),
      name: optionalName('Its name; empty: <release>-choreo when created, else default.'),
      annotations: stringMap('Annotations of the ServiceAccount (e.g. cloud workload identity).'),
    }),
    postgresql: object('Secrets of the bundled PostgreSQL.', {
      auth: object('Passwords; empty: generated once and kept.', {
        password: string('Password of the role the apps connect as.', { pattern: '^\\S*$' }),
        postgresPassword: string('Password of the postgres superuser.', { pattern: '^\\S*$' }),
      }),
    }),
    redis: object('Secrets of the bundled Redis.', {
      password: string('requirepass; empty: generated once and kept.', { pattern: '^\\S*$' }),
    }),
    imagePullSecrets: {
      type: 'array',
      description: 'Pull secrets for the image.',
      items: object(
        'A Secret of type kubernetes.io/dockerconfigjson.',
        { name: string('Its name.', { minLength: 1 }) },
        ['name'],
      ),
    },
    databaseUrl: string('DATABASE_URL of an external PostgreSQL; empty: the bundled one.', {
      pattern: '^(postgres(ql)?://\\S+)?$',
    }),
    redisUrl: string('REDIS_URL of an external Redis; empty: the bundled one.', {
      pattern: '^(rediss?://\\S+)?$',
    }),
    existingSecret: string('Name of a Secret you manage with the settings; empty: the chart renders one.', {
      pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$',
      maxLength: 253,
    }),
    apiTokens: {
      type: 'array',
      description: 'API_TOKENS: bearer tokens for write calls, 16+ characters, no spaces or commas.',
      uniqueItems: true,
      items: { type: 'string', pattern: '^[^\\s,]{16,}$' },
    },
    trackingTokenSecret: string('TRACKING_TOKEN_SECRET: HMAC secret of tracking tokens, 32+ characters.', {
      pattern: '^(.{32,})?$',
    }),
    logLevel: string('LOG_LEVEL of every app.', { enum: LOG_LEVELS }),
    nodeEnv: string('NODE_ENV of every app.', { minLength: 1 }),
    otelExporterOtlpEndpoint: string('OTEL_EXPORTER_OTLP_ENDPOINT; empty: traces are not exported.', {
      pattern: '^(https?://\\S+)?$',
    }),
    env: envMap('Extra plain environment variables of every app.'),
    metrics: object('Prometheus.', {
      scrapeAnnotations: boolean('Add prometheus.io/* annotations to the app pods.'),
      serviceMonitor: object('A Prometheus Operator ServiceMonitor per app.', {
        enabled: boolean('Create them.'),
        interval: string('Scrape interval.', { pattern: '^[0-9]+(ms|s|m|h)$' }),
        scrapeTimeout: string('Scrape timeout.', { pattern: '^[0-9]+(ms|s|m|h)$' }),
        labels: stringMap('Extra labels (to match the Prometheus serviceMonitorSelector).'),
      }),
    }),
  });
}

const probe = (description: string): Schema =>
  object(
    description,
    {
      periodSeconds: integer('Seconds between probes.', 1, 300),
      timeoutSeconds: integer('Seconds before a probe times out.', 1, 60),
      failureThreshold: integer('Failures in a row before the probe fails.', 1, 1000),
    },
    ['periodSeconds', 'timeoutSeconds', 'failureThreshold'],
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

const serverImage = object(
  'Image of the server.',
  {
    repository: string('Image repository.', { minLength: 1 }),
    tag: string('Image tag.', { minLength: 1 }),
    digest,
    pullPolicy: string('Image pull policy.', { enum: PULL_POLICIES }),
  },
  ['repository', 'tag'],
);

/** The values of the bundled Redis. */
export function redisSchema(): Schema {
  return {
    $schema: 'https://json-schema.org/draft-07/schema#',
    title: 'choreo redis values',
    ...object(
      'The bundled Redis (AOF on, StatefulSet + PVC).',
      {
        global: globalSchema(),
        enabled: boolean('Deploy the bundled Redis.'),
        image: serverImage,
        auth: object('Password (requirepass): global.redis.password.', {
          enabled: boolean('Require a password.'),
        }),
        appendfsync: string('appendfsync of the AOF.', { enum: ['always', 'everysec', 'no'] }),
        maxmemory: string('maxmemory (e.g. 400mb); empty: no limit of its own.', {
          pattern: '^([0-9]+(b|kb|mb|gb|k|m|g)?)?$',
        }),
        // Only policies that never evict a key without a TTL: the streams have none.
        maxmemoryPolicy: string('maxmemory-policy.', {
          enum: ['noeviction', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl'],
        }),
        persistence,
        resources,
        ...podExtras,
        ...scheduling,
      },
      ['image', 'auth', 'appendfsync', 'maxmemoryPolicy', 'persistence'],
    ),
  };
}

const IDENTIFIER = '^[a-z_][a-z0-9_]{0,62}$';

/** The values of the bundled PostgreSQL. */
export function postgresqlSchema(): Schema {
  return {
    $schema: 'https://json-schema.org/draft-07/schema#',
    title: 'choreo postgresql values',
    ...object(
      'The bundled PostgreSQL (wal_level=logical, StatefulSet + PVC).',
      {
        global: globalSchema(),
        enabled: boolean('Deploy the bundled PostgreSQL.'),
        image: serverImage,
        auth: object(
          'The user and database created at first start.',
          {
            username: string('Role the apps connect as (not postgres).', {
              pattern: IDENTIFIER,
              not: { enum: ['postgres'] },
            }),
            database: string('Database name.', { pattern: IDENTIFIER }),
          },
          ['username', 'database'],
        ),
        maxReplicationSlots: integer('max_replication_slots.', 1, 1000),
        maxWalSenders: integer('max_wal_senders.', 1, 1000),
        maxSlotWalKeepSize: {
          type: ['string', 'integer'],
          description: 'max_slot_wal_keep_size (e.g. 4GB; a bare number is MB); -1: unlimited.',
          pattern: '^(-1|[0-9]+(kB|MB|GB|TB)?)$',
          minimum: -1,
        },
        extraSettings: {
          type: 'object',
          description: 'Other server settings, passed as -c name=value.',
          propertyNames: {
            pattern: '^[a-z_][a-z0-9_.]*$',
            not: {
              enum: ['wal_level', 'max_replication_slots', 'max_wal_senders', 'max_slot_wal_keep_size'],
            },
          },
          additionalProperties: { type: ['string', 'number', 'boolean'] },
        },
        persistence,
        resources,
        ...podExtras,
        ...scheduling,
      },
      ['image', 'auth', 'maxReplicationSlots', 'maxWalSenders', 'maxSlotWalKeepSize', 'persistence'],
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
