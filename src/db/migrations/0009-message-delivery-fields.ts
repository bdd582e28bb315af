import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/**
 * A message carries what its delivery needs, so the delivery engine never asks which topic it is:
 * `content_type` (the header every attempt sends) and `max_attempts` (the first attempt plus its
 * retries). Rows written before this migration are filled in once, by topic, with the two rules
 * the engine used to apply itself: the test message (`webhook.test`) is one attempt, and the
 * legacy bridge's automatic POST (`legacy.order_xml`) is XML. The topic names are spelled out here
 * on purpose: a migration sees the data as it was, not the current code.
 *
 * Two indexes for the store-scoped reads of the dashboard (delivery/queue-views.ts), so they read
 * one store's recent rows instead of walking the whole table: webhook_messages (store_id,
 * created_at) for the store-wide message search and the overview's counts by period, and
 * webhook_attempts (store_id, started_at) for each subscription's success rate of the last 24 hours.
 */
export function messageDeliveryFieldsSchema(_dialect: Dialect) {
  return {
    async up(db: AnyDb): Promise<void> {
      await db.schema.alterTable('webhook_messages').addColumn('content_type', 'text', (c) => c.notNull().defaultTo('application/json')).execute();
      // 16 = the first attempt and 15 retries (SPEC §4), the schedule every message had until now.
      await db.schema.alterTable('webhook_messages').addColumn('max_attempts', 'integer', (c) => c.notNull().defaultTo(16)).execute();
      await db.updateTable('webhook_messages').set({ max_attempts: 1 }).where('topic', '=', 'webhook.test').execute();
      await db.updateTable('webhook_messages').set({ content_type: 'application/xml; charset=utf-8' }).where('topic', '=', 'legacy.order_xml').execute();
      await db.schema.createIndex('webhook_messages_store_created').on('webhook_messages').columns(['store_id', 'created_at']).execute();
      await db.schema.createIndex('webhook_attempts_store_started').on('webhook_attempts').columns(['store_id', 'started_at']).execute();
    },
  };
}
