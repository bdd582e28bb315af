/**
 * Every change to a product, a variation or a stock item, each in one transaction that also hands
 * its events to the sink (the webhooks outbox). A refused change writes nothing.
 */
import type { CreateProductBody, CreateVariationBody, PatchProductBody, PatchStockBody, PatchVariationBody, ProductExpand } from './contract.js';
import { PRODUCT_EXPANDS } from './contract.js';
import type { Database } from '../db/connection.js';
import { commitStamp } from '../db/commit-clock.js';
import type { ProductRow, StockItemRow, VariationRow } from '../db/schema.js';
import { inTransaction, type Tx } from '../db/transaction.js';
import { conflict, DomainError, invalid, notFound, type FieldError } from '../errors.js';
import { toBasisPoints, toCents } from '../money.js';
import { parseIsoTime } from '../time.js';
import type { ResourceEvent, ResourceEventSink } from './events.js';
import { renderProduct } from './render.js';
import { findProduct, findStockItem, loadProduct } from './repository.js';
import { createStockItem, patchStockItem } from './stock.js';

export interface CatalogueContext {
  database: Database;
  storeId: number;
  userId: number | null;
  sink: ResourceEventSink;
}

/** Who changes the catalogue, for a change made inside the caller's transaction. */
export type CatalogueActor = Omit<CatalogueContext, 'database'>;

const DEFAULT_VAT_BP = 2550;

function productEvent(storeId: number, topic: 'product.created' | 'product.updated', productId: number): ResourceEvent {
  return {
    storeId,
    topic,
    resource: 'product',
    resourceId: productId,
    async render(db, expands) {
      const parts = await loadProduct(db, storeId, productId, expands as ProductExpand[]);
      if (!parts) throw new Error(`product ${productId} vanished inside its own transaction`);
      return renderProduct(parts, expands as ProductExpand[]);
    },
  };
}

/** Amounts, times and weights of a product or variation body, checked; field errors collected. */
class Converter {
  readonly errors: FieldError[] = [];
  cents(field: string, amount: number | null | undefined): number | null | undefined {
    if (amount === undefined || amount === null) return amount;
    const c = toCents(amount);
    if (c === null) this.errors.push({ field, message: `must have at most two decimals (got ${amount})` });
    return c ?? 0;
  }
  basisPoints(field: string, percent: number | undefined): number | undefined {
    if (percent === undefined) return undefined;
    const bp = toBasisPoints(percent);
    if (bp === null) this.errors.push({ field, message: `must have at most two decimals (got ${percent})` });
    return bp ?? 0;
  }
  time(field: string, raw: string | null | undefined): number | null | undefined {
    if (raw === undefined || raw === null) return raw;
    const ms = parseIsoTime(raw);
    if (ms === null) this.errors.push({ field, message: `"${raw}" is not an ISO-8601 date-time with offset, e.g. 2026-05-01T00:00:00+03:00` });
    return ms ?? 0;
  }
  grams(kilograms: number | null | undefined): number | null | undefined {
    return kilograms === undefined || kilograms === null ? kilograms : Math.round(kilograms * 1000);
  }
  check(): void {
    if (this.errors.length) throw new DomainError(400, `Some fields are not valid: ${this.errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`, this.errors);
  }
}

type ProductSet = Partial<Omit<ProductRow, 'id' | 'store_id' | 'created_at'>>;

function productColumns(body: PatchProductBody, c: Converter): ProductSet {
  const set: ProductSet = {};
  const put = <K extends keyof ProductSet>(key: K, value: ProductSet[K] | undefined) => {
    if (value !== undefined) set[key] = value;
  };
  put('product_code', body.product_code);
  put('name', body.name);
  put('supplier_code', body.supplier_code);
  put('external_id', body.external_id);
  put('description', body.description);
  put('price_cents', c.cents('price', body.price) ?? undefined);
  put('purchase_price_cents', c.cents('purchase_price', body.purchase_price));
  put('vat_rate_bp', c.basisPoints('vat_rate', body.vat_rate));
  put('weight_g', c.grams(body.weight) ?? undefined);
  put('brand_id', body.brand_id);
  put('supplier_id', body.supplier_id);
  put('visible', body.visible === undefined ? undefined : body.visible ? 1 : 0);
  put('visible_from', c.time('visible_from', body.visible_from));
  put('available_from', c.time('available_from', body.available_from));
  put('available_to', c.time('available_to', body.available_to));
  put('barcode', body.barcode);
  return set;
}

