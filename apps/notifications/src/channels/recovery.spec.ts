import { mergeReplay } from './recovery';
import { SendQueue } from './send-queue';

const pub = (offset: number) => ({ offset, text: `p${offset}` });
const state = (key: string, text: string) => ({ key, text });

describe('mergeReplay', () => {
  it('merges history and buffer by offset, dropping duplicates and what the client holds', () => {
    const merged = mergeReplay(2, [pub(2), pub(3), pub(4)], [pub(4), pub(5), pub(3)]);
    expect(merged?.frames.map((f) => f.text)).toEqual(['p3', 'p4', 'p5']);
    expect(merged?.last).toBe(5);
  });

  it('refuses a partial replay when a gap remains', () => {
    expect(mergeReplay(0, [pub(1), pub(2)], [pub(4)])).toBeUndefined();
    expect(mergeReplay(3, [], [pub(5)])).toBeUndefined();
  });

  it('keeps the client where it is when there is nothing new', () => {
    expect(mergeReplay(7, [], [pub(6), pub(7)])).toEqual({ frames: [], last: 7 });
  });

  it('sends the latest state of each key after the publications', () => {
    const merged = mergeReplay(0, [pub(1), state('loc', 'old')], [state('loc', 'new'), pub(2)]);
    expect(merged?.frames.map((f) => f.text)).toEqual(['p1', 'p2', 'new']);
  });
});

describe('SendQueue', () => {
  it('replaces the queued state frame of the same key and keeps order otherwise', () => {
    const sut = new SendQueue({ maxBytes: 1000, maxFrames: 10 });
    sut.push('a1', 'ch\nloc');
    sut.push('p1');
    sut.push('a2', 'ch\nloc');
    expect(sut.coalesced).toBe(1);
    expect([sut.shift(), sut.shift(), sut.shift()]).toEqual(['a2', 'p1', undefined]);
    expect(sut.queuedBytes).toBe(0);
  });

  it('answers false past its bounds in frames or bytes', () => {
    const frames = new SendQueue({ maxBytes: 1000, maxFrames: 2 });
    expect([frames.push('a'), frames.push('b'), frames.push('c')]).toEqual([true, true, false]);
    const bytes = new SendQueue({ maxBytes: 5, maxFrames: 100 });
    expect([bytes.push('abc'), bytes.push('def')]).toEqual([true, false]);
  });

  it('coalesces correctly after compaction', () => {
    const sut = new SendQueue({ maxBytes: 1e9, maxFrames: 1e9 });
    for (let i = 0; i < 3000; i++) sut.push(`p${i}`);
    sut.push('s1', 'k');
    for (let i = 0; i < 2000; i++) sut.shift();
    sut.push('s2', 'k');
    const rest: string[] = [];
    for (let t = sut.shift(); t !== undefined; t = sut.shift()) rest.push(t);
    expect(rest.at(-1)).toBe('s2');
    expect(rest).toHaveLength(1001);
  });
});
