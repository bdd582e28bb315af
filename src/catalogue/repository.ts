/** Reading products, variations and stock items with their expansions, always scoped by store. */
import type { Kysely } from 'kysely';
import type { ProductExpand } from './contract.js';
import type { BrandRow, ProductRow, Schema, StockItemRow, VariationRow } from '../db/schema.js';

type Db = Kysely<Schema>;

/** A product with the parts its expansions need (empty when not asked for). */
export interface ProductParts {
  product: ProductRow;
  variations: VariationRow[];
  /** by variation id; the product's own stock item under key 0. */
  stock: Map<number, StockItemRow>;
  brand: BrandRow | null;
  categoryLinks: { category_id: number; sort: number }[];
  versionIds: number[];
}

export async function findProduct(db: Db, storeId: number, productId: number): Promise<ProductRow | undefined> {
  return db.selectFrom('products').selectAll().where('store_id', '=', storeId).where('id', '=', productId).executeTakeFirst();
}

export async function findVariation(db: Db, storeId: number, productId: number, variationId: number): Promise<VariationRow | undefined> {
  return db.selectFrom('variations').selectAll().where('store_id', '=', storeId).where('product_id', '=', productId).where('id', '=', variationId).executeTakeFirst();
}

export async function findStockItem(db: Db, storeId: number, by: { id: number } | { productCode: string }): Promise<StockItemRow | undefined> {
  const q = db.selectFrom('stock_items').selectAll().where('store_id', '=', storeId);
  return ('id' in by ? q.where('id', '=', by.id) : q.where('product_code', '=', by.productCode)).executeTakeFirst();
}

export async function stockItemsOf(db: Db, storeId: number, productIds: number[]): Promise<StockItemRow[]> {
  if (productIds.length === 0) return [];
  return db.selectFrom('stock_items').selectAll().where('store_id', '=', storeId).where('product_id', 'in', productIds).execute();
}

/** Loads the parts of several products in one query per needed table. */
export async function loadProducts(db: Db, storeId: number, products: ProductRow[], expands: readonly ProductExpand[]): Promise<ProductParts[]> {
  const ids = products.map((p) => p.id);
  const wants = (e: ProductExpand) => expands.includes(e);
  const needVariations = wants('variations') || wants('variations.stock_item');
  const needStock = wants('stock_item') || wants('variations.stock_item');
  const brandIds = [...new Set(products.map((p) => p.brand_id).filter((id): id is number => id !== null))];
  const [variations, stock, brands, links, versions] = await Promise.all([
    needVariations && ids.length ? db.selectFrom('variations').selectAll().where('store_id', '=', storeId).where('product_id', 'in', ids).orderBy('sort').orderBy('id').execute() : [],
    needStock ? stockItemsOf(db, storeId, ids) : [],
    wants('brand') && brandIds.length ? db.selectFrom('brands').selectAll().where('store_id', '=', storeId).where('id', 'in', brandIds).execute() : [],
    wants('category_links') && ids.length ? db.selectFrom('product_categories').select(['product_id', 'category_id', 'sort']).where('store_id', '=', storeId).where('product_id', 'in', ids).orderBy('sort').orderBy('category_id').execute() : [],
    wants('visibilities') ? db.selectFrom('versions').select('id').where('store_id', '=', storeId).orderBy('id').execute() : [],
  ]);
  return products.map((product) => ({
    product,
    variations: variations.filter((v) => v.product_id === product.id),
    stock: new Map(stock.filter((s) => s.product_id === product.id).map((s) => [s.variation_id ?? 0, s])),
    brand: brands.find((b) => b.id === product.brand_id) ?? null,
    categoryLinks: links.filter((l) => l.product_id === product.id).map((l) => ({ category_id: Number(l.category_id), sort: l.sort })),
    versionIds: versions.map((v) => Number(v.id)),
  }));
}

export async function loadProduct(db: Db, storeId: number, productId: number, expands: readonly ProductExpand[]): Promise<ProductParts | undefined> {
  const product = await findProduct(db, storeId, productId);
  if (!product) return undefined;
  const [parts] = await loadProducts(db, storeId, [product], expands);
  return parts;
}
