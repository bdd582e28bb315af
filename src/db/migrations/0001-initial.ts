import { sql, type CreateTableBuilder } from 'kysely';
import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/** An auto-increment integer primary key in the dialect's own spelling. */
function withId<T extends string>(table: CreateTableBuilder<T, never>, dialect: Dialect) {
  return dialect === 'postgres'
    ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

export function initialSchema(dialect: Dialect) {
  return {
    async up(db: AnyDb): Promise<void> {
      await withId(db.schema.createTable('stores'), dialect)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('plan', 'text', (c) => c.notNull())
        .addColumn('timezone', 'text', (c) => c.notNull().defaultTo('UTC'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable('api_users'), dialect)
        .addColumn('store_id', 'bigint', (c) => c.notNull().references('stores.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('key_hash', 'text', (c) => c.notNull())
        .addColumn('key_prefix', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('key_rotated_at', 'bigint')
        .execute();
      await db.schema.createIndex('api_users_store').on('api_users').column('store_id').execute();

      await withId(db.schema.createTable('orders'), dialect)
        .addColumn('store_id', 'bigint', (c) => c.notNull().references('stores.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('archived_at', 'bigint')
        .addColumn('shipments_completed_at', 'bigint')
        .addColumn('external_id', 'text')
        .addColumn('version_id', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'bigint')
        .addColumn('customer_information', 'text', (c) => c.notNull())
        .addColumn('shipping_address', 'text', (c) => c.notNull())
        .addColumn('different_shipping_address', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('subtotal_cents', 'bigint', (c) => c.notNull())
        .addColumn('shipping_costs_cents', 'bigint', (c) => c.notNull())
        .addColumn('payment_costs_cents', 'bigint', (c) => c.notNull())
        .addColumn('discount_cents', 'bigint', (c) => c.notNull())
        .addColumn('total_cents', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('details', 'text')
        .addColumn('custom_data', 'text')
        .addColumn('shipping_method_id', 'bigint')
        .addColumn('payment_method_id', 'bigint')
        .addColumn('source', 'text', (c) => c.notNull().defaultTo('api'))
        .execute();
      for (const column of ['updated_at', 'created_at', 'archived_at', 'shipments_completed_at']) {
        await db.schema
          .createIndex(`orders_store_${column}`)
          .on('orders')
          .columns(['store_id', column, 'id'])
          .execute();
      }


      await withId(db.schema.createTable('shipments'), dialect)
        .addColumn('store_id', 'bigint', (c) => c.notNull())
        .addColumn('order_id', 'bigint', (c) => c.notNull().references('orders.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('tracking_code', 'text')
        .addColumn('shipping_method_id', 'bigint')
        .addColumn('parcel_count', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('weight_g', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();

      await withId(db.schema.createTable('order_products'), dialect)
        .addColumn('store_id', 'bigint', (c) => c.notNull())
        .addColumn('order_id', 'bigint', (c) => c.notNull().references('orders.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('product_code', 'text', (c) => c.notNull())
        .addColumn('product_name', 'text', (c) => c.notNull())
        .addColumn('quantity', 'integer', (c) => c.notNull())
        .addColumn('unit_price_cents', 'bigint', (c) => c.notNull())
        .addColumn('vat_rate_bp', 'integer', (c) => c.notNull())
        .addColumn('shipment_id', 'bigint', (c) => c.references('shipments.id').onDelete('set null'))
        .execute();

      await withId(db.schema.createTable('payments'), dialect)
        .addColumn('store_id', 'bigint', (c) => c.notNull())
        .addColumn('order_id', 'bigint', (c) => c.notNull().references('orders.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('payment_method_id', 'bigint')
        .addColumn('amount_cents', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reference', 'text', (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable('comments'), dialect)
        .addColumn('store_id', 'bigint', (c) => c.notNull())
        .addColumn('order_id', 'bigint', (c) => c.notNull().references('orders.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('user_id', 'bigint')
        .addColumn('visibility', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable('order_events'), dialect)
        .addColumn('store_id', 'bigint', (c) => c.notNull())
        .addColumn('order_id', 'bigint', (c) => c.notNull().references('orders.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('data', 'text')
        .execute();

      for (const child of ['order_products', 'shipments', 'payments', 'comments', 'order_events']) {
        await db.schema.createIndex(`${child}_order`).on(child).columns(['order_id', 'id']).execute();
      }

      await db.schema
        .createTable('webhook_subscriptions')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('store_id', 'bigint', (c) => c.notNull().references('stores.id').onDelete('cascade'))
        .addColumn('user_id', 'bigint', (c) => c.notNull())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('expands', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('disabled_reason', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('webhook_subscriptions_topic_url', ['store_id', 'topic', 'url'])
        .execute();
      await db.schema
        .createIndex('webhook_subscriptions_fanout')
        .on('webhook_subscriptions')
        .columns(['store_id', 'topic', 'status'])
        .execute();

      await withId(db.schema.createTable('webhook_messages'), dialect)
        .addColumn('message_id', 'text', (c) => c.notNull().unique())
        .addColumn('store_id', 'bigint', (c) => c.notNull())
        .addColumn('subscription_uuid', 'text', (c) =>
          c.notNull().references('webhook_subscriptions.uuid').onDelete('cascade'),
        )
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('order_id', 'bigint')
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempt_count', 'integer', (c) => c.notNull().defaultTo(0))
        // attempt_count when the message was last resent or recovered: its retry schedule restarts there.
        .addColumn('schedule_base', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('last_attempt_at', 'bigint')
        .addColumn('delivered_at', 'bigint')
        .addColumn('locked_by', 'text')
        .addColumn('locked_until', 'bigint')
        .execute();
      // Two claim paths, two partial indexes: first attempts never queue behind retries.
      await db.schema
        .createIndex('webhook_messages_due_first')
        .on('webhook_messages')
        .column('next_attempt_at')
        .where(sql.ref('status'), '=', 'pending')
        .where(sql.ref('attempt_count'), '=', 0)
        .execute();
      await db.schema
        .createIndex('webhook_messages_due_retry')
        .on('webhook_messages')
        .column('next_attempt_at')
        .where(sql.ref('status'), '=', 'pending')
        .where(sql.ref('attempt_count'), '>', 0)
        .execute();
      await db.schema
        .createIndex('webhook_messages_log')
        .on('webhook_messages')
        .columns(['subscription_uuid', 'created_at', 'id'])
        .execute();
      await db.schema.createIndex('webhook_messages_order').on('webhook_messages').columns(['order_id']).execute();
      // Retention: delivered messages by delivery time, failed ones by their last attempt.
      await db.schema
        .createIndex('webhook_messages_delivered')
        .on('webhook_messages')
        .column('delivered_at')
        .where(sql.ref('status'), '=', 'delivered')
        .execute();
      await db.schema
        .createIndex('webhook_messages_failed')
        .on('webhook_messages')
        .column('last_attempt_at')
        .where(sql.ref('status'), '=', 'failed')
        .execute();

      await withId(db.schema.createTable('webhook_attempts'), dialect)
        .addColumn('message_row_id', 'bigint', (c) =>
          c.notNull().references('webhook_messages.id').onDelete('cascade'),
        )
        .addColumn('store_id', 'bigint', (c) => c.notNull())
        .addColumn('attempt_number', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('error_class', 'text')
        .addColumn('error_message', 'text')
        .addColumn('response_body', 'text')
        .addColumn('worker_id', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('webhook_attempts_message')
        .on('webhook_attempts')
        .columns(['message_row_id', 'attempt_number'])
        .execute();
    },
  };
}
