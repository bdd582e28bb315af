import { sql } from 'kysely';
import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/**
 * The bridge for the old XML Webhooks extension (src/legacy, docs/migrating-from-xml-webhooks.md):
 * per-store settings (the hashed legacy key, the automatic POST's subscription, whether orders
 * created through the API are POSTed), and the change log that `/webhooks/changes` pages through.
 * Existing orders are copied into the change log so `changes?ts=1` sees them all.
 */
export function legacySchema(_dialect: Dialect) {
  return {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable('legacy_settings')
        .addColumn('store_id', 'bigint', (c) => c.primaryKey().references('stores.id').onDelete('cascade'))
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('key_hash', 'text')
        .addColumn('key_prefix', 'text')
        .addColumn('key_created_at', 'bigint')
        .addColumn('include_api_orders', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('subscription_uuid', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      // The key identifies the store (one host serves many stores); NULLs do not collide.
      await db.schema.createIndex('legacy_settings_key').unique().on('legacy_settings').column('key_hash').execute();

      await db.schema
        .createTable('legacy_order_changes')
        .addColumn('order_id', 'bigint', (c) => c.primaryKey().references('orders.id').onDelete('cascade'))
        .addColumn('store_id', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('changed_at', 'bigint', (c) => c.notNull())
        .execute();
      for (const column of ['changed_at', 'created_at']) {
        await db.schema
          .createIndex(`legacy_order_changes_${column}`)
          .on('legacy_order_changes')
          .columns(['store_id', column, 'order_id'])
          .execute();
      }
      await sql`insert into legacy_order_changes (order_id, store_id, created_at, changed_at)
        select id, store_id, created_at, updated_at from orders`.execute(db);
    },
  };
}