/** Refuses a code another product or variation of the store already has (409), before writing. */
async function checkCodeFree(tx: Tx, storeId: number, code: string, ownStockItemId?: number): Promise<void> {
  const taken = await findStockItem(tx.db, storeId, { productCode: code });
  if (taken && taken.id !== ownStockItemId) {
    const owner = taken.variation_id === null ? `product ${taken.product_id}` : `variation ${taken.variation_id} of product ${taken.product_id}`;
    throw conflict(`product_code "${code}" is already used by ${owner}; product codes are unique in the store across products and variations.`);
  }
}

async function checkReferences(tx: Tx, storeId: number, body: Pick<PatchProductBody, 'brand_id' | 'supplier_id' | 'category_ids'>): Promise<void> {
  if (body.brand_id) {
    const brand = await tx.db.selectFrom('brands').select('id').where('store_id', '=', storeId).where('id', '=', body.brand_id).executeTakeFirst();
    if (!brand) throw invalid('brand_id', `no brand ${body.brand_id} in this store (GET /api/v1/brands lists them)`);
  }
  if (body.supplier_id) {
    const supplier = await tx.db.selectFrom('suppliers').select('id').where('store_id', '=', storeId).where('id', '=', body.supplier_id).executeTakeFirst();
    if (!supplier) throw invalid('supplier_id', `no supplier ${body.supplier_id} in this store (GET /api/v1/suppliers lists them)`);
  }
  if (body.category_ids?.length) {
    const wanted = [...new Set(body.category_ids)];
    const found = await tx.db.selectFrom('categories').select('id').where('store_id', '=', storeId).where('id', 'in', wanted).execute();
    const missing = wanted.filter((id) => !found.some((f) => Number(f.id) === id));
    if (missing.length) throw invalid('category_ids', `no category ${missing.join(', ')} in this store (GET /api/v1/categories lists them)`);
  }
}

async function linkCategories(tx: Tx, storeId: number, productId: number, categoryIds: number[]): Promise<void> {
  await tx.db.deleteFrom('product_categories').where('store_id', '=', storeId).where('product_id', '=', productId).execute();
  const unique = [...new Set(categoryIds)];
  if (unique.length) {
    await tx.db.insertInto('product_categories').values(unique.map((category_id, sort) => ({ store_id: storeId, product_id: productId, category_id, sort }))).execute();
  }
}

export async function createProduct(ctx: CatalogueContext, body: CreateProductBody): Promise<number> {
  return inTransaction(ctx.database, (tx) => addProduct(tx, ctx, body));
}

