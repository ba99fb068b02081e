import { judgeTimelines } from './timeline-check';

describe('judgeTimelines', () => {
  it('counts complete, in-order timelines and finds duplicates and gaps', () => {
    const sut = judgeTimelines(
      new Map([
        ['a', [1, 2, 3, 4, 5, 6]],
        ['b', [1, 2, 2, 3]],
        ['c', [1, 3, 2]],
        ['d', [1, 2]],
      ]),
      new Map([
        ['a', 6],
        ['b', 3],
        ['c', 3],
        ['d', 4],
        ['e', 2],
      ]),
    );
    expect(sut).toMatchObject({ orders: 5, complete: 3, inOrder: 3, duplicates: 1, incomplete: 2 });
    expect(sut.examples).toEqual(['d: got [1,2], missing [3,4] of 1..4', 'e: got [], missing [1,2] of 1..2']);
  });
});
