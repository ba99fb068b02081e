/** A product as the menu shows it (`/crud/product` rows). */
export interface Product {
  id: string;
  name: string;
  price: string;
  category: string | null;
  stock: number;
}

function isProduct(row: unknown): row is Product {
  const r = row as Partial<Product> | null;
  return typeof r?.id === 'string' && typeof r.name === 'string' && typeof r.stock === 'number';
}

/** The menu's order: by name, then id. */
export function sortProducts(products: Product[]): Product[] {
  return [...products].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/**
 * Applies a row change of `entity:product` (a `cdc.product` event: `{ before, after, unchanged }`):
 * a new or changed row replaces the menu's copy (columns left out as unchanged keep their value), a
 * deleted one leaves the menu. Returns undefined when the change is not one it can read, so the
 * caller reloads the rows instead.
 */
export function applyProductChange(products: Product[], data: unknown): Product[] | undefined {
  const change = data as { before?: unknown; after?: unknown } | null;
  if (!change || typeof change !== 'object') return undefined;
  if (change.after === null) {
    const before = change.before as { id?: unknown } | null;
    if (typeof before?.id !== 'string') return undefined;
    return products.filter((p) => p.id !== before.id);
  }
  const after = change.after as Partial<Product> | undefined;
  if (typeof after?.id !== 'string') return undefined;
  const held = products.find((p) => p.id === after.id);
  const merged = { ...held, ...after };
  if (!isProduct(merged)) return undefined;
  return sortProducts([...products.filter((p) => p.id !== after.id), merged]);
}
