import { decodeEnvelope, encodeEnvelope, fieldMap } from '@choreo/contracts';
import { Pgoutput } from 'pg-logical-replication';
import { columnValue, PgoutputDecoder } from './pgoutput-decoder';
import { eventIdFor } from './position';
import { RowChange } from './pgoutput-decoder';
import { outboxEvent, RowChangeData, rowChangeEvent, transactionContext } from './relay-events';
import { packBatch } from './stream-appender';

const tx = transactionContext(0x16b374d848n, 1_763_769_600_123_456n);
const relation = {
  tag: 'relation',
  relationOid: 16384,
  schema: 'public',
  name: 'product',
  replicaIdentity: 'full',
  columns: [],
  keyColumns: [],
} as unknown as Pgoutput.MessageRelation;

describe('relay events', () => {
  it('turns a row change into a cdc.<table> event keyed by the primary key', () => {
    const event = rowChangeEvent(
      {
        tag: 'update',
        relation,
        before: { id: 7, stock: 2 },
        after: { id: 7, stock: 1 },
        unchanged: ['notes'],
      },
      tx,
      3,
      ['id'],
    );
    expect(event.stream).toBe('cdc.product');
    expect(event.position).toBe('00000016B374D848:00000003');
    const envelope = decodeEnvelope(event.fields);
    expect(envelope).toMatchObject({
      type: 'product.updated',
      source: 'cdc-relay',
      subject: '7',
      time: '2025-11-22T00:00:00.123Z',
      data: {
        table: 'product',
        key: { id: 7 },
        before: { id: 7, stock: 2 },
        after: { id: 7, stock: 1 },
        unchanged: ['notes'],
        lsn: '16/B374D848',
        position: '00000016B374D848:00000003',
      },
    });
    expect(fieldMap(event.fields)['position']).toBe(event.position);
  });

  it.each<[string, RowChange, string[]]>([
    [
      'an insert',
      { tag: 'insert', relation, before: null, after: { id: 1, n: 'a"\\é' }, unchanged: [] },
      ['id'],
    ],
    [
      'an update with unchanged TOAST',
      {
        tag: 'update',
        relation,
        before: { id: 1, big: 'x' },
        after: { id: 1, big: 'x' },
        unchanged: ['big'],
      },
      ['id'],
    ],
    [
      'a delete with a composite key',
      { tag: 'delete', relation, before: { a: 'o1', b: 2 }, after: null, unchanged: [] },
      ['a', 'b'],
    ],
    [
      'an insert keyed by text that JSON escapes',
      { tag: 'insert', relation, before: null, after: { 'co"de': 'a"b\\é\n', n: 1 }, unchanged: [] },
      ['co"de'],
    ],
    [
      'a delete keyed by a JSON value',
      { tag: 'delete', relation, before: { doc: { nested: [1, 'x'] } }, after: null, unchanged: [] },
      ['doc'],
    ],
    [
      'a change without a primary key',
      { tag: 'insert', relation, before: null, after: { x: null }, unchanged: [] },
      [],
    ],
  ])('writes %s exactly as encodeEnvelope of the envelope would', (_, change, primaryKey) => {
    const position = '00000016B374D848:0000002A';
    const image = change.after ?? change.before;
    const data: RowChangeData = {
      table: 'product',
      schema: 'public',
      key: primaryKey.length > 0 && image ? Object.fromEntries(primaryKey.map((c) => [c, image[c]])) : null,
      before: change.before,
      after: change.after,
      unchanged: change.unchanged,
      commitTime: tx.time,
      lsn: tx.lsn,
      position,
    };
    const subject =
      primaryKey.length === 0 || !image
        ? undefined
        : primaryKey.length === 1
          ? String(image[primaryKey[0]])
          : JSON.stringify(primaryKey.map((c) => image[c]));
    const expected = encodeEnvelope({
      id: eventIdFor(position),
      type: `product.${change.tag === 'insert' ? 'inserted' : change.tag === 'update' ? 'updated' : 'deleted'}`,
      source: 'cdc-relay',
      subject,
      time: tx.time,
      data,
    });
    expected.push('position', position);
    const event = rowChangeEvent(change, tx, 42, primaryKey);
    expect(event.position).toBe(position);
    expect(event.fields).toEqual(expected);
    // packBatch writes a row change from its parts: the same bytes as from its field list.
    expect(packBatch([event])).toEqual(packBatch([{ stream: event.stream, position, fields: expected }]));
  });

  it('names a composite key as a JSON array', () => {
    const event = rowChangeEvent(
      { tag: 'delete', relation, before: { order_id: 'o1', line: 2 }, after: null, unchanged: [] },
      tx,
      1,
      ['order_id', 'line'],
    );
    expect(decodeEnvelope(event.fields).subject).toBe('["o1",2]');
  });

  it('routes an outbox message by aggregate and keeps what the writer gave', () => {
    const content = Buffer.from(
      JSON.stringify({
        aggregate: 'order',
        event: {
          id: 'e1',
          type: 'order.created',
          source: 'events',
          correlationid: 'c1',
          sequence: 1,
          data: { a: 1 },
        },
      }),
    );
    const event = outboxEvent(content, tx, 1);
    expect(event.stream).toBe('orders');
    expect(decodeEnvelope(event.fields)).toMatchObject({
      id: 'e1',
      correlationid: 'c1',
      sequence: 1,
      time: '2025-11-22T00:00:00.123Z',
      data: { a: 1 },
    });
  });

  it('sends an outbox message that is not an event to dead-letters, saying why', () => {
    const event = outboxEvent(Buffer.from('{"aggregate":"product","event":{"id":"x"}}'), tx, 4);
    expect(event.stream).toBe('dead-letters');
    const fields = fieldMap(event.fields);
    expect(fields['dlq_stream']).toBe('events.product');
    expect(fields['dlq_error']).toMatch(/event\.type/);
    expect(outboxEvent(Buffer.from('not json'), tx, 5).stream).toBe('dead-letters');
  });
});

