/** Reading orders and their parts, always scoped by store. */
import type { Kysely } from 'kysely';
import type { OrderExpand } from './expands.js';
import type { Dialect } from '../db/connection.js';
import { lockForUpdate } from '../db/dialect.js';
import type { OrderRow, Schema } from '../db/schema.js';
import type { OrderAggregate } from './aggregate.js';

type Db = Kysely<Schema>;
const CHILD_TABLES = ['order_products', 'shipments', 'payments', 'comments', 'order_events'] as const;
type ChildTable = (typeof CHILD_TABLES)[number];

export async function findOrder(db: Db, storeId: number, orderId: number): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('store_id', '=', storeId).where('id', '=', orderId).executeTakeFirst();
}

/** Reads the order and locks its row until the transaction ends (PostgreSQL; SQLite has one writer). */
export async function findOrderForUpdate(db: Db, dialect: Dialect, storeId: number, orderId: number): Promise<OrderRow | undefined> {
  const query = db.selectFrom('orders').selectAll().where('store_id', '=', storeId).where('id', '=', orderId);
  return lockForUpdate(query, dialect).executeTakeFirst();
}

async function children<T extends ChildTable>(db: Db, table: T, storeId: number, orderIds: number[]) {
  if (orderIds.length === 0) return [];
  return db
    .selectFrom(table as ChildTable)
    .selectAll()
    .where('store_id', '=', storeId)
    .where('order_id', 'in', orderIds)
    .orderBy('id')
    .execute();
}

function groupByOrder<R extends { order_id: number }>(rows: R[]): Map<number, R[]> {
  const map = new Map<number, R[]>();
  for (const row of rows) {
    const list = map.get(row.order_id);
    if (list) list.push(row);
    else map.set(row.order_id, [row]);
  }
  return map;
}

/** Which child tables an expansion list needs (tax_summary is computed from products). */
function tablesFor(expands: readonly OrderExpand[] | 'all'): Set<ChildTable> {
  if (expands === 'all') return new Set(CHILD_TABLES);
  const needed = new Set<ChildTable>();
  for (const e of expands) {
    if (e === 'products' || e === 'products.return_reasons' || e === 'tax_summary') needed.add('order_products');
    if (e === 'shipments') needed.add('shipments');
    if (e === 'payments') needed.add('payments');
    if (e === 'comments') needed.add('comments');
    if (e === 'events') needed.add('order_events');
  }
  return needed;
}

/** Loads the parts of several orders in one query per needed table. */
export async function loadAggregates(
  db: Db,
  storeId: number,
  orders: OrderRow[],
  expands: readonly OrderExpand[] | 'all',
): Promise<OrderAggregate[]> {
  const ids = orders.map((o) => o.id);
  const needed = tablesFor(expands);
  const load = async <T extends ChildTable>(table: T) => (needed.has(table) ? groupByOrder(await children(db, table, storeId, ids)) : new Map());
  const [products, shipments, payments, comments, events] = await Promise.all([
    load('order_products'),
    load('shipments'),
    load('payments'),
    load('comments'),
    load('order_events'),
  ]);
  return orders.map((order) => ({
    order,
    products: products.get(order.id) ?? [],
    shipments: shipments.get(order.id) ?? [],
    payments: payments.get(order.id) ?? [],
    comments: comments.get(order.id) ?? [],
    events: events.get(order.id) ?? [],
  }));
}

export async function loadAggregate(db: Db, storeId: number, orderId: number): Promise<OrderAggregate | undefined> {
  const order = await findOrder(db, storeId, orderId);
  if (!order) return undefined;
  const [agg] = await loadAggregates(db, storeId, [order], 'all');
  return agg;
}
