import type { LiveFrame } from './channel-keys';

export interface MergedReplay {
  /** What to send, in order: the publications after `after`, then the latest of each state key. */
  frames: LiveFrame[];
  /** The offset the subscriber holds once the frames are sent. */
  last: number;
}

/**
 * The Centrifugo sync step: merge what history returned with what pub/sub delivered meanwhile,
 * drop duplicates, check contiguity from `after + 1`. Undefined when a gap remains (a message lost
 * between the history read and the buffer): the caller reads again or sends a snapshot, never a
 * partial replay. State frames (no offset) keep the latest per key, history's before the buffer's.
 */
export function mergeReplay(
  after: number,
  history: readonly LiveFrame[],
  buffered: readonly LiveFrame[],
): MergedReplay | undefined {
  const byOffset = new Map<number, LiveFrame>();
  const state = new Map<string, LiveFrame>();
  for (const frame of [...history, ...buffered]) {
    if (frame.offset === undefined) {
      if (frame.key !== undefined) {
        state.delete(frame.key);
        state.set(frame.key, frame);
      }
    } else if (frame.offset > after && !byOffset.has(frame.offset)) {
      byOffset.set(frame.offset, frame);
    }
  }
  const offsets = [...byOffset.keys()].sort((a, b) => a - b);
  let last = after;
  for (const offset of offsets) {
    if (offset !== last + 1) return undefined;
    last = offset;
  }
  return { frames: [...offsets.map((o) => byOffset.get(o) as LiveFrame), ...state.values()], last };
}
