import { sql } from 'kysely';
import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/**
 * Delivery lanes (docs/architecture.md, "Lanes"): one row per subscription with queued work, holding
 * the earliest time one of its first attempts and one of its retries may be due. A claim walks the
 * due lanes, not the due messages, so the messages of subscriptions it cannot serve cost it nothing.
 * Two partial indexes per kind give each lane its oldest due messages in one probe. Lanes are
 * backfilled from the pending messages already queued.
 */
export function deliveryLanesSchema(_dialect: Dialect) {
  return {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable('delivery_lanes')
        .addColumn('subscription_uuid', 'text', (c) => c.primaryKey())
        .addColumn('next_first_at', 'bigint')
        .addColumn('next_retry_at', 'bigint')
        .execute();
      await db.schema.createIndex('delivery_lanes_first').on('delivery_lanes').column('next_first_at').execute();
      await db.schema.createIndex('delivery_lanes_retry').on('delivery_lanes').column('next_retry_at').execute();
      await db.schema
        .createIndex('webhook_messages_lane_first')
        .on('webhook_messages')
        .columns(['subscription_uuid', 'next_attempt_at'])
        .where(sql.ref('status'), '=', 'pending')
        .where(sql.ref('attempt_count'), '=', 0)
        .execute();
      await db.schema
        .createIndex('webhook_messages_lane_retry')
        .on('webhook_messages')
        .columns(['subscription_uuid', 'next_attempt_at'])
        .where(sql.ref('status'), '=', 'pending')
        .where(sql.ref('attempt_count'), '>', 0)
        .execute();
      await sql`
        insert into delivery_lanes (subscription_uuid, next_first_at, next_retry_at)
        select subscription_uuid,
               min(case when attempt_count = 0 then next_attempt_at end),
               min(case when attempt_count > 0 then next_attempt_at end)
        from webhook_messages
        where status = 'pending'
        group by subscription_uuid`.execute(db);
    },
  };
}