describe('pgoutput row decoding', () => {
  const relationMessage = (): Buffer => {
    const parts: Buffer[] = [Buffer.from('R')];
    const int32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      return b;
    };
    const int16 = (n: number) => {
      const b = Buffer.alloc(2);
      b.writeInt16BE(n);
      return b;
    };
    parts.push(int32(16384), Buffer.from('public\0product\0'), Buffer.from('f'), int16(3));
    for (const [name, oid] of [
      ['id', 23],
      ['name', 25],
      ['notes', 25],
    ] as const) {
      parts.push(Buffer.from([1]), Buffer.from(`${name}\0`), int32(oid), int32(-1));
    }
    return Buffer.concat(parts);
  };
  const text = (value: string) => {
    const length = Buffer.alloc(4);
    length.writeInt32BE(Buffer.byteLength(value));
    return Buffer.concat([Buffer.from('t'), length, Buffer.from(value)]);
  };
  const tuple = (...columns: Buffer[]) => {
    const count = Buffer.alloc(2);
    count.writeInt16BE(columns.length);
    return Buffer.concat([count, ...columns]);
  };
  const oid = Buffer.alloc(4);
  oid.writeInt32BE(16384);

  it('marks an unchanged TOAST column and takes its value from the old row', () => {
    const decoder = new PgoutputDecoder();
    decoder.decode(relationMessage());
    const update = Buffer.concat([
      Buffer.from('U'),
      oid,
      Buffer.from('O'),
      tuple(text('7'), text('tea'), text('long…')),
      Buffer.from('N'),
      tuple(text('7'), text('green tea'), Buffer.from('u')),
    ]);
    expect(decoder.decode(update)).toMatchObject({
      tag: 'update',
      before: { id: 7, name: 'tea', notes: 'long…' },
      after: { id: 7, name: 'green tea', notes: 'long…' },
      unchanged: ['notes'],
    });
  });

  it('leaves an unchanged TOAST column out of the after image when no old row was sent', () => {
    const decoder = new PgoutputDecoder();
    decoder.decode(relationMessage());
    const update = Buffer.concat([
      Buffer.from('U'),
      oid,
      Buffer.from('N'),
      tuple(text('7'), Buffer.from('n'), Buffer.from('u')),
    ]);
    const change = decoder.decode(update);
    expect(change).toMatchObject({ before: null, after: { id: 7, name: null }, unchanged: ['notes'] });
    expect(change).not.toHaveProperty('after.notes');
  });

  it('keeps PostgreSQL text for values JSON cannot hold exactly', () => {
    expect(columnValue(16, 't')).toBe(true);
    expect(columnValue(23, '-12')).toBe(-12);
    expect(columnValue(701, 'NaN')).toBe('NaN');
    expect(columnValue(20, '9007199254740993')).toBe('9007199254740993');
    expect(columnValue(1700, '0.10')).toBe('0.10');
    expect(columnValue(3802, '{"a":[1]}')).toEqual({ a: [1] });
    expect(columnValue(1184, '2026-11-21 10:00:00.123456+00')).toBe('2026-11-21 10:00:00.123456+00');
  });
});
