import type { Pool } from 'pg';

/** One line of the soak's table: what, the figures, and the verdict (undefined: for information). */
export type ReportRow = [what: string, figures: string, ok: boolean | undefined];

export type Settle = (what: string, probe: () => Promise<boolean>) => Promise<void>;

/** Each shipped aggregate against a query over the same rows. */
export async function compareAggregates(
  aggregatorUrl: string,
  pool: Pool,
  settle: Settle,
): Promise<ReportRow[]> {
  const windows = async (rule: string) =>
    (
      (await (await fetch(`${aggregatorUrl}/aggregates/${rule}?limit=1000`)).json()) as {
        windows: { key: unknown[]; values: Record<string, number | string> }[];
      }
    ).windows;
  const sum = async (rule: string, measure: string) =>
    (await windows(rule)).reduce((acc, w) => acc + Number(w.values[measure] ?? 0), 0);
  const truth = async () => {
    const orders = await pool.query<{ n: string; revenue: string; delivered: string }>(
      "select count(*) as n, coalesce(sum(total), 0) as revenue, count(*) filter (where status = 'delivered') as delivered from orders",
    );
    const categories = await pool.query<{ category: string | null; n: string }>(
      'select category, count(*) as n from product group by category',
    );
    return {
      orders: Number(orders.rows[0].n),
      revenue: Number(orders.rows[0].revenue),
      delivered: Number(orders.rows[0].delivered),
      categories: JSON.stringify(
        Object.fromEntries(categories.rows.map((r) => [String(r.category), Number(r.n)]).sort()),
      ),
    };
  };
  const served = async () => ({
    orders: await sum('orders_per_minute', 'orders'),
    revenue: await sum('revenue_5m', 'revenue'),
    delivered: await sum('delivery_time_5m', 'deliveries'),
    categories: JSON.stringify(
      Object.fromEntries(
        (await windows('products_per_category'))
          .filter((w) => Number(w.values['products']) > 0)
          .map((w) => [String(w.key[0]), Number(w.values['products'])])
          .sort(),
      ),
    ),
  });
  let expected = await truth();
  let got = await served();
  const equal = () =>
    expected.orders === got.orders &&
    Math.abs(expected.revenue - got.revenue) < 0.005 &&
    expected.delivered === got.delivered &&
    expected.categories === got.categories;
  await settle('aggregates equal to SQL', async () => {
    [expected, got] = [await truth(), await served()];
    return equal();
  });
  return [
    ['orders per minute = count(*)', `${got.orders} = ${expected.orders}`, got.orders === expected.orders],
    [
      'revenue = sum(total)',
      `${got.revenue.toFixed(2)} = ${expected.revenue.toFixed(2)}`,
      Math.abs(expected.revenue - got.revenue) < 0.005,
    ],
    [
      'deliveries = count(delivered)',
      `${got.delivered} = ${expected.delivered}`,
      got.delivered === expected.delivered,
    ],
    [
      'products per category = group by',
      got.categories === expected.categories ? 'equal' : `${got.categories} ≠ ${expected.categories}`,
      got.categories === expected.categories,
    ],
    // Why an aggregate would fall short: contributions after their window closed are recorded, not counted.
    ['late contributions (recorded, not counted)', await lateContributions(pool), undefined],
  ];
}

async function lateContributions(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ rule: string; n: number }>(
    'select rule, count(*)::int as n from aggregate_late group by rule order by rule',
  );
  return rows.map((r) => `${r.n} ${r.rule}`).join(', ') || '0';
}
