/**
 * Every change to a stock item, in the caller's transaction: the change itself, its row in the
 * stock ledger (`stock_changes`) and its events (stock_item.updated, and stock_item.low when the
 * balance drops below balance_alert).
 *
 * The stock rule (docs/api.md, "Orders and stock"): an order reserves its units; it is refused
 * when the balance it would leave is below the item's balance_limit, unless backorders are on.
 * The check and the change are ONE conditional UPDATE (`… where quantity - reserved - n >=
 * balance_limit`), never a read then a write: on PostgreSQL a concurrent order waits for the row
 * and re-checks the condition against the committed balance; SQLite has a single writer. So the
 * rule holds the same on both databases however many orders arrive at once.
 */
import { sql } from 'kysely';
import type { NewStockBody, PatchStockBody, StockItemExpand } from './contract.js';
import type { StockChangeReason, StockItemRow } from '../db/schema.js';
import type { Tx } from '../db/transaction.js';
import { lockForUpdate } from '../db/dialect.js';
import { conflict, invalid, notFound } from '../errors.js';
import type { ResourceEvent } from './events.js';
import { renderProduct, renderStockItem } from './render.js';
import { loadProduct } from './repository.js';

export interface StockActor {
  storeId: number;
  userId: number | null;
}

interface Delta {
  quantity: number;
  reserved: number;
}

const balanceOf = (s: Pick<StockItemRow, 'quantity' | 'reserved'>) => s.quantity - s.reserved;

/** The stock item as a message shows it: the row after the change, with the product when asked. */
export function stockItemEvent(storeId: number, topic: 'stock_item.updated' | 'stock_item.low', item: StockItemRow): ResourceEvent {
  return {
    storeId,
    topic,
    resource: 'stock_item',
    resourceId: item.id,
    async render(db, expands) {
      const out = renderStockItem(item);
      if ((expands as readonly string[]).includes('product' satisfies StockItemExpand)) {
        const parts = await loadProduct(db, storeId, item.product_id, []);
        if (parts) out.product = renderProduct(parts);
      }
      return out;
    },
  };
}

/** Writes the ledger row of a change already applied (`after` is the row after it) and names its events. */
async function record(tx: Tx, actor: StockActor, after: StockItemRow, delta: Delta, reason: StockChangeReason, orderId: number | null, now: number): Promise<ResourceEvent[]> {
  await tx.db
    .insertInto('stock_changes')
    .values({
      store_id: actor.storeId,
      changed_at: now,
      stock_item_id: after.id,
      product_id: after.product_id,
      variation_id: after.variation_id,
      product_code: after.product_code,
      reason,
      quantity_change: delta.quantity,
      reserved_change: delta.reserved,
      quantity_after: after.quantity,
      balance_after: balanceOf(after),
      order_id: orderId,
      user_id: actor.userId,
    })
    .execute();
  const events = [stockItemEvent(actor.storeId, 'stock_item.updated', after)];
  const before = balanceOf(after) - (delta.quantity - delta.reserved);
  if (after.balance_alert !== null && before >= after.balance_alert && balanceOf(after) < after.balance_alert) {
    events.push(stockItemEvent(actor.storeId, 'stock_item.low', after));
  }
  return events;
}

/**
 * Adds `delta` to one stock item. With `guardUnits`, only if taking that many units leaves a balance
 * the item allows (see the module comment); returns undefined when it does not (or the item is gone).
 */
async function applyDelta(tx: Tx, storeId: number, itemId: number, delta: Delta, now: number, guardUnits?: number): Promise<StockItemRow | undefined> {
  let update = tx.db
    .updateTable('stock_items')
    .set((eb) => ({ quantity: eb('quantity', '+', delta.quantity), reserved: eb('reserved', '+', delta.reserved), updated_at: now }))
    .where('store_id', '=', storeId)
    .where('id', '=', itemId);
  if (guardUnits !== undefined) update = update.where(sql<boolean>`(backorder_enabled = 1 or quantity - reserved - ${guardUnits} >= balance_limit)`);
  return update.returningAll().executeTakeFirst();
}

export interface OrderStockLine {
  stockItemId: number;
  productCode: string;
  quantity: number;
}

/**
 * Reserves the units of a new order, item by item in id order (so two orders never wait on each
 * other in a circle). Refuses the whole order with a 409 naming every item that is short.
 */
export async function reserveForOrder(tx: Tx, actor: StockActor, orderId: number, lines: readonly OrderStockLine[], now: number): Promise<ResourceEvent[]> {
  const units = new Map<number, OrderStockLine>();
  for (const l of lines) {
    const seen = units.get(l.stockItemId);
    units.set(l.stockItemId, seen ? { ...seen, quantity: seen.quantity + l.quantity } : { ...l });
  }
  const events: ResourceEvent[] = [];
  const short: string[] = [];
  for (const line of [...units.values()].sort((a, b) => a.stockItemId - b.stockItemId)) {
    const after = await applyDelta(tx, actor.storeId, line.stockItemId, { quantity: 0, reserved: line.quantity }, now, line.quantity);
    if (!after) {
      const item = await tx.db.selectFrom('stock_items').select(['quantity', 'reserved', 'balance_limit']).where('store_id', '=', actor.storeId).where('id', '=', line.stockItemId).executeTakeFirst();
      short.push(item ? `"${line.productCode}": ordered ${line.quantity}, balance ${balanceOf(item)}${item.balance_limit !== 0 ? ` (balance_limit ${item.balance_limit})` : ''}` : `"${line.productCode}": its stock item was just deleted`);
      continue;
    }
    if (short.length === 0) events.push(...(await record(tx, actor, after, { quantity: 0, reserved: line.quantity }, 'order_placed', orderId, now)));
  }
  if (short.length) {
    throw conflict(
      `Not enough stock for ${short.join('; ')}. These products do not allow backorders, so the order was not created. ` +
        'Order fewer units, or raise the stock first (PATCH /api/v1/stock/{product_code} with {"quantity": n}, or {"backorder_enabled": true}).',
    );
  }
  return events;
}

