import { sql } from 'kysely';
import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/**
 * Ordered delivery per resource (issue #17 §4, docs/webhooks.md "Order of messages").
 *
 * - `resource_sequences`: the last `sequence` given to each resource (an order, a product, a stock
 *   item, a customer). The outbox takes the next numbers with one upsert per change, inside the
 *   change's transaction, so the numbers of one resource follow its commits. Resources start at 1
 *   after this migration; messages stored before it keep the bytes they were rendered with (no
 *   `sequence` in their body).
 * - `webhook_subscriptions.ordering`: 'none' (the default, every subscription so far) or
 *   'per_order'.
 * - `webhook_messages.ordering_key`: set by the outbox for subscriptions with ordering 'per_order',
 *   naming the store, the receiver's URL and the resource (one chain per receiver and order, across
 *   its subscriptions), opaque to delivery; `sequence`: the number the body carries (0 for the
 *   test and health messages, about no store resource; null for messages without one: the legacy
 *   XML POST, rows older than this migration),
 *   kept in a column so the dashboard can show it without parsing bodies.
 * - a new stored status `blocked` (no DDL: status is text): a keyed message queued behind an
 *   unfinished one of its key, outside the due indexes until its predecessor finishes.
 * - `webhook_messages_chain`: a key's messages in queue order, for "is anything of this key
 *   unfinished?" and "its oldest blocked"; `webhook_messages_blocked`: the few blocked rows, for
 *   the dispatcher's safety net and the dashboard's counts.
 */
export function orderingSchema(_dialect: Dialect) {
  return {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable('resource_sequences')
        .addColumn('store_id', 'bigint', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('resource_id', 'bigint', (c) => c.notNull())
        .addColumn('last_sequence', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('resource_sequences_pk', ['store_id', 'resource', 'resource_id'])
        .execute();
      await db.schema.alterTable('webhook_subscriptions').addColumn('ordering', 'text', (c) => c.notNull().defaultTo('none')).execute();
      await db.schema.alterTable('webhook_messages').addColumn('ordering_key', 'text').execute();
      await db.schema.alterTable('webhook_messages').addColumn('sequence', 'bigint').execute();
      await db.schema
        .createIndex('webhook_messages_chain')
        .on('webhook_messages')
        .columns(['ordering_key', 'id'])
        .where(sql.ref('ordering_key'), 'is not', null)
        .execute();
      await db.schema
        .createIndex('webhook_messages_blocked')
        .on('webhook_messages')
        .columns(['ordering_key', 'id'])
        .where(sql.ref('status'), '=', 'blocked')
        .execute();
    },
  };
}
