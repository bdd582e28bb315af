/**
 * Which subscriptions are failing now, read from the shared database so every process reports
 * the same answer however many workers deliver.
 *
 * A subscription is failing while it has messages whose last attempt failed (retries waiting, or
 * failed for good) after its last delivery; its value is how many such messages it has. One
 * success after the failures clears it. Disabled subscriptions hold their messages (`held`) and
 * are not counted here: the queue gauge shows those.
 */
import { sql } from 'kysely';
import type { Database } from '../db/connection.js';

export interface FailingSubscription {
  storeId: number;
  subscriptionUuid: string;
  /** messages whose last attempt failed after the subscription's last delivery. */
  failingMessages: number;
}

export interface FailingSubscriptions {
  /** the `limit` subscriptions with the most failing messages, most first. */
  top: FailingSubscription[];
  /** how many subscriptions are failing in all (including those past `limit`). */
  total: number;
}

export async function failingSubscriptions(database: Database, limit: number): Promise<FailingSubscriptions> {
  // The last delivery is looked up only for subscriptions that have failed messages, through the
  // (subscription_uuid, …) index; the failed statuses are named literally so the partial indexes apply.
  const result = await sql<{ store_id: number | string; subscription_uuid: string; failing: number | string }>`
    with failed as (
      select store_id, subscription_uuid, last_attempt_at from webhook_messages
      where status = 'pending' and attempt_count > 0
      union all
      select store_id, subscription_uuid, last_attempt_at from webhook_messages
      where status = 'failed'
    ),
    delivered as (
      select d.subscription_uuid, max(d.delivered_at) as at
      from webhook_messages d
      where d.status = 'delivered' and d.subscription_uuid in (select subscription_uuid from failed)
      group by d.subscription_uuid
    )
    select f.store_id, f.subscription_uuid, count(*) as failing
    from failed f left join delivered ok on ok.subscription_uuid = f.subscription_uuid
    where f.last_attempt_at > coalesce(ok.at, 0)
    group by f.store_id, f.subscription_uuid`.execute(database.kysely);
  const all = result.rows
    .map((r) => ({ storeId: Number(r.store_id), subscriptionUuid: r.subscription_uuid, failingMessages: Number(r.failing) }))
    .sort((a, b) => b.failingMessages - a.failingMessages || a.storeId - b.storeId || a.subscriptionUuid.localeCompare(b.subscriptionUuid));
  return { top: all.slice(0, limit), total: all.length };
}
