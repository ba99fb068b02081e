/** The JSON Schema building blocks of the chart's values.schema.json files (values-schema.ts, server-schemas.ts). */
export type Schema = Record<string, unknown>;

export const object = (
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
export const string = (description: string, extra: Schema = {}): Schema => ({
  type: 'string',
  description,
  ...extra,
});
export const integer = (description: string, minimum: number, maximum?: number): Schema => ({
  type: 'integer',
  description,
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
});
export const boolean = (description: string): Schema => ({ type: 'boolean', description });
export const stringMap = (description: string): Schema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const PULL_POLICIES = ['IfNotPresent', 'Always', 'Never'];
// Kubernetes resource quantities: 100m, 0.5, 256Mi, 1G …
export const QUANTITY = '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$';
export const quantity: Schema = { type: ['string', 'number'], pattern: QUANTITY };

// Set by the chart itself (from other values or the Secret): an `env` entry would be ignored or would
// break the pod (PORT apart from the container port and probes).
export const RESERVED_ENV = [
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
  'DEAD_LETTER_RETENTION',
  'DEAD_LETTER_ALERT_LENGTH',
];

export const envMap = (description: string): Schema => ({
  type: 'object',
  description: `${description} Not the variables the chart sets itself: ${RESERVED_ENV.join(', ')}.`,
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', not: { enum: RESERVED_ENV } },
  additionalProperties: { type: ['string', 'number', 'boolean'] },
});

export const resources = object('Container requests and limits.', {
  requests: object('Requested resources.', { cpu: quantity, memory: quantity }),
  limits: object('Resource limits.', { cpu: quantity, memory: quantity }),
});

export const scheduling: Record<string, Schema> = {
  nodeSelector: stringMap('Node selector of the pods.'),
  tolerations: { type: 'array', description: 'Tolerations of the pods.', items: { type: 'object' } },
  affinity: { type: 'object', description: 'Affinity of the pods.' },
};

export const DIGEST = '^(sha256:[a-f0-9]{64})?$';
export const digest = string('Image digest (sha256:…); set, the image is pulled by digest.', {
  pattern: DIGEST,
});
// A Kubernetes object name (DNS subdomain), or empty.
export const optionalName = (description: string): Schema =>
  string(description, { pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$', maxLength: 253 });
export const objectList = (description: string): Schema => ({
  type: 'array',
  description,
  items: { type: 'object' },
});
// What every pod of the tree accepts for its placement and metadata.
export const podExtras: Record<string, Schema> = {
  podLabels: stringMap('Extra labels of the pods.'),
  podAnnotations: stringMap('Extra annotations of the pods.'),
  priorityClassName: optionalName('PriorityClass of the pods.'),
  // Helm gives each dependency, the library chart included, a section of its own values.
  common: { type: 'object', description: 'The library chart (takes no values).' },
};

export const persistence = object(
  'The data volume (a PersistentVolumeClaim per pod).',
  {
    size: { ...quantity, description: 'Size of the volume, e.g. 8Gi.' },
    storageClass: string("StorageClass of the volume; empty: the cluster's default."),
  },
  ['size'],
);

export const probe = (description: string): Schema =>
  object(
    description,
    {
      periodSeconds: integer('Seconds between probes.', 1, 300),
      timeoutSeconds: integer('Seconds before a probe times out.', 1, 60),
      failureThreshold: integer('Failures in a row before the probe fails.', 1, 1000),
    },
    ['periodSeconds', 'timeoutSeconds', 'failureThreshold'],
  );

export const serverImage = object(
  'Image of the server.',
  {
    repository: string('Image repository.', { minLength: 1 }),
    tag: string('Image tag.', { minLength: 1 }),
    digest,
    pullPolicy: string('Image pull policy.', { enum: PULL_POLICIES }),
  },
  ['repository', 'tag'],
);