/**
 * Ends what an order holds, from the ledger (so exactly what was reserved comes back, even if a
 * product's code changed since): `order_cancelled` puts the units back on sale, `order_delivered`
 * takes them off the shelf. Items deleted since are skipped.
 */
export async function releaseForOrder(tx: Tx, actor: StockActor, orderId: number, reason: 'order_cancelled' | 'order_delivered', now: number): Promise<ResourceEvent[]> {
  const held = await tx.db
    .selectFrom('stock_changes')
    .select('stock_item_id')
    .select((eb) => eb.fn.sum<number>('reserved_change').as('held'))
    .where('store_id', '=', actor.storeId)
    .where('order_id', '=', orderId)
    .groupBy('stock_item_id')
    .orderBy('stock_item_id')
    .execute();
  const events: ResourceEvent[] = [];
  for (const row of held) {
    const units = Number(row.held);
    if (units <= 0) continue;
    const delta = { quantity: reason === 'order_delivered' ? -units : 0, reserved: -units };
    const after = await applyDelta(tx, actor.storeId, row.stock_item_id, delta, now);
    if (after) events.push(...(await record(tx, actor, after, delta, reason, orderId, now)));
  }
  return events;
}

/** The stock item of a new product or variation, with a ledger row for its opening quantity. */
export async function createStockItem(
  tx: Tx,
  actor: StockActor,
  owner: { productId: number; variationId: number | null; productCode: string },
  body: NewStockBody | undefined,
  now: number,
): Promise<{ item: StockItemRow; events: ResourceEvent[] }> {
  const item = await tx.db
    .insertInto('stock_items')
    .values({
      store_id: actor.storeId,
      created_at: now,
      updated_at: now,
      product_id: owner.productId,
      variation_id: owner.variationId,
      product_code: owner.productCode,
      quantity: body?.quantity ?? 0,
      reserved: 0,
      balance_limit: body?.balance_limit ?? 0,
      balance_alert: body?.balance_alert ?? null,
      backorder_enabled: body?.backorder_enabled ? 1 : 0,
      sku: body?.sku ?? null,
      barcode: body?.barcode ?? null,
      location: body?.location ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const events = item.quantity !== 0 ? await record(tx, actor, item, { quantity: item.quantity, reserved: 0 }, 'created', null, now) : [stockItemEvent(actor.storeId, 'stock_item.updated', item)];
  return { item, events };
}

/** `PATCH /stock/{product_code}` and `PATCH /stock-items/{id}`: a manual change, under the row's lock. */
export async function patchStockItem(tx: Tx, actor: StockActor, itemId: number, patch: PatchStockBody, now: number): Promise<{ item: StockItemRow; events: ResourceEvent[] }> {
  if (patch.quantity !== undefined && patch.balance !== undefined) {
    throw invalid('balance', 'give quantity (units on the shelf) or balance (units for sale), not both');
  }
  const current = await lockForUpdate(tx.db.selectFrom('stock_items').selectAll().where('store_id', '=', actor.storeId).where('id', '=', itemId), tx.dialect).executeTakeFirst();
  if (!current) throw notFound('Stock item', itemId);
  // balance is quantity − reserved at the time of the change: the units open orders hold stay held.
  const target = patch.quantity ?? (patch.balance === undefined ? current.quantity : patch.balance + current.reserved);
  const delta: Delta = { quantity: target - current.quantity, reserved: 0 };
  const set: Partial<StockItemRow> = { updated_at: now, quantity: target };
  if (patch.balance_limit !== undefined) set.balance_limit = patch.balance_limit;
  if (patch.balance_alert !== undefined) set.balance_alert = patch.balance_alert;
  if (patch.backorder_enabled !== undefined) set.backorder_enabled = patch.backorder_enabled ? 1 : 0;
  if (patch.sku !== undefined) set.sku = patch.sku;
  if (patch.barcode !== undefined) set.barcode = patch.barcode;
  if (patch.location !== undefined) set.location = patch.location;
  const after = await tx.db.updateTable('stock_items').set(set).where('store_id', '=', actor.storeId).where('id', '=', itemId).returningAll().executeTakeFirstOrThrow();
  // A change of settings only is no ledger row, but still a stock_item.updated.
  const events = delta.quantity !== 0 ? await record(tx, actor, after, delta, 'manual', null, now) : [stockItemEvent(actor.storeId, 'stock_item.updated', after)];
  return { item: after, events };
}

/** Which stock item each product code names (an order row links to its product through it). */
export async function stockItemsByCode(db: Tx['db'], storeId: number, codes: readonly string[]): Promise<Map<string, StockItemRow>> {
  const unique = [...new Set(codes)];
  if (unique.length === 0) return new Map();
  const rows = await db.selectFrom('stock_items').selectAll().where('store_id', '=', storeId).where('product_code', 'in', unique).execute();
  return new Map(rows.map((r) => [r.product_code, r]));
}
