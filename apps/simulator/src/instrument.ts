import { startTracing } from '@choreo/observability';

// Imported first by main.ts: instrumentation must be in place before http, pg and ioredis load.
startTracing('simulator');
