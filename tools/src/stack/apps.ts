import { APP_PORTS, APPS } from '@choreo/contracts';
import { BACKOFF, backoffDelayMs } from '@choreo/redis';

/** An app as `npm start` runs it: its port and entry point. */
export interface AppSpec {
  name: string;
  port: number;
  /** Path of the entry point, relative to the repository root. */
  main: string;
}

const FIRST_PORT = Math.min(...Object.values(APP_PORTS));

/**
 * The apps of the registry (libs/contracts), each on its registered port (crud 3001 … simulator 3006),
 * or all shifted together so that the first one listens on `basePort`.
 */
export function appSpecs(basePort: number = FIRST_PORT): AppSpec[] {
  return APPS.map((name) => ({
    name,
    port: APP_PORTS[name] - FIRST_PORT + basePort,
    main: `apps/${name}/src/main.ts`,
  }));
}

/** Restart delay after the n-th consecutive crash: 0.5 s, 1 s, 2 s … capped at 30 s (BACKOFF.appRestart). */
export function restartDelayMs(consecutiveCrashes: number): number {
  return backoffDelayMs(consecutiveCrashes, BACKOFF.appRestart);
}
