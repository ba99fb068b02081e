import type { Queryable } from './database';

/** DDL of the inbox: which consumer has applied which event. Run by the owning app's migration. */
export const INBOX_SCHEMA = `
create table if not exists inbox (
  consumer text not null,
  event_id text not null,
  applied_at timestamptz not null default now(),
  primary key (consumer, event_id)
)`;

/**
 * Claims an event for a consumer inside the caller's transaction. True the first time; false when the
 * event was already applied, so the caller skips the effect. A concurrent claim of the same event
 * waits on the primary key until the first transaction ends, then sees its outcome: applied once.
 */
export async function claimInboxEvent(
  client: Queryable,
  consumer: string,
  eventId: string,
): Promise<boolean> {
  const { rowCount } = await client.query(
    'insert into inbox (consumer, event_id) values ($1, $2) on conflict do nothing',
    [consumer, eventId],
  );
  return rowCount === 1;
}
