/** What one storm client held and received, as its process recorded it. */
export interface StormClientRecord {
  channel: string;
  /** The offset the client held once its first subscribe was made whole (before the storm). */
  startOffset: number;
  /** Every publication offset handed to the application, in arrival order. */
  offsets: readonly number[];
  /** Whether a `subscribed` reply came after the drop. */
  resumed: boolean;
  /** Snapshots applied after the drop (a resume that could not replay). */
  snapshotsAfterDrop: number;
}

export interface StormTally {
  clients: number;
  resumed: number;
  /** Publications in (startOffset, last] of the client's channel that the client never received. */
  lost: number;
  duplicates: number;
  /** Publications received with an offset not above the one before. */
  outOfOrder: number;
  snapshots: number;
}

export const emptyTally = (): StormTally => ({
  clients: 0,
  resumed: 0,
  lost: 0,
  duplicates: 0,
  outOfOrder: 0,
  snapshots: 0,
});

/**
 * Counts the storm against what was published: every offset after the one a client held before
 * the storm, up to its channel's last, must have reached it once and in order. A client that never
 * resumed, or resumed with a snapshot, or lost the head or the tail of the run, shows as lost.
 */
export function tallyStorm(
  records: readonly StormClientRecord[],
  lastByChannel: Readonly<Record<string, number>>,
): StormTally {
  const tally = emptyTally();
  for (const record of records) {
    const last = lastByChannel[record.channel];
    if (last === undefined) throw new Error(`no last offset known for ${record.channel}`);
    tally.clients++;
    if (record.resumed) tally.resumed++;
    tally.snapshots += record.snapshotsAfterDrop;
    const seen = new Set<number>();
    let previous = record.startOffset;
    for (const offset of record.offsets) {
      if (seen.has(offset)) tally.duplicates++;
      else if (offset <= previous) tally.outOfOrder++;
      seen.add(offset);
      previous = Math.max(previous, offset);
    }
    for (let offset = record.startOffset + 1; offset <= last; offset++) if (!seen.has(offset)) tally.lost++;
  }
  return tally;
}

/** Adds the tallies of the client processes. */
export function addTallies(tallies: readonly StormTally[]): StormTally {
  const sum = emptyTally();
  for (const t of tallies) for (const key of Object.keys(sum) as (keyof StormTally)[]) sum[key] += t[key];
  return sum;
}
