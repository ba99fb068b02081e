import {
  boolean,
  digest,
  envMap,
  integer,
  LOG_LEVELS,
  object,
  optionalName,
  PULL_POLICIES,
  type Schema,
  string,
  stringMap,
} from './schema-parts';

/** The `global:` block, the same in the umbrella and every subchart. */
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
