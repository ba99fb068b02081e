import { comparePositions, eventIdFor, formatLsn, formatPosition, parseLsn, parsePosition } from './position';

describe('position', () => {
  it('reads and prints LSNs the way PostgreSQL does', () => {
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n);
    expect(formatLsn(0x16b374d848n)).toBe('16/B374D848');
    expect(formatLsn(parseLsn('0/0'))).toBe('0/0');
    expect(() => parseLsn('16-B3')).toThrow(/not an LSN/);
  });

  it('writes positions as fixed-width text whose order is position order', () => {
    const positions = [
      { commitLsn: 0x16b374d848n, ordinal: 2 },
      { commitLsn: 0x16b374d848n, ordinal: 10 },
      { commitLsn: 0x16b374d849n, ordinal: 1 },
      { commitLsn: 0x1_00000000n, ordinal: 1 },
      { commitLsn: 0xffn, ordinal: 0xffffffff },
    ];
    const texts = positions.map(formatPosition);
    expect(texts[0]).toBe('00000016B374D848:00000002');
    expect([...texts].sort()).toEqual([...positions].sort(comparePositions).map(formatPosition));
    for (const text of texts) expect(formatPosition(parsePosition(text))).toBe(text);
  });

  it('derives the same UUID-shaped id from the same position, and different ids from others', () => {
    const id = eventIdFor({ commitLsn: 42n, ordinal: 1 });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventIdFor({ commitLsn: 42n, ordinal: 1 })).toBe(id);
    expect(eventIdFor({ commitLsn: 42n, ordinal: 2 })).not.toBe(id);
    expect(eventIdFor({ commitLsn: 43n, ordinal: 1 })).not.toBe(id);
  });

  it('lays the position out in the id, so ids are unique per position and sort in position order', () => {
    expect(eventIdFor('00000016B374D848:0000000A')).toBe('00000016-b374-8cdc-8cdc-d8480000000a');
    expect(eventIdFor({ commitLsn: 0xffffffffffffffffn, ordinal: 0xffffffff })).toBe(
      'ffffffff-ffff-8cdc-8cdc-ffffffffffff',
    );
    const positions = [
      { commitLsn: 0x16b374d848n, ordinal: 2 },
      { commitLsn: 0x16b374d848n, ordinal: 0x10 },
      { commitLsn: 0x16b375d848n, ordinal: 1 },
      { commitLsn: 0x1_00000000n, ordinal: 1 },
      { commitLsn: 0xffn, ordinal: 0xffffffff },
    ];
    const ids = positions.map((p) => eventIdFor(p));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...positions].sort(comparePositions).map((p) => eventIdFor(p)));
    expect(() => eventIdFor('16/B374D848')).toThrow(/not a CDC position/);
  });
});
