/**
 * The small catalogue resources: brands, suppliers, categories (create, update), campaigns and
 * versions (read only), and the payment and shipping methods orders name (read only, the tables
 * of migration 0006). Rows are plain; no topics are emitted for them.
 */
import type { Kysely } from 'kysely';
import type { Campaign, Category, PaymentMethod, ShippingMethod, Supplier, Version } from './contract.js';
import type { CampaignRow, CategoryRow, PaymentMethodRow, Schema, ShippingMethodRow, SupplierRow, VersionRow } from '../db/schema.js';
import { invalid } from '../errors.js';
import { fromBasisPoints, fromCents } from '../money.js';
import { isoTime, nowMs } from '../time.js';

export { renderBrand } from './render.js';

type Db = Kysely<Schema>;
export type WritableTable = 'brands' | 'suppliers' | 'categories' | 'customer_groups';

export const renderSupplier = (s: SupplierRow): Supplier => ({ id: s.id, created_at: isoTime(s.created_at), updated_at: isoTime(s.updated_at), name: s.name, email: s.email, phone: s.phone, website: s.website });

export function renderCategory(c: CategoryRow, versionIds?: number[]): Category {
  const out: Category = { id: c.id, created_at: isoTime(c.created_at), updated_at: isoTime(c.updated_at), parent_id: c.parent_id, name: c.name, description: c.description, sort: c.sort, visible: c.visible === 1 };
  if (versionIds) out.visibilities = versionIds.map((version_id) => ({ version_id, visible: c.visible === 1 }));
  return out;
}

export function renderCampaign(c: CampaignRow, expands: readonly string[] = [], versionIds: number[] = []): Campaign {
  const out: Campaign = {
    id: c.id,
    created_at: isoTime(c.created_at),
    updated_at: isoTime(c.updated_at),
    name: c.name,
    description: c.description,
    starts_at: isoTime(c.starts_at),
    ends_at: isoTime(c.ends_at),
    discount_percent: c.discount_percent_bp === null ? null : fromBasisPoints(c.discount_percent_bp),
  };
  if (expands.includes('prices')) out.prices = [];
  if (expands.includes('visibilities')) out.visibilities = versionIds.map((version_id) => ({ version_id, visible: true }));
  return out;
}

export const renderVersion = (v: VersionRow): Version => ({ id: v.id, created_at: isoTime(v.created_at), updated_at: isoTime(v.updated_at), name: v.name, language: v.language, currency: v.currency });

export const renderPaymentMethod = (m: PaymentMethodRow): PaymentMethod => ({
  id: m.id,
  created_at: isoTime(m.created_at),
  updated_at: isoTime(m.updated_at),
  name: m.name,
  description: m.description,
  username: m.username,
  product_code: m.product_code,
  sort: m.sort,
  provider: m.provider,
});

export const renderShippingMethod = (m: ShippingMethodRow): ShippingMethod => ({
  id: m.id,
  created_at: isoTime(m.created_at),
  updated_at: isoTime(m.updated_at),
  name: m.name,
  type: m.type,
  service_provider: m.service_provider,
  service_code: m.service_code,
  product_code: m.product_code,
  description: m.description,
  tracking_info: m.tracking_info,
  free_shipping_threshold: m.free_shipping_threshold_cents === null ? null : fromCents(m.free_shipping_threshold_cents),
  sort: m.sort,
});

export async function storeVersionIds(db: Db, storeId: number): Promise<number[]> {
  return (await db.selectFrom('versions').select('id').where('store_id', '=', storeId).orderBy('id').execute()).map((v) => Number(v.id));
}

/** Body fields as columns: booleans become 0/1, the rest as given. */
function columns(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? 1 : 0) : v]));
}

async function checkParent(db: Db, storeId: number, table: WritableTable, body: Record<string, unknown>, ownId?: number): Promise<void> {
  if (table !== 'categories' || body.parent_id === undefined || body.parent_id === null) return;
  if (body.parent_id === ownId) throw invalid('parent_id', 'a category cannot be its own parent');
  const parent = await db.selectFrom('categories').select('id').where('store_id', '=', storeId).where('id', '=', Number(body.parent_id)).executeTakeFirst();
  if (!parent) throw invalid('parent_id', `no category ${String(body.parent_id)} in this store`);
}

/** Creates a brand, supplier, category or customer group; the body was validated by its schema. */
export async function insertNamed(db: Db, table: WritableTable, storeId: number, body: Record<string, unknown>): Promise<number> {
  await checkParent(db, storeId, table, body);
  const now = nowMs();
  // The table is one of four fixed names and the columns come from its validated body schema.
  const row = await db
    .insertInto(table as 'brands')
    .values({ ...columns(body), store_id: storeId, created_at: now, updated_at: now } as never)
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Changes one; false when the store has no such row. */
export async function patchNamed(db: Db, table: WritableTable, storeId: number, id: number, body: Record<string, unknown>): Promise<boolean> {
  await checkParent(db, storeId, table, body, id);
  const result = await db
    .updateTable(table as 'brands')
    .set({ ...columns(body), updated_at: nowMs() } as never)
    .where('store_id', '=', storeId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** One row of a store's table, by id. */
export async function findNamed<T extends WritableTable | 'campaigns' | 'versions' | 'payment_methods' | 'shipping_methods'>(db: Db, table: T, storeId: number, id: number) {
  return db.selectFrom(table as 'brands').selectAll().where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst() as unknown as Promise<import('kysely').Selectable<Schema[T]> | undefined>;
}

/** Version 1 of a new store (orders default to it). */
export async function seedDefaultVersion(db: Db, storeId: number, now: number): Promise<void> {
  await db.insertInto('versions').values({ store_id: storeId, id: 1, created_at: now, updated_at: now, name: 'Default', language: 'fi', currency: 'EUR' }).execute();
}
