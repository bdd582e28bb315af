import type { CreateTableBuilder } from 'kysely';
import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/**
 * The rest of the store (docs/api.md, "Catalogue"): products and their variations, one stock item
 * per product code, the stock ledger, customers and their groups, and the small catalogue
 * resources (brands, categories, suppliers, campaigns, versions).
 *
 * A product code is unique per store across products AND variations: `stock_items` holds exactly
 * one row per code (unique (store_id, product_code)), so `PATCH /stock/{product_code}` and an
 * order row's product_code always name one thing. Versions are numbered per store like the
 * shipping and payment methods (orders default to version_id 1); every store gets version 1.
 */
function withId<T extends string>(table: CreateTableBuilder<T, never>, dialect: Dialect) {
  return dialect === 'postgres'
    ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

const stamped = <T extends string>(table: CreateTableBuilder<T, never>) =>
  table
    .addColumn('store_id', 'bigint', (c) => c.notNull().references('stores.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull());

export function catalogueSchema(dialect: Dialect) {
  return {
    async up(db: AnyDb): Promise<void> {
      await stamped(withId(db.schema.createTable('brands'), dialect))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('website', 'text')
        .execute();
      await stamped(withId(db.schema.createTable('suppliers'), dialect))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('phone', 'text')
        .addColumn('website', 'text')
        .execute();
      await stamped(withId(db.schema.createTable('categories'), dialect))
        .addColumn('parent_id', 'bigint')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('visible', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      await stamped(withId(db.schema.createTable('customer_groups'), dialect))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await stamped(withId(db.schema.createTable('campaigns'), dialect))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('starts_at', 'bigint')
        .addColumn('ends_at', 'bigint')
        .addColumn('discount_percent_bp', 'integer')
        .execute();
      await stamped(db.schema.createTable('versions'))
        .addColumn('id', 'bigint', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('versions_pk', ['store_id', 'id'])
        .execute();

      await stamped(withId(db.schema.createTable('products'), dialect))
        .addColumn('product_code', 'text', (c) => c.notNull())
        .addColumn('supplier_code', 'text')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('price_cents', 'bigint', (c) => c.notNull())
        .addColumn('purchase_price_cents', 'bigint')
        .addColumn('vat_rate_bp', 'integer', (c) => c.notNull())
        .addColumn('weight_g', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('brand_id', 'bigint')
        .addColumn('supplier_id', 'bigint')
        .addColumn('visible', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('visible_from', 'bigint')
        .addColumn('available_from', 'bigint')
        .addColumn('available_to', 'bigint')
        .addColumn('barcode', 'text')
        .addColumn('external_id', 'text')
        .execute();
      await db.schema.createIndex('products_store_code').on('products').columns(['store_id', 'product_code']).unique().execute();
      for (const column of ['created_at', 'updated_at']) {
        await db.schema.createIndex(`products_store_${column}`).on('products').columns(['store_id', column, 'id']).execute();
      }
      await db.schema
        .createTable('product_categories')
        .addColumn('store_id', 'bigint', (c) => c.notNull().references('stores.id').onDelete('cascade'))
        .addColumn('product_id', 'bigint', (c) => c.notNull().references('products.id').onDelete('cascade'))
        .addColumn('category_id', 'bigint', (c) => c.notNull().references('categories.id').onDelete('cascade'))
        .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('product_categories_pk', ['product_id', 'category_id'])
        .execute();

      await stamped(withId(db.schema.createTable('variations'), dialect))
        .addColumn('product_id', 'bigint', (c) => c.notNull().references('products.id').onDelete('cascade'))
        .addColumn('product_code', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('price_cents', 'bigint')
        .addColumn('purchase_price_cents', 'bigint')
        .addColumn('weight_g', 'bigint')
        .addColumn('barcode', 'text')
        .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('variations_product').on('variations').columns(['store_id', 'product_id']).execute();
      await db.schema.createIndex('variations_store_code').on('variations').columns(['store_id', 'product_code']).unique().execute();

      // One per product code; balance = quantity − reserved is computed, never stored.
      await stamped(withId(db.schema.createTable('stock_items'), dialect))
        .addColumn('product_id', 'bigint', (c) => c.notNull().references('products.id').onDelete('cascade'))
        .addColumn('variation_id', 'bigint', (c) => c.references('variations.id').onDelete('cascade'))
        .addColumn('product_code', 'text', (c) => c.notNull())
        .addColumn('quantity', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('reserved', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('balance_limit', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('balance_alert', 'bigint')
        .addColumn('backorder_enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('sku', 'text')
        .addColumn('barcode', 'text')
        .addColumn('location', 'text')
        .execute();
      await db.schema.createIndex('stock_items_store_code').on('stock_items').columns(['store_id', 'product_code']).unique().execute();
      await db.schema.createIndex('stock_items_product').on('stock_items').columns(['store_id', 'product_id']).execute();

      // The ledger is kept when its product goes: no foreign keys to products or stock items.
      await withId(db.schema.createTable('stock_changes'), dialect)
        .addColumn('store_id', 'bigint', (c) => c.notNull().references('stores.id').onDelete('cascade'))
        .addColumn('changed_at', 'bigint', (c) => c.notNull())
        .addColumn('stock_item_id', 'bigint', (c) => c.notNull())
        .addColumn('product_id', 'bigint', (c) => c.notNull())
        .addColumn('variation_id', 'bigint')
        .addColumn('product_code', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('quantity_change', 'bigint', (c) => c.notNull())
        .addColumn('reserved_change', 'bigint', (c) => c.notNull())
        .addColumn('quantity_after', 'bigint', (c) => c.notNull())
        .addColumn('balance_after', 'bigint', (c) => c.notNull())
        .addColumn('order_id', 'bigint')
        .addColumn('user_id', 'bigint')
        .execute();
      await db.schema.createIndex('stock_changes_store_changed').on('stock_changes').columns(['store_id', 'changed_at', 'id']).execute();
      await db.schema.createIndex('stock_changes_store_order').on('stock_changes').columns(['store_id', 'order_id']).execute();

      await stamped(withId(db.schema.createTable('customers'), dialect))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('first_name', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('last_name', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('company', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('vat_code', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('phone', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('street_address', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('postal_code', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('city', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('country', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('language', 'text', (c) => c.notNull().defaultTo('fi'))
        .addColumn('external_id', 'text')
        .addColumn('newsletter', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('customers_store_email').on('customers').columns(['store_id', 'email']).unique().execute();
      await db.schema.createIndex('customers_store_updated').on('customers').columns(['store_id', 'updated_at', 'id']).execute();
      await db.schema
        .createTable('customer_group_links')
        .addColumn('store_id', 'bigint', (c) => c.notNull().references('stores.id').onDelete('cascade'))
        .addColumn('customer_id', 'bigint', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('customer_group_id', 'bigint', (c) => c.notNull().references('customer_groups.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('customer_group_links_pk', ['customer_id', 'customer_group_id'])
        .execute();

      await db.schema.createIndex('order_products_store_product').on('order_products').columns(['store_id', 'product_id']).execute();

      const stores = (await db.selectFrom('stores').select('id').execute()) as { id: number | string }[];
      const now = Date.now();
      for (const { id } of stores) {
        await db.insertInto('versions').values({ store_id: Number(id), id: 1, created_at: now, updated_at: now, name: 'Default', language: 'fi', currency: 'EUR' }).execute();
      }
    },
  };
}
