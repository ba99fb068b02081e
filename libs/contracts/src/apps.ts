/**
 * The apps of the system and the HTTP port each one listens on by default: the one registry that every
 * app's config (its PORT default), `npm start` (tools/src/stack), the Helm chart's values and schema
 * (tools/src/helm) and the image's HEALTHCHECK (docker/healthcheck.cjs) read. PORT overrides it per app.
 */
export const APP_PORTS = {
  crud: 3001,
  events: 3002,
  'cdc-relay': 3003,
  aggregator: 3004,
  notifications: 3005,
  simulator: 3006,
} as const;

export type AppName = keyof typeof APP_PORTS;

/** The app names, in start-up order (the order of APP_PORTS). */
export const APPS = Object.keys(APP_PORTS) as readonly AppName[];
