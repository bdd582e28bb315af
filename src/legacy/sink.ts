/**
 * The legacy bridge's part of every order change, inside the change's own transaction:
 *
 * 1. the JSON outbox publishes as always;
 * 2. on `order.created`, the automatic POST: one message to the store's internal
 *    `legacy.order_xml` subscription, its body the order XML, rendered now (every retry sends the
 *    same bytes) — when the extension is enabled, a POST URL is set, and the order is not one
 *    created through the API (unless the store includes those, see docs/migrating-from-xml-webhooks.md);
 * 3. last, the change is recorded, under the order's commit stamps, in the change log that
 *    `/webhooks/changes` pages through.
 *
 *   const outbox = withLegacyBridge(createOutbox());   // src/server.ts
 */
import { notify } from '../db/dialect.js';
import type { Tx } from '../db/transaction.js';
import { WAKE_CHANNEL } from '../db/channels.js';
import type { OrderAggregate } from '../orders/aggregate.js';
import type { OrderTopic } from '../orders/events.js';
import { queueMessage, type Outbox } from '../webhooks/outbox.js';
import { recordChange } from './change-log.js';
import { ordersDocument } from './order-xml.js';
import { methodNames } from '../orders/methods.js';
import { LEGACY_ORDER_XML_TOPIC, XML_CONTENT_TYPE } from '../webhooks/topics.js';

/** Orders created by this `source` are the ones MyCashflow's extension did not POST. */
export const API_SOURCE = 'api';

export interface LegacyPostTarget {
  subscriptionUuid: string;
  timezone: string;
  /** the internal subscription is disabled (a 410): the automatic POST is stored held. */
  held: boolean;
}

/** Where the automatic POST of `agg` goes, or null when it is not sent (explicit = `send` action). */
export async function automaticPostTarget(db: Tx['db'], agg: OrderAggregate, explicit: boolean): Promise<LegacyPostTarget | null> {
  const row = await db
    .selectFrom('legacy_settings as l')
    .innerJoin('stores as st', 'st.id', 'l.store_id')
    .innerJoin('webhook_subscriptions as s', 's.uuid', 'l.subscription_uuid')
    .select(['l.enabled', 'l.include_api_orders', 'st.plan', 'st.timezone', 's.uuid', 's.status', 's.store_id'])
    .where('l.store_id', '=', agg.order.store_id)
    .executeTakeFirst();
  if (!row || row.store_id !== agg.order.store_id || row.enabled !== 1 || row.plan === 'free') return null;
  // The `send` action sends now, so it needs an active subscription; the automatic POST of a
  // disabled one is kept, held until the operator sets the URL again.
  if (explicit && row.status !== 'active') return null;
  if (!explicit && agg.order.source === API_SOURCE && row.include_api_orders !== 1) return null;
  return { subscriptionUuid: row.uuid, timezone: row.timezone, held: row.status !== 'active' };
}

/**
 * Inserts one automatic-POST message for the order, due at `dueAt`: now for the dispatcher, or a
 * little later when the caller sends it itself at once (the `send` action) — should that process
 * die first, the dispatcher still sends it then.
 */
export async function insertLegacyMessage(db: Tx['db'], agg: OrderAggregate, target: LegacyPostTarget, now: number, dueAt: number): Promise<{ rowId: number; messageId: string }> {
  return queueMessage(db, {
    storeId: agg.order.store_id,
    subscriptionUuid: target.subscriptionUuid,
    topic: LEGACY_ORDER_XML_TOPIC,
    orderId: agg.order.id,
    body: ordersDocument([agg], { timezone: target.timezone, methods: await methodNames(db, agg.order.store_id, [agg.order]) }),
    createdAt: now,
    dueAt,
    held: target.held,
    contentType: XML_CONTENT_TYPE,
  });
}

/** Wraps the outbox so every order change also feeds the legacy bridge (see the module comment). */
export function withLegacyBridge<T extends Outbox>(inner: T): T {
  const listeners: (() => void)[] = [];
  const wake = () => {
    for (const l of listeners) l();
  };
  return {
    ...inner,
    onWake(listener: () => void) {
      inner.onWake(listener);
      listeners.push(listener);
    },
    async publish(tx: Tx, agg: OrderAggregate, topics: readonly OrderTopic[], occurredAt: number) {
      await inner.publish(tx, agg, topics, occurredAt);
      if (topics.length === 0) return;
      const created = topics.includes('order.created');
      if (created) {
        const target = await automaticPostTarget(tx.db, agg, false);
        if (target) {
          await insertLegacyMessage(tx.db, agg, target, occurredAt, occurredAt);
          if (!target.held) {
            await notify(tx, WAKE_CHANNEL);
            tx.afterCommit(wake);
          }
        }
      }
      await recordChange(tx, agg, created);
    },
  };
}
