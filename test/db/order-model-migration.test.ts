// Migration 0006 on a database that already holds a store and orders: every existing store gets the
// default shipping and payment methods, product rows get updated_at (their created_at) and, when
// their shipment was completed, delivered_at; new stores get the same methods when created.
import assert from 'node:assert/strict';
import { afterEach, it } from 'node:test';
import { createStore } from '../../src/admin/stores.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { DEFAULT_PAYMENT_METHODS, DEFAULT_SHIPPING_METHODS } from '../../src/orders/methods.js';
import { forEachDialect, freshDatabaseMigratedTo, type FreshDatabase } from '../helpers/database.js';

forEachDialect('migration 0006-order-model', (dialect) => {
  let fresh: FreshDatabase | undefined;
  afterEach(async () => {
    await fresh?.cleanup();
    fresh = undefined;
  });

  it('seeds methods for existing stores and fills the new product-row times', async () => {
    fresh = await freshDatabaseMigratedTo(dialect, '0004-store-events');
    const db = fresh.database.kysely;

    // Rows as the schema of 0004 had them (inserted untyped: the typed Schema is the later one).
    const raw = db as unknown as import('kysely').Kysely<Record<string, Record<string, unknown>>>;
    const store = await raw.insertInto('stores').values({ name: 'old', plan: 'pro', timezone: 'UTC', created_at: 1 }).returning('id').executeTakeFirstOrThrow();
    const storeId = Number(store['id']);
    const order = await raw.insertInto('orders').values({
      store_id: storeId, created_at: 1000, updated_at: 5000, external_id: null, version_id: 1, language: 'fi', customer_information: '{}', shipping_address: '{}',
      currency: 'EUR', subtotal_cents: 0, shipping_costs_cents: 0, payment_costs_cents: 0, discount_cents: 0, total_cents: 0, status: 'OPEN', source: 'api', shipping_method_id: 2,
    }).returning('id').executeTakeFirstOrThrow();
    const orderId = Number(order['id']);
    const shipment = (status: string, completedAt: number | null) =>
      raw.insertInto('shipments').values({ store_id: storeId, order_id: orderId, created_at: 1000, updated_at: 1000, completed_at: completedAt, status, parcel_count: 1, weight_g: 0 }).returning('id').executeTakeFirstOrThrow();
    const done = Number((await shipment('COMPLETED', 4000))['id']);
    const open = Number((await shipment('OPEN', null))['id']);
    for (const shipmentId of [done, open, null]) {
      await raw.insertInto('order_products').values({ store_id: storeId, order_id: orderId, created_at: 1000 + (shipmentId ?? 0), product_code: 'A', product_name: 'A', quantity: 1, unit_price_cents: 100, vat_rate_bp: 2550, shipment_id: shipmentId }).execute();
    }

    const applied = await migrateToLatest(fresh.database);
    assert.ok(applied.includes('0006-order-model'));

    const shipping = await fresh.database.kysely.selectFrom('shipping_methods').select(['id', 'name']).where('store_id', '=', storeId).orderBy('id').execute();
    assert.deepEqual(shipping.map((m) => [Number(m.id), m.name]), DEFAULT_SHIPPING_METHODS.map((m) => [m.id, m.name]));
    const payment = await fresh.database.kysely.selectFrom('payment_methods').select(['id', 'name']).where('store_id', '=', storeId).orderBy('id').execute();
    assert.deepEqual(payment.map((m) => [Number(m.id), m.name]), DEFAULT_PAYMENT_METHODS.map((m) => [m.id, m.name]));

    const rows = await fresh.database.kysely.selectFrom('order_products').select(['created_at', 'updated_at', 'delivered_at', 'shipment_id']).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => [r.updated_at, r.delivered_at]), [[1000 + done, 4000], [1000 + open, null], [1000, null]]);

    // A store created afterwards starts with the same methods, numbered from 1 in its own store.
    const next = await createStore(fresh.database.kysely, { name: 'new', plan: 'advanced' });
    const names = await fresh.database.kysely.selectFrom('shipping_methods').select(['id', 'name']).where('store_id', '=', next.id).orderBy('id').execute();
    assert.deepEqual(names.map((m) => [Number(m.id), m.name]), DEFAULT_SHIPPING_METHODS.map((m) => [m.id, m.name]));
  });
});
