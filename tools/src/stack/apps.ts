import { BACKOFF, backoffDelayMs } from '@choreo/redis';

/** The apps of the system, their default ports and what each one needs. */
export interface AppSpec {
  name: string;
  port: number;
  /** Path of the entry point, relative to the repository root. */
  main: string;
}

const names = ['crud', 'events', 'cdc-relay', 'aggregator', 'notifications', 'simulator'] as const;

/** The apps with ports from `basePort` on (crud 3001 … simulator 3006 by default). */
export function appSpecs(basePort = 3001): AppSpec[] {
  return names.map((name, index) => ({ name, port: basePort + index, main: `apps/${name}/src/main.ts` }));
}

/** Restart delay after the n-th consecutive crash: 0.5 s, 1 s, 2 s … capped at 30 s (BACKOFF.appRestart). */
export function restartDelayMs(consecutiveCrashes: number): number {
  return backoffDelayMs(consecutiveCrashes, BACKOFF.appRestart);
}
