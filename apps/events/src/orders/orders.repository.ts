import { Injectable } from '@nestjs/common';
import type { OrderLine, OrderStatus } from '@choreo/contracts';
import type { Queryable, Tx } from '@choreo/persistence';

/** An order as the API returns it. Money is decimal text, exact. */
export interface Order {
  id: string;
  status: OrderStatus;
  customer: string;
  address: string;
  items: OrderLine[];
  total: string;
  sequence: number;
  created_at: string;
  updated_at: string;
}

interface OrderRow {
  id: string;
  status: OrderStatus;
  customer: string;
  address: string;
  total: string;
  sequence: number;
  created_at: Date;
  updated_at: Date;
}

interface ItemRow extends OrderLine {
  order_id: string;
}

export interface OrderFilter {
  status?: OrderStatus;
  customer?: string;
  /** Keyset cursor: only orders older than this id. */
  before?: string;
  limit: number;
}

const ORDER_COLUMNS = 'id, status, customer, address, total::text as total, sequence, created_at, updated_at';
const ITEM_COLUMNS =
  'order_id, product_id, name, quantity, unit_price::text as unit_price, line_total::text as line_total';

/** The SQL of orders, order_items and the stock they reserve. Every method runs on the caller's client. */
@Injectable()
export class OrdersRepository {
  /**
   * Stock changes bump the row `version` like any crud write, so a crud client's If-Match on a
   * product read before an order was placed fails instead of overwriting the reserved stock.
   *
   * Takes `quantity` from a product's stock if that much is there, and prices the line from the row.
   * The row lock this update takes is what makes concurrent reservations safe: a competing update
   * waits, then re-checks `stock >= quantity` against the committed value.
   */
  async reserveStock(
    client: Tx,
    productId: string,
    quantity: number,
  ): Promise<{ name: string; unit_price: string; line_total: string } | undefined> {
    const { rows } = await client.query<{ name: string; unit_price: string; line_total: string }>(
      `update product set stock = stock - $2, version = version + 1, updated_at = now()
        where id = $1 and stock >= $2
       returning name, price::text as unit_price, (price * $2)::text as line_total`,
      [productId, quantity],
    );
    return rows[0];
  }

  /** The stock a product has now, or undefined when it does not exist (to explain a refused reservation). */
  async stockOf(client: Queryable, productId: string): Promise<number | undefined> {
    const { rows } = await client.query<{ stock: number }>('select stock from product where id = $1', [
      productId,
    ]);
    return rows[0]?.stock;
  }

  async restock(client: Tx, productId: string, quantity: number): Promise<void> {
    await client.query(
      'update product set stock = stock + $2, version = version + 1, updated_at = now() where id = $1',
      [productId, quantity],
    );
  }

  /** Inserts an order (status created, sequence 1) and its lines; the total is summed in SQL, exactly. */
  async insertOrder(
    client: Tx,
    order: { id: string; customer: string; address: string; items: OrderLine[] },
  ): Promise<Order> {
    const { rows } = await client.query<OrderRow>(
      `insert into orders (id, customer, address, status, sequence, total)
       values ($1, $2, $3, 'created', 1, (select coalesce(sum(t), 0) from unnest($4::numeric[]) t))
       returning ${ORDER_COLUMNS}`,
      [order.id, order.customer, order.address, order.items.map((i) => i.line_total)],
    );
    await client.query(
      `insert into order_items (order_id, product_id, name, quantity, unit_price, line_total)
       select $1, * from unnest($2::uuid[], $3::text[], $4::int[], $5::numeric[], $6::numeric[])`,
      [
        order.id,
        order.items.map((i) => i.product_id),
        order.items.map((i) => i.name),
        order.items.map((i) => i.quantity),
        order.items.map((i) => i.unit_price),
        order.items.map((i) => i.line_total),
      ],
    );
    return toOrder(rows[0], order.items);
  }

  /** Locks an order row for a transition; undefined when there is no such order. */
  async lockOrder(
    client: Tx,
    orderId: string,
  ): Promise<{ status: OrderStatus; sequence: number } | undefined> {
    const { rows } = await client.query<{ status: OrderStatus; sequence: number }>(
      'select status, sequence from orders where id = $1 for update',
      [orderId],
    );
    return rows[0];
  }

  /** Moves a locked order to `status` and bumps its sequence; returns the new sequence. */
  async setStatus(client: Tx, orderId: string, status: OrderStatus): Promise<number> {
    const { rows } = await client.query<{ sequence: number }>(
      'update orders set status = $2, sequence = sequence + 1, updated_at = now() where id = $1 returning sequence',
      [orderId, status],
    );
    return rows[0].sequence;
  }

  /** The lines of an order, by product id (the lock order for stock updates). */
  async itemsOf(client: Queryable, orderId: string): Promise<OrderLine[]> {
    const { rows } = await client.query<ItemRow>(
      `select ${ITEM_COLUMNS} from order_items where order_id = $1 order by product_id`,
      [orderId],
    );
    return rows.map(toLine);
  }

  async findOrder(client: Queryable, orderId: string): Promise<Order | undefined> {
    const { rows } = await client.query<OrderRow>(`select ${ORDER_COLUMNS} from orders where id = $1`, [
      orderId,
    ]);
    if (!rows[0]) return undefined;
    return toOrder(rows[0], await this.itemsOf(client, orderId));
  }

  /** A page of orders, newest first. */
  async listOrders(client: Queryable, filter: OrderFilter): Promise<Order[]> {
    const { rows } = await client.query<OrderRow>(
      `select ${ORDER_COLUMNS} from orders
        where ($1::text is null or status = $1)
          and ($2::text is null or customer = $2)
          and ($3::uuid is null or id < $3)
        order by id desc
        limit $4`,
      [filter.status ?? null, filter.customer ?? null, filter.before ?? null, filter.limit],
    );
    if (rows.length === 0) return [];
    const items = await client.query<ItemRow>(
      `select ${ITEM_COLUMNS} from order_items where order_id = any($1::uuid[]) order by order_id, product_id`,
      [rows.map((r) => r.id)],
    );
    const byOrder = new Map<string, OrderLine[]>();
    for (const item of items.rows) {
      const lines = byOrder.get(item.order_id) ?? [];
      lines.push(toLine(item));
      byOrder.set(item.order_id, lines);
    }
    return rows.map((row) => toOrder(row, byOrder.get(row.id) ?? []));
  }
}

function toLine(row: ItemRow): OrderLine {
  return {
    product_id: row.product_id,
    name: row.name,
    quantity: row.quantity,
    unit_price: row.unit_price,
    line_total: row.line_total,
  };
}

function toOrder(row: OrderRow, items: OrderLine[]): Order {
  return {
    id: row.id,
    status: row.status,
    customer: row.customer,
    address: row.address,
    items,
    total: row.total,
    sequence: row.sequence,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
