import { IDEMPOTENCY_SCHEMA, INBOX_SCHEMA, Migration } from '@choreo/persistence';

/**
 * The tables the events app owns, as forward-only migrations applied at start-up by `migrate`
 * (advisory lock, so replicas starting together take turns). `product` is not here: the crud side's
 * schema sync owns it. Never edit a shipped migration; add the next one.
 */
const ORDERS_TABLES: readonly string[] = [
  `create table if not exists orders (
    id uuid primary key,
    customer text not null,
    address text not null,
    status text not null check (status in
      ('created', 'confirmed', 'preparing', 'ready', 'out_for_delivery', 'delivered', 'cancelled')),
    sequence integer not null check (sequence > 0),
    total numeric not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  // Keyset paging filters by status or customer and walks ids (UUIDv7: time ordered) newest first.
  'create index if not exists orders_status_id_idx on orders (status, id)',
  'create index if not exists orders_customer_id_idx on orders (customer, id)',
  // No foreign key to product: the crud side owns that table, and an order keeps its priced snapshot.
  `create table if not exists order_items (
    order_id uuid not null references orders (id) on delete cascade,
    product_id uuid not null,
    name text not null,
    quantity integer not null check (quantity > 0),
    unit_price numeric not null,
    line_total numeric not null,
    primary key (order_id, product_id)
  )`,
];

export const EVENTS_MIGRATIONS: Migration[] = [
  { id: '001_orders', sql: ORDERS_TABLES.join(';\n') },
  { id: '002_inbox', sql: INBOX_SCHEMA },
  { id: '003_idempotency_keys', sql: IDEMPOTENCY_SCHEMA },
];
