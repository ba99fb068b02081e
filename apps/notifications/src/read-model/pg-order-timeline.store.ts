import { Database, migrate } from '@choreo/persistence';
import { ApplyResult, OrderTimelineStore, OrderView, statusOf, TimelineEvent } from './order-timeline.store';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const MIGRATIONS = [
  {
    id: '001_order_timelines',
    sql: `
      CREATE TABLE notifications_orders (
        order_id uuid PRIMARY KEY,
        sequence integer NOT NULL,
        status text NOT NULL,
        updated_at timestamptz NOT NULL
      );
      CREATE TABLE notifications_order_events (
        order_id uuid NOT NULL REFERENCES notifications_orders (order_id),
        sequence integer NOT NULL,
        event text NOT NULL,
        event_id text NOT NULL,
        time timestamptz NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (order_id, sequence)
      );`,
  },
];

/** The read model in PostgreSQL (its own two tables). */
export class PgOrderTimelineStore implements OrderTimelineStore {
  constructor(private readonly db: Database) {}

  async init(): Promise<void> {
    await migrate(this.db, 'notifications', MIGRATIONS);
  }

  apply(event: TimelineEvent): Promise<ApplyResult> {
    return this.db.transaction(async (tx) => {
      // The row lock orders concurrent events of one order; the first event creates the row.
      await tx.query(
        `INSERT INTO notifications_orders (order_id, sequence, status, updated_at)
         VALUES ($1, 0, 'unknown', $2) ON CONFLICT (order_id) DO NOTHING`,
        [event.orderId, event.time],
      );
      const { rows } = await tx.query<{ sequence: number }>(
        'SELECT sequence FROM notifications_orders WHERE order_id = $1 FOR UPDATE',
        [event.orderId],
      );
      const current = rows[0].sequence;
      if (event.sequence <= current) return { outcome: 'duplicate', sequence: current };
      if (event.sequence !== current + 1) return { outcome: 'gap', sequence: current };
      await tx.query(
        `INSERT INTO notifications_order_events (order_id, sequence, event, event_id, time, data)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [event.orderId, event.sequence, event.event, event.id, event.time, JSON.stringify(event.data)],
      );
      await tx.query(
        'UPDATE notifications_orders SET sequence = $2, status = $3, updated_at = $4 WHERE order_id = $1',
        [event.orderId, event.sequence, statusOf(event.event), event.time],
      );
      return { outcome: 'applied', sequence: event.sequence };
    });
  }

  async orderSnapshot(orderId: string): Promise<{ sequence: number; data: OrderView } | undefined> {
    if (!UUID.test(orderId)) return undefined;
    // One statement: the order and its timeline as of the same snapshot.
    const { rows } = await this.db.query<{
      sequence: number;
      status: string;
      timeline: OrderView['timeline'];
    }>(
      `SELECT o.sequence, o.status,
              coalesce(json_agg(json_build_object('sequence', e.sequence, 'event', e.event, 'id', e.event_id,
                'time', to_char(e.time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', e.data)
                ORDER BY e.sequence) FILTER (WHERE e.sequence IS NOT NULL), '[]') AS timeline
         FROM notifications_orders o
         LEFT JOIN notifications_order_events e ON e.order_id = o.order_id AND e.sequence <= o.sequence
        WHERE o.order_id = $1 AND o.sequence > 0
        GROUP BY o.order_id`,
      [orderId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      sequence: row.sequence,
      data: { order_id: orderId, status: row.status, sequence: row.sequence, timeline: row.timeline },
    };
  }

  ping(): Promise<boolean> {
    return this.db.ping();
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