/** `createProduct` inside the caller's transaction (the first run seeds its demo catalogue so). */
export async function addProduct(tx: Tx, ctx: CatalogueActor, body: CreateProductBody): Promise<number> {
  const c = new Converter();
  const set = productColumns(body, c);
  c.check();
  await checkCodeFree(tx, ctx.storeId, body.product_code);
  await checkReferences(tx, ctx.storeId, body);
  const now = await commitStamp(tx, ctx.storeId);
  const row = await tx.db
    .insertInto('products')
    .values({
      description: '',
      vat_rate_bp: DEFAULT_VAT_BP,
      weight_g: 0,
      visible: 1,
      ...set,
      store_id: ctx.storeId,
      created_at: now,
      updated_at: now,
      product_code: body.product_code,
      name: body.name,
      price_cents: set.price_cents ?? 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (body.category_ids) await linkCategories(tx, ctx.storeId, row.id, body.category_ids);
  const stock = await createStockItem(tx, ctx, { productId: row.id, variationId: null, productCode: body.product_code }, body.stock_item, now);
  await ctx.sink.publishResources(tx, [productEvent(ctx.storeId, 'product.created', row.id), ...stock.events], now);
  return row.id;
}

export async function updateProduct(ctx: CatalogueContext, productId: number, body: PatchProductBody): Promise<void> {
  const c = new Converter();
  const set = productColumns(body, c);
  c.check();
  await inTransaction(ctx.database, async (tx) => {
    const product = await findProduct(tx.db, ctx.storeId, productId);
    if (!product) throw notFound('Product', productId);
    await checkReferences(tx, ctx.storeId, body);
    const now = await commitStamp(tx, ctx.storeId);
    if (body.product_code !== undefined && body.product_code !== product.product_code) {
      const own = await tx.db.selectFrom('stock_items').select('id').where('store_id', '=', ctx.storeId).where('product_id', '=', productId).where('variation_id', 'is', null).executeTakeFirstOrThrow();
      await checkCodeFree(tx, ctx.storeId, body.product_code, own.id);
      await tx.db.updateTable('stock_items').set({ product_code: body.product_code, updated_at: now }).where('id', '=', own.id).execute();
    }
    await tx.db.updateTable('products').set({ ...set, updated_at: now }).where('store_id', '=', ctx.storeId).where('id', '=', productId).execute();
    if (body.category_ids) await linkCategories(tx, ctx.storeId, productId, body.category_ids);
    await ctx.sink.publishResources(tx, [productEvent(ctx.storeId, 'product.updated', productId)], now);
  });
}

/** Refuses (409) to delete what an OPEN order still points at: its stock would be returned to nothing. */
async function refuseIfOpenOrders(tx: Tx, storeId: number, what: string, column: 'product_id' | 'variation_id', id: number): Promise<void> {
  const open = await tx.db
    .selectFrom('order_products')
    .innerJoin('orders', 'orders.id', 'order_products.order_id')
    .select('orders.id')
    .where('order_products.store_id', '=', storeId)
    .where(`order_products.${column}`, '=', id)
    .where('orders.status', '=', 'OPEN')
    .orderBy('orders.id')
    .limit(5)
    .execute();
  if (open.length) {
    throw conflict(`${what} is in open order${open.length > 1 ? 's' : ''} ${open.map((o) => o.id).join(', ')}${open.length === 5 ? ' and maybe more' : ''}; complete or cancel ${open.length > 1 ? 'them' : 'it'} first, or hide the product instead (PATCH with {"visible": false}).`);
  }
}

export async function deleteProduct(ctx: CatalogueContext, productId: number): Promise<void> {
  await inTransaction(ctx.database, async (tx) => {
    const parts = await loadProduct(tx.db, ctx.storeId, productId, PRODUCT_EXPANDS);
    if (!parts) throw notFound('Product', productId);
    await refuseIfOpenOrders(tx, ctx.storeId, `Product ${productId}`, 'product_id', productId);
    const now = await commitStamp(tx, ctx.storeId);
    // The message shows the product as it was; its variations and stock items go with it (cascade).
    await tx.db.deleteFrom('products').where('store_id', '=', ctx.storeId).where('id', '=', productId).execute();
    const gone: ResourceEvent = { storeId: ctx.storeId, topic: 'product.deleted', resource: 'product', resourceId: productId, render: async (_db, expands) => renderProduct(parts, expands as ProductExpand[]) };
    await ctx.sink.publishResources(tx, [gone], now);
  });
}

function variationColumns(body: PatchVariationBody, c: Converter): Partial<VariationRow> {
  const set: Partial<VariationRow> = {};
  if (body.product_code !== undefined) set.product_code = body.product_code;
  if (body.name !== undefined) set.name = body.name;
  const price = c.cents('price', body.price);
  if (price !== undefined) set.price_cents = price;
  const purchase = c.cents('purchase_price', body.purchase_price);
  if (purchase !== undefined) set.purchase_price_cents = purchase;
  const grams = c.grams(body.weight);
  if (grams !== undefined) set.weight_g = grams;
  if (body.barcode !== undefined) set.barcode = body.barcode;
  if (body.sort !== undefined) set.sort = body.sort;
  return set;
}

/** A change to a variation is a change to its product: product.updated, and the product's updated_at. */
async function touchProduct(ctx: CatalogueActor, tx: Tx, productId: number, now: number, more: ResourceEvent[] = []): Promise<void> {
  await tx.db.updateTable('products').set({ updated_at: now }).where('store_id', '=', ctx.storeId).where('id', '=', productId).execute();
  await ctx.sink.publishResources(tx, [productEvent(ctx.storeId, 'product.updated', productId), ...more], now);
}

export async function createVariation(ctx: CatalogueContext, productId: number, body: CreateVariationBody): Promise<number> {
  return inTransaction(ctx.database, (tx) => addVariation(tx, ctx, productId, body));
}

/** `createVariation` inside the caller's transaction. */
export async function addVariation(tx: Tx, ctx: CatalogueActor, productId: number, body: CreateVariationBody): Promise<number> {
  const c = new Converter();
  const set = variationColumns(body, c);
  c.check();
  if (!(await findProduct(tx.db, ctx.storeId, productId))) throw notFound('Product', productId);
  await checkCodeFree(tx, ctx.storeId, body.product_code);
  const now = await commitStamp(tx, ctx.storeId);
  const row = await tx.db
    .insertInto('variations')
    .values({ price_cents: null, purchase_price_cents: null, weight_g: null, barcode: null, sort: 0, ...set, product_code: body.product_code, name: body.name, store_id: ctx.storeId, product_id: productId, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  const stock = await createStockItem(tx, ctx, { productId, variationId: row.id, productCode: body.product_code }, body.stock_item, now);
  await touchProduct(ctx, tx, productId, now, stock.events);
  return row.id;
}

export async function updateVariation(ctx: CatalogueContext, productId: number, variationId: number, body: PatchVariationBody): Promise<void> {
  const c = new Converter();
  const set = variationColumns(body, c);
  c.check();
  await inTransaction(ctx.database, async (tx) => {
    const stock = await tx.db.selectFrom('stock_items').select(['id', 'product_code']).where('store_id', '=', ctx.storeId).where('product_id', '=', productId).where('variation_id', '=', variationId).executeTakeFirst();
    if (!stock) throw notFound('Variation', variationId);
    const now = await commitStamp(tx, ctx.storeId);
    if (body.product_code !== undefined && body.product_code !== stock.product_code) {
      await checkCodeFree(tx, ctx.storeId, body.product_code, stock.id);
      await tx.db.updateTable('stock_items').set({ product_code: body.product_code, updated_at: now }).where('id', '=', stock.id).execute();
    }
    await tx.db.updateTable('variations').set({ ...set, updated_at: now }).where('store_id', '=', ctx.storeId).where('id', '=', variationId).execute();
    await touchProduct(ctx, tx, productId, now);
  });
}

export async function deleteVariation(ctx: CatalogueContext, productId: number, variationId: number): Promise<void> {
  await inTransaction(ctx.database, async (tx) => {
    const found = await tx.db.selectFrom('variations').select('id').where('store_id', '=', ctx.storeId).where('product_id', '=', productId).where('id', '=', variationId).executeTakeFirst();
    if (!found) throw notFound('Variation', variationId);
    await refuseIfOpenOrders(tx, ctx.storeId, `Variation ${variationId}`, 'variation_id', variationId);
    const now = await commitStamp(tx, ctx.storeId);
    await tx.db.deleteFrom('variations').where('store_id', '=', ctx.storeId).where('id', '=', variationId).execute();
    await touchProduct(ctx, tx, productId, now);
  });
}

/** A manual stock change, found by id or by product code. */
export async function updateStock(ctx: CatalogueContext, by: { id: number } | { productCode: string }, body: PatchStockBody): Promise<StockItemRow> {
  return inTransaction(ctx.database, async (tx) => {
    const item = await findStockItem(tx.db, ctx.storeId, by);
    if (!item) throw 'id' in by ? notFound('Stock item', by.id) : notFound('Product code', JSON.stringify(by.productCode));
    const now = await commitStamp(tx, ctx.storeId);
    const result = await patchStockItem(tx, ctx, item.id, body, now);
    await ctx.sink.publishResources(tx, result.events, now);
    return result.item;
  });
}
