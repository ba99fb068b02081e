import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CloseCodes,
  decodeSseCursor,
  encodeSseCursor,
  judgeOffset,
  parseClientFrame,
  parseServerFrame,
  realtimeJsonSchemas,
  shouldResume,
} from '../index';

describe('parseClientFrame', () => {
  it('accepts a subscribe with a resume position', () => {
    const result = parseClientFrame(
      JSON.stringify({ type: 'subscribe', id: 7, channel: 'order:1', token: 't', since: { offset: 3 } }),
    );
    expect(result).toEqual({
      ok: true,
      frame: { type: 'subscribe', id: 7, channel: 'order:1', token: 't', since: { offset: 3 } },
    });
  });

  it.each([
    ['not JSON', '{oops', 'bad_frame', undefined],
    ['an array', '[1]', 'bad_frame', undefined],
    ['no type', '{"channel":"x"}', 'unknown_type', 'type'],
    ['an unknown type', '{"type":"publish"}', 'unknown_type', 'type'],
    ['a missing channel', '{"type":"subscribe","id":2}', 'invalid_field', 'channel'],
    [
      'a bad offset',
      '{"type":"subscribe","channel":"a","since":{"offset":-1}}',
      'invalid_field',
      'since.offset',
    ],
    ['an unknown field', '{"type":"ping","extra":1}', 'invalid_field', 'extra'],
    ['a refresh without token', '{"type":"refresh","channel":"a"}', 'invalid_field', 'token'],
  ])('refuses %s, naming the problem', (_name, text, code, field) => {
    const result = parseClientFrame(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.refusal.code).toBe(code);
    expect(result.refusal.field).toBe(field);
    expect(result.refusal.message.length).toBeGreaterThan(5);
  });

  it('echoes the request id of a refused frame', () => {
    const result = parseClientFrame('{"type":"subscribe","id":9}');
    expect(!result.ok && result.refusal.id).toBe(9);
  });
});

describe('parseServerFrame', () => {
  it('reads a publication and refuses an unknown frame', () => {
    expect(
      parseServerFrame(
        '{"type":"publication","channel":"order:1","offset":1,"event":"order.created","data":{}}',
      ),
    ).toMatchObject({ type: 'publication', offset: 1 });
    expect(() => parseServerFrame('{"type":"hello"}')).toThrow();
  });
});

describe('judgeOffset', () => {
  it('applies last + 1, drops what is not newer, flags a gap', () => {
    expect(judgeOffset(3, { offset: 4 })).toBe('apply');
    expect(judgeOffset(3, { offset: 3 })).toBe('duplicate');
    expect(judgeOffset(3, { offset: 1 })).toBe('duplicate');
    expect(judgeOffset(3, { offset: 6 })).toBe('gap');
  });

  it('lets keyed state skip offsets and state without an offset through', () => {
    expect(judgeOffset(3, { offset: 6, key: 'w1' })).toBe('apply');
    expect(judgeOffset(3, { offset: 2, key: 'w1' })).toBe('duplicate');
    expect(judgeOffset(3, {})).toBe('apply');
  });
});

describe('close codes', () => {
  it('splits reconnect-and-resume from do-not-retry', () => {
    expect(shouldResume(CloseCodes.slowConsumer)).toBe(true);
    expect(shouldResume(CloseCodes.shutdown)).toBe(true);
    expect(shouldResume(1006)).toBe(true);
    expect(shouldResume(CloseCodes.unsupportedProtocol)).toBe(false);
    expect(shouldResume(CloseCodes.policyViolation)).toBe(false);
    expect(shouldResume(1009)).toBe(false);
  });
});

describe('SSE cursor', () => {
  it('round-trips every channel position', () => {
    const positions = new Map([
      ['order:0190f6a4-7c1e-7000-8000-000000000001', { offset: 4 }],
      ['entity:product', { offset: 120, epoch: 'k3x9' }],
    ]);
    const cursor = encodeSseCursor(positions);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeSseCursor(cursor)).toEqual(positions);
  });

  it.each(['', 'not base64!', encodeURIComponent('{"a":[-1]}'), btoa('{"a":"x"}')])(
    'reads a foreign id %j as no cursor',
    (cursor) => {
      const decoded = decodeSseCursor(cursor);
      expect(decoded === undefined || decoded.size === 0).toBe(true);
    },
  );
});

describe('docs/realtime.schema.json', () => {
  it('is the JSON Schema of the frames as defined (run `npm run docs:realtime` after a change)', () => {
    const file = path.join(__dirname, '../../../../docs/realtime.schema.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(realtimeJsonSchemas());
  });
});
