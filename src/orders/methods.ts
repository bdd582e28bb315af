/**
 * A store's shipping and payment methods: the names behind an order's `shipping_method_id` and
 * `payment_method_id`. Ids are numbered per store (as in MyCashflow); an order may name an id the
 * store has no method for (ids predate this table), and then the method simply has no name.
 */
import type { Kysely } from 'kysely';
import type { Schema } from '../db/schema.js';

type Db = Kysely<Schema>;

/** What every new store starts with; a later API will let stores change them. */
export const DEFAULT_SHIPPING_METHODS = [
  { id: 1, name: 'Posti Postipaketti', sort: 1 },
  { id: 2, name: 'Matkahuolto Lähellä-paketti', sort: 2 },
  { id: 3, name: 'Nouto myymälästä', sort: 3 },
] as const;
export const DEFAULT_PAYMENT_METHODS = [
  { id: 1, name: 'Lasku', sort: 1 },
  { id: 2, name: 'Verkkomaksu', sort: 2 },
  { id: 3, name: 'Postiennakko', sort: 3 },
] as const;

export async function seedDefaultMethods(db: Db, storeId: number, now: number): Promise<void> {
  await db.insertInto('shipping_methods').values(DEFAULT_SHIPPING_METHODS.map((m) => ({ store_id: storeId, created_at: now, updated_at: now, description: '', ...m }))).execute();
  await db.insertInto('payment_methods').values(DEFAULT_PAYMENT_METHODS.map((m) => ({ store_id: storeId, created_at: now, updated_at: now, description: '', ...m }))).execute();
}

export interface MethodNames {
  shipping: ReadonlyMap<number, string>;
  payment: ReadonlyMap<number, string>;
}

export const NO_METHOD_NAMES: MethodNames = { shipping: new Map(), payment: new Map() };

/** The names of the methods the given orders use, in two small queries. */
export async function methodNames(db: Db, storeId: number, orders: readonly { shipping_method_id: number | null; payment_method_id: number | null }[]): Promise<MethodNames> {
  const shippingIds = [...new Set(orders.map((o) => o.shipping_method_id).filter((id): id is number => id !== null))];
  const paymentIds = [...new Set(orders.map((o) => o.payment_method_id).filter((id): id is number => id !== null))];
  const [shipping, payment] = await Promise.all([
    shippingIds.length ? db.selectFrom('shipping_methods').select(['id', 'name']).where('store_id', '=', storeId).where('id', 'in', shippingIds).execute() : [],
    paymentIds.length ? db.selectFrom('payment_methods').select(['id', 'name']).where('store_id', '=', storeId).where('id', 'in', paymentIds).execute() : [],
  ]);
  return { shipping: new Map(shipping.map((m) => [Number(m.id), m.name])), payment: new Map(payment.map((m) => [Number(m.id), m.name])) };
}
