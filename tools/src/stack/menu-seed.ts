import { Database } from '@choreo/persistence';
import { v7 as uuidv7 } from 'uuid';

/** The small menu a fresh system starts with, so that the first order has something to buy. */
export const STARTER_MENU: readonly { name: string; price: string; category: string; stock: number }[] = [
  { name: 'Margherita pizza', price: '9.50', category: 'pizza', stock: 1000 },
  { name: 'Pepperoni pizza', price: '11.00', category: 'pizza', stock: 1000 },
  { name: 'Tonkotsu ramen', price: '12.50', category: 'noodles', stock: 1000 },
  { name: 'Pad thai', price: '10.00', category: 'noodles', stock: 1000 },
  { name: 'Caesar salad', price: '8.00', category: 'salads', stock: 1000 },
  { name: 'Lemonade', price: '3.00', category: 'drinks', stock: 1000 },
];

/** What seeding did. */
export type MenuSeedResult = { seeded: number } | { skipped: 'not-empty' };

/** Why the menu could not be seeded yet: the crud app creates the product table when it starts. */
export class ProductTableMissingError extends Error {
  constructor() {
    super('the product table does not exist yet (the crud app creates it when it starts)');
    this.name = 'ProductTableMissingError';
  }
}

/**
 * Seeds STARTER_MENU when the product table is empty, and only then. Two seeders at once (two runners,
 * a re-run Job) serialize on an advisory lock, so the menu is never seeded twice. The rows reach
 * `cdc.product` like any other write.
 */
export async function seedMenuIfEmpty(db: Database): Promise<MenuSeedResult> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ present: boolean }>(
      "select to_regclass('product') is not null as present",
    );
    if (!rows[0].present) throw new ProductTableMissingError();
    await tx.query("select pg_advisory_xact_lock(hashtext('choreo:seed-menu'))");
    const { rowCount } = await tx.query('select 1 from product limit 1');
    if (rowCount) return { skipped: 'not-empty' as const };
    for (const item of STARTER_MENU) {
      await tx.query('insert into product (id, name, price, category, stock) values ($1, $2, $3, $4, $5)', [
        uuidv7(),
        item.name,
        item.price,
        item.category,
        item.stock,
      ]);
    }
    return { seeded: STARTER_MENU.length };
  });
}

/** The line `npm start` and the seed command print. */
export function describeMenuSeed(result: MenuSeedResult): string {
  return 'seeded' in result
    ? `the product table was empty: seeded a starter menu of ${result.seeded} products (1000 in stock each)`
    : 'the product table already has products: no menu seeded';
}
