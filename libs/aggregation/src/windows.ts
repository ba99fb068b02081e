import type { WindowSpec } from './compiled-rule';

/** A window `[start, end)` in epoch milliseconds; the global window ends at Infinity. */
export interface WindowBounds {
  start: number;
  end: number;
}

/**
 * The fixed windows an event at `time` belongs to, oldest first: one tumbling window, size/slide hopping
 * windows (aligned to the epoch, as Flink's and RisingWave's hop()), or the global window. Session
 * windows depend on the other events of the key: see mergeSession.
 */
export function windowsFor(spec: WindowSpec, time: number): WindowBounds[] {
  switch (spec.type) {
    case 'tumbling': {
      const start = Math.floor(time / spec.sizeMs) * spec.sizeMs;
      return [{ start, end: start + spec.sizeMs }];
    }
    case 'hopping': {
      const windows: WindowBounds[] = [];
      const last = Math.floor(time / spec.slideMs) * spec.slideMs;
      for (let start = last; start > time - spec.sizeMs; start -= spec.slideMs) {
        windows.unshift({ start, end: start + spec.sizeMs });
      }
      return windows;
    }
    case 'global':
      return [{ start: 0, end: Infinity }];
    case 'session':
      throw new Error('session windows are assigned by merging, not by time alone');
  }
}

/**
 * Whether a session `[start, end)` (end = last event + gap) takes an event at `time`: its own proto-window
 * `[time, time + gap)` touches or overlaps the session, as Flink's TimeWindow.intersects. So events at
 * most `gap` apart share a session.
 */
export function sessionTakes(session: WindowBounds, time: number, gapMs: number): boolean {
  return session.start <= time + gapMs && session.end >= time;
}
