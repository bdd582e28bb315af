import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/**
 * The rest of MyCashflow's order model (docs/api.md, "Order fields"): the fields integrations
 * deserialize on orders, product rows, shipments and payments, and the store's shipping and
 * payment methods, so an order's method ids have names (the XML bridge prints them).
 *
 * Methods are numbered per store, as in MyCashflow where every store has its own ids: the key is
 * (store_id, id). Every existing store gets the default set below; new stores get it from
 * src/orders/methods.ts when they are created.
 */
const SHIPPING = [
  { id: 1, name: 'Posti Postipaketti', sort: 1 },
  { id: 2, name: 'Matkahuolto Lähellä-paketti', sort: 2 },
  { id: 3, name: 'Nouto myymälästä', sort: 3 },
];
const PAYMENT = [
  { id: 1, name: 'Lasku', sort: 1 },
  { id: 2, name: 'Verkkomaksu', sort: 2 },
  { id: 3, name: 'Postiennakko', sort: 3 },
];

export function orderModelSchema(dialect: Dialect) {
  const real = dialect === 'postgres' ? 'double precision' : 'real';
  return {
    async up(db: AnyDb): Promise<void> {
      await db.schema.alterTable('orders').addColumn('customer_external_id', 'text').execute();

      const productColumns: [string, string][] = [
        ['updated_at', 'bigint'],
        ['delivered_at', 'bigint'],
        ['product_id', 'bigint'],
        ['variation_id', 'bigint'],
        ['bundle_id', 'bigint'],
        ['campaign_id', 'bigint'],
        ['model_name', 'text'],
        ['purchase_price_cents', 'bigint'],
        ['warranty', 'text'],
        ['custom_data', 'text'],
        ['customizations', 'text'],
      ];
      for (const [name, type] of productColumns) {
        await db.schema.alterTable('order_products').addColumn(name, type as 'text').execute();
      }
      // Rows from before: last changed when created, delivered when their shipment was completed.
      await db.updateTable('order_products').set((eb) => ({ updated_at: eb.ref('created_at') })).execute();
      await db
        .updateTable('order_products')
        .set((eb) => ({
          delivered_at: eb.selectFrom('shipments').select('shipments.completed_at').whereRef('shipments.id', '=', 'order_products.shipment_id'),
        }))
        .where('shipment_id', 'is not', null)
        .execute();

      for (const name of ['type', 'external_id', 'external_pickup_point_id']) {
        await db.schema.alterTable('shipments').addColumn(name, 'text').execute();
      }
      await db.schema.alterTable('payments').addColumn('external_id', 'text').execute();
      await db.schema.alterTable('payments').addColumn('exchange_rate', real as 'text').execute();

      await db.schema
        .createTable('shipping_methods')
        .addColumn('store_id', 'bigint', (c) => c.notNull().references('stores.id').onDelete('cascade'))
        .addColumn('id', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text')
        .addColumn('service_provider', 'text')
        .addColumn('service_code', 'text')
        .addColumn('product_code', 'text')
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('tracking_info', 'text')
        .addColumn('free_shipping_threshold_cents', 'bigint')
        .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('shipping_methods_pk', ['store_id', 'id'])
        .execute();
      await db.schema
        .createTable('payment_methods')
        .addColumn('store_id', 'bigint', (c) => c.notNull().references('stores.id').onDelete('cascade'))
        .addColumn('id', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('username', 'text')
        .addColumn('product_code', 'text')
        .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('provider', 'text')
        .addPrimaryKeyConstraint('payment_methods_pk', ['store_id', 'id'])
        .execute();

      const stores = (await db.selectFrom('stores').select('id').execute()) as { id: number | string }[];
      const now = Date.now();
      for (const { id } of stores) {
        const storeId = Number(id);
        await db.insertInto('shipping_methods').values(SHIPPING.map((m) => ({ store_id: storeId, created_at: now, updated_at: now, description: '', ...m }))).execute();
        await db.insertInto('payment_methods').values(PAYMENT.map((m) => ({ store_id: storeId, created_at: now, updated_at: now, description: '', ...m }))).execute();
      }
    },
  };
}
