/** What to do with a publication, given the offset held so far on its channel. */
export type OffsetVerdict = 'apply' | 'duplicate' | 'gap';

/**
 * The ordering rule every receiver of a channel applies (the server per connection, the client per
 * subscription): offset `last + 1` is applied, anything not newer is a duplicate, anything further
 * is a gap to repair from history. Keyed state values (aggregates) may skip offsets: a slow
 * connection gets only the latest value of a key. Publications without an offset (courier
 * positions) are state outside the sequence and always apply.
 */
export function judgeOffset(
  last: number | undefined,
  publication: { offset?: number; key?: string },
): OffsetVerdict {
  const { offset } = publication;
  if (offset === undefined || last === undefined) return 'apply';
  if (offset <= last) return 'duplicate';
  if (offset === last + 1 || publication.key !== undefined) return 'apply';
  return 'gap';
}
