import { sql } from 'kysely';
import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/**
 * Held messages get a status of their own (`held`): the messages of a disabled subscription wait
 * there, out of the due partial indexes (which cover only `pending`), so claims never read them.
 * Messages parked by the earlier scheme (`pending` with no due time, subscription disabled) move
 * over. Two small partial indexes: one counts and releases a subscription's held messages, the
 * other lets retention find the old ones.
 */
export function heldMessagesSchema(_dialect: Dialect) {
  return {
    async up(db: AnyDb): Promise<void> {
      await db
        .updateTable('webhook_messages')
        .set({ status: 'held' })
        .where('status', '=', 'pending')
        .where('next_attempt_at', 'is', null)
        .where('subscription_uuid', 'in', db.selectFrom('webhook_subscriptions').select('uuid').where('status', '=', 'disabled'))
        .execute();
      await db.schema
        .createIndex('webhook_messages_held')
        .on('webhook_messages')
        .columns(['subscription_uuid', 'created_at', 'id'])
        .where(sql.ref('status'), '=', 'held')
        .execute();
      await db.schema
        .createIndex('webhook_messages_held_age')
        .on('webhook_messages')
        .column('created_at')
        .where(sql.ref('status'), '=', 'held')
        .execute();
    },
  };
}
