import { IDEMPOTENCY_SCHEMA, INBOX_SCHEMA } from '@choreo/persistence';

/**
 * The tables the events app owns. Idempotent DDL, applied at start-up under an advisory lock so that
 * replicas starting together do not race. `product` is not here: the crud side's schema sync owns it.
 */
export const EVENTS_SCHEMA: readonly string[] = [
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
  INBOX_SCHEMA,
  IDEMPOTENCY_SCHEMA,
];
