import { addTallies, StormClientRecord, tallyStorm } from './storm-accounting';

const client = (offsets: number[], extra: Partial<StormClientRecord> = {}): StormClientRecord => ({
  channel: 'aggregates:a',
  startOffset: 0,
  offsets,
  resumed: true,
  snapshotsAfterDrop: 0,
  ...extra,
});

describe('tallyStorm', () => {
  it('finds nothing wrong with a client that holds every offset once, in order', () => {
    expect(tallyStorm([client([1, 2, 3, 4])], { 'aggregates:a': 4 })).toEqual({
      clients: 1,
      resumed: 1,
      lost: 0,
      duplicates: 0,
      outOfOrder: 0,
      snapshots: 0,
    });
  });

  it('counts a lost head, middle and tail against the channel, not against what arrived', () => {
    const tally = tallyStorm([client([2, 4])], { 'aggregates:a': 6 });
    expect(tally.lost).toBe(4); // 1, 3, 5, 6
  });

  it('counts only what came after the offset held before the storm', () => {
    expect(tallyStorm([client([6, 7], { startOffset: 5 })], { 'aggregates:a': 7 }).lost).toBe(0);
  });

  it('counts a client that never resumed, and received nothing, as losing every publication', () => {
    const tally = tallyStorm([client([], { resumed: false })], { 'aggregates:a': 3 });
    expect(tally).toMatchObject({ clients: 1, resumed: 0, lost: 3 });
  });

  it('counts duplicates and publications out of order', () => {
    const tally = tallyStorm([client([1, 3, 2, 3, 4])], { 'aggregates:a': 4 });
    expect(tally).toMatchObject({ lost: 0, duplicates: 1, outOfOrder: 1 });
  });

  it('refuses to count a channel whose last offset it was not given', () => {
    expect(() => tallyStorm([client([1])], {})).toThrow('aggregates:a');
  });

  it('adds the tallies of several processes', () => {
    const a = tallyStorm([client([1])], { 'aggregates:a': 2 });
    const b = tallyStorm([client([1, 2], { snapshotsAfterDrop: 1 })], { 'aggregates:a': 2 });
    expect(addTallies([a, b])).toEqual({
      clients: 2,
      resumed: 2,
      lost: 1,
      duplicates: 0,
      outOfOrder: 0,
      snapshots: 1,
    });
  });
});
