import { sql } from 'kysely';
import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/**
 * A subscription's health (issue #17 §1), kept by delivery in the same statement as each outcome
 * (src/delivery/health-counters.ts) and read by the health sweep (src/webhooks/health.ts):
 *
 * - `consecutive_failures`: failed attempts since the last success;
 * - `failing_since`: when the current run of failures started (null: healthy);
 * - `last_failure_at`, `last_success_at`: the last failed attempt; the last success that ended a
 *   run of failures (a healthy subscription's successes write nothing, so it is not every success);
 * - `alert_level`: the highest health announcement made for the current run (0 none, 1 and 2 the
 *   two `subscription.failing` thresholds, 3 `subscription.disabled`); back to 0 on recovery;
 * - `disabled_at`, `disabled_by`: when and by what it was disabled: `failing` (the sweep),
 *   `gone` (a 410 answer) or `operator` (the API, the dashboard, the legacy settings).
 *
 * The partial index holds only subscriptions that are failing, have announced something, or were
 * disabled by a 410 (to announce), so the sweep reads those and never walks the healthy ones.
 */
export function subscriptionHealthSchema(_dialect: Dialect) {
  return {
    async up(db: AnyDb): Promise<void> {
      await db.schema.alterTable('webhook_subscriptions').addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('webhook_subscriptions').addColumn('failing_since', 'bigint').execute();
      await db.schema.alterTable('webhook_subscriptions').addColumn('last_failure_at', 'bigint').execute();
      await db.schema.alterTable('webhook_subscriptions').addColumn('last_success_at', 'bigint').execute();
      await db.schema.alterTable('webhook_subscriptions').addColumn('alert_level', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('webhook_subscriptions').addColumn('disabled_at', 'bigint').execute();
      await db.schema.alterTable('webhook_subscriptions').addColumn('disabled_by', 'text').execute();
      // Subscriptions disabled before this migration: by a 410 or by someone; the reason text says
      // which. Their last change is when; and they count as announced (alert level 3): nobody could
      // subscribe to `subscription.disabled` before, and an old disablement is no news.
      await db.updateTable('webhook_subscriptions').set({ disabled_by: 'gone' }).where('status', '=', 'disabled').where('disabled_reason', 'like', '%410 Gone%').execute();
      await db.updateTable('webhook_subscriptions').set({ disabled_by: 'operator' }).where('status', '=', 'disabled').where('disabled_by', 'is', null).execute();
      await db.updateTable('webhook_subscriptions').set((eb) => ({ disabled_at: eb.ref('updated_at'), alert_level: 3 })).where('status', '=', 'disabled').execute();
      await db.schema
        .createIndex('webhook_subscriptions_health')
        .on('webhook_subscriptions')
        .columns(['failing_since', 'alert_level'])
        .where(sql<boolean>`failing_since is not null or alert_level > 0 or disabled_by = 'gone'`)
        .execute();
    },
  };
}
