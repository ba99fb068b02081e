import type { Queryable } from './database';
import { OUTBOX_MESSAGE_PREFIX, OutboxMessage, parseOutboxMessage } from '@choreo/contracts';

/**
 * Creates a `test_decoding` logical slot that sees every outbox message committed from now on.
 * For tests and benchmarks that check what was recorded without a relay; drop it when done, a
 * forgotten slot pins WAL forever.
 */
export async function createOutboxProbeSlot(client: Queryable, slot: string): Promise<void> {
  await client.query("select pg_create_logical_replication_slot($1, 'test_decoding')", [slot]);
}

/** Drops a slot made by createOutboxProbeSlot. */
export async function dropOutboxProbeSlot(client: Queryable, slot: string): Promise<void> {
  await client.query('select pg_drop_replication_slot($1)', [slot]);
}

const MESSAGE_LINE = `message: transactional: 1 prefix: ${OUTBOX_MESSAGE_PREFIX}, sz: `;

/**
 * The outbox messages committed since the probe slot was created, in commit order, read from the
 * WAL without consuming them. Messages of rolled-back transactions never appear.
 */
export async function peekOutboxMessages(client: Queryable, slot: string): Promise<OutboxMessage[]> {
  const { rows } = await client.query<{ data: string }>(
    'select data from pg_logical_slot_peek_changes($1, null, null) where starts_with(data, $2)',
    [slot, MESSAGE_LINE],
  );
  return rows.map((row) =>
    parseOutboxMessage(row.data.slice(row.data.indexOf('content:') + 'content:'.length)),
  );
}
