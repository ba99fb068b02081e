import { CloudEvent } from 'cloudevents';
import { fieldMap } from '@choreo/contracts';
import type { Pgoutput } from 'pg-logical-replication';
import { outboxEvent, rowChangeEvent, transactionContext, truncateEvent } from './relay-events';

// What the relay appends is read by the official CloudEvents SDK as a valid event; the relay-only
// `position` field is a valid extension attribute.
const cloudEventOf = (fields: readonly string[]) => {
  const { data, ...attributes } = fieldMap(fields);
  return new CloudEvent({ ...attributes, data: JSON.parse(data) as unknown });
};

const relation = { name: 'product', schema: 'public' } as Pgoutput.MessageRelation;
const tx = transactionContext(0x1_6b3748n, 1_764_000_000_000_000n);

describe('relay entries are CloudEvents', () => {
  it('a row change, a truncate and an outbox event pass the SDK validation', () => {
    const row = rowChangeEvent(
      { tag: 'insert', relation, before: null, after: { id: 'p-1', stock: 3 }, unchanged: [] },
      tx,
      1,
      ['id'],
    );
    const outbox = outboxEvent(
      Buffer.from(
        JSON.stringify({
          aggregate: 'order',
          event: { id: 'e-1', type: 'order.created', source: 'events', sequence: 1, data: { a: 1 } },
        }),
      ),
      tx,
      2,
    );
    for (const entry of [row, truncateEvent(relation, tx, 3), outbox]) {
      const event = cloudEventOf(entry.fields);
      expect(event.validate()).toBe(true);
      expect(event.specversion).toBe('1.0');
    }
  });
});
