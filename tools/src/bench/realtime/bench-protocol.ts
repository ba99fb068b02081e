import type { StormTally } from './storm-accounting';

/** Messages between the realtime bench and its client processes (IPC). */
export type ToClients =
  | { cmd: 'connect'; url: string; count: number; channels: string[]; offset: number; resumable: boolean }
  | { cmd: 'reset' }
  | { cmd: 'report' }
  | { cmd: 'drop'; waitMs: number }
  | { cmd: 'verify'; last: Record<string, number>; waitMs: number }
  | { cmd: 'close' };

export type FromClients =
  | { kind: 'connected'; count: number }
  | {
      kind: 'report';
      frames: number;
      firstAt: number;
      lastAt: number;
      latencies: number[];
      /** Raw connections the server closed, by close code. */
      closes: Record<string, number>;
    }
  | { kind: 'dropped'; clients: number; resumed: number; resumedAfterMs: number[] }
  | { kind: 'verified'; tally: StormTally }
  | { kind: 'closed' }
  | { kind: 'failed'; error: string };

/** The channels a bench run publishes on: `aggregates:<prefix>-<i>` (no window key: never coalesced). */
export function benchChannels(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `aggregates:${prefix}-${i}`);
}
