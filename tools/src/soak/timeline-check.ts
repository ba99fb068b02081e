/** What the soak finds about the timelines its clients received. */
export interface TimelineVerdict {
  orders: number;
  /** Orders whose client saw every step 1..n (n = the order's sequence in PostgreSQL). */
  complete: number;
  /** Orders whose steps arrived in offset order. */
  inOrder: number;
  /** Steps delivered to the application more than once. */
  duplicates: number;
  /** Orders with a step missing, and a few of them for the report. */
  incomplete: number;
  examples: string[];
}

/**
 * Judges each order's received offsets against its final sequence: complete (1..n all present),
 * in order (never a smaller offset after a larger one), no duplicates.
 */
export function judgeTimelines(
  received: ReadonlyMap<string, readonly number[]>,
  finalSequences: ReadonlyMap<string, number>,
): TimelineVerdict {
  const verdict: TimelineVerdict = {
    orders: finalSequences.size,
    complete: 0,
    inOrder: 0,
    duplicates: 0,
    incomplete: 0,
    examples: [],
  };
  for (const [orderId, last] of finalSequences) {
    const offsets = received.get(orderId) ?? [];
    const distinct = new Set(offsets);
    verdict.duplicates += offsets.length - distinct.size;
    if (offsets.every((offset, i) => i === 0 || offset > offsets[i - 1])) verdict.inOrder++;
    const missing: number[] = [];
    for (let n = 1; n <= last; n++) if (!distinct.has(n)) missing.push(n);
    if (missing.length === 0) verdict.complete++;
    else {
      verdict.incomplete++;
      if (verdict.examples.length < 5)
        verdict.examples.push(
          `${orderId}: got [${offsets.join(',')}], missing [${missing.join(',')}] of 1..${last}`,
        );
    }
  }
  return verdict;
}
