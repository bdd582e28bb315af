/**
 * The transactional outbox: inside the transaction of a change (an order's, or a product's, stock
 * item's or customer's through `publishResources`), one message row per
 * matching subscription, its body rendered once with that subscription's `expands`. A disabled
 * subscription gets its messages too, `held` until it is enabled again; only deleting a
 * subscription stops them. A rolled-back change leaves no message; a committed one always has all.
 *
 * Every message carries its resource's next `sequence` (sequences.ts): each event of a change gets
 * its own number, in the order the change lists them, shared by all subscriptions' messages of
 * that event. A subscription with ordering 'per_order' gets its messages keyed by the store, its
 * receiver's URL and their resource (sequences.ts, `orderingKeyOf`), so delivery sends one
 * receiver's messages about one order one at a time (delivery/ordering.ts).
 */
import type { OrderExpand } from '../orders/expands.js';
import { enqueueMessage, enqueueMessages, newMessageRow, type NewMessage } from '../delivery/queue.js';
import { MAX_ATTEMPTS } from '../delivery/schedule.js';
import { JSON_CONTENT_TYPE, newMessageId } from '../delivery/signer.js';
import { WAKE_CHANNEL } from '../db/channels.js';
import { notify } from '../db/dialect.js';
import type { Tx } from '../db/transaction.js';
import type { ResourceEvent } from '../catalogue/events.js';
import type { OrderAggregate } from '../orders/aggregate.js';
import type { OrderEventSink, OrderTopic } from '../orders/events.js';
import { renderOrder } from '../orders/render.js';
import { appendStoreEvents } from '../store-events/writer.js';
import { isoTime } from '../time.js';
import { orderingKeyOf, sequenceKey, takeSequences } from './sequences.js';
import type { MessageBody } from './topics.js';

export interface Outbox extends OrderEventSink {
  /** called after a commit that added due messages: the in-process wake-up of the dispatcher. */
  onWake(listener: () => void): void;
  /** called after a commit that appended store events (the live stream of `storehook listen`). */
  onEvents(listener: (storeId: number) => void): void;
}

export function renderMessageBody(messageId: string, topic: string, createdAt: number, data: unknown, sequence: number): string {
  const body: MessageBody<unknown> = { id: messageId, topic, created_at: isoTime(createdAt), sequence, data };
  return JSON.stringify(body);
}

/** A subscription's ordering key for a resource's messages: none unless it delivers in order. */
function keyFor(s: { store_id: number; url: string; ordering: string }, resource: string, resourceId: number): string | null {
  return s.ordering === 'per_order' ? orderingKeyOf(s.store_id, s.url, resource, resourceId) : null;
}

/** Adds one message with a fresh webhook-id to the queue, in the caller's transaction; returns its row id and webhook-id. */
export async function queueMessage(db: Tx['db'], message: Omit<NewMessage, 'messageId'>): Promise<{ rowId: number; messageId: string }> {
  const messageId = newMessageId();
  return { rowId: await enqueueMessage(db, { ...message, messageId }), messageId };
}

export function createOutbox(): Outbox {
  const listeners: (() => void)[] = [];
  const eventListeners: ((storeId: number) => void)[] = [];
  const wake = () => {
    for (const l of listeners) l();
  };
  return {
    onWake: (listener) => void listeners.push(listener),
    onEvents: (listener) => void eventListeners.push(listener),
    async publish(tx: Tx, agg: OrderAggregate, topics: readonly OrderTopic[], occurredAt: number) {
      if (topics.length === 0) return;
      // The store's event feed (one row per topic), whether or not anything subscribes.
      const storeId = agg.order.store_id;
      await appendStoreEvents(tx, storeId, agg.order.id, topics, occurredAt);
      tx.afterCommit(() => {
        for (const l of eventListeners) l(storeId);
      });
      const subscriptions = await tx.db
        .selectFrom('webhook_subscriptions')
        .select(['uuid', 'topic', 'expands', 'status', 'ordering', 'url', 'store_id'])
        .where('store_id', '=', agg.order.store_id)
        .where('topic', 'in', [...topics])
        .orderBy('created_at')
        .execute();
      if (subscriptions.length === 0) return;
      // One number per topic of the change, in its order; taken only when someone gets a message.
      const sequences = await takeSequences(tx, [{ storeId, resource: 'order', resourceId: agg.order.id, count: topics.length }]);
      const firstSequence = sequences.get(sequenceKey(storeId, 'order', agg.order.id))!;
      // Render each distinct expansion set once; many subscriptions usually share one.
      const rendered = new Map<string, unknown>();
      const rows = subscriptions.map((s) => {
        let data = rendered.get(s.expands);
        if (data === undefined) {
          data = renderOrder(agg, JSON.parse(s.expands) as OrderExpand[]);
          rendered.set(s.expands, data);
        }
        const messageId = newMessageId();
        const sequence = firstSequence + topics.indexOf(s.topic as OrderTopic);
        return newMessageRow({
          messageId,
          storeId: agg.order.store_id,
          subscriptionUuid: s.uuid,
          topic: s.topic,
          orderId: agg.order.id,
          body: renderMessageBody(messageId, s.topic, occurredAt, data, sequence),
          createdAt: occurredAt,
          dueAt: occurredAt,
          held: s.status !== 'active',
          contentType: JSON_CONTENT_TYPE,
          maxAttempts: MAX_ATTEMPTS,
          orderingKey: keyFor(s, 'order', agg.order.id),
          sequence,
        });
      });
      // Topics are published in the order the change lists them, so insert in that order.
      rows.sort((a, b) => topics.indexOf(a.topic as OrderTopic) - topics.indexOf(b.topic as OrderTopic));
      await insertAndWake(tx, rows);
    },
    async publishResources(tx: Tx, events: readonly ResourceEvent[], occurredAt: number) {
      if (events.length === 0) return;
      const subscriptions = await tx.db
        .selectFrom('webhook_subscriptions')
        .select(['uuid', 'topic', 'expands', 'status', 'store_id', 'ordering', 'url'])
        .where('store_id', 'in', [...new Set(events.map((e) => e.storeId))])
        .where('topic', 'in', [...new Set(events.map((e) => e.topic))])
        .orderBy('created_at')
        .execute();
      if (subscriptions.length === 0) return;
      // One number per event of each resource, in the order the events happened.
      const first = await takeSequences(tx, events.map((e) => ({ storeId: e.storeId, resource: e.resource, resourceId: e.resourceId, count: 1 })));
      const next = new Map<string, number>();
      const rows: ReturnType<typeof newMessageRow>[] = [];
      // Events in the order they happened; each rendered once per distinct expansion set.
      for (const event of events) {
        const key = sequenceKey(event.storeId, event.resource, event.resourceId);
        const sequence = next.get(key) ?? first.get(key)!;
        next.set(key, sequence + 1);
        const rendered = new Map<string, unknown>();
        for (const s of subscriptions) {
          if (s.topic !== event.topic || s.store_id !== event.storeId) continue;
          let data = rendered.get(s.expands);
          if (data === undefined) {
            data = await event.render(tx.db, JSON.parse(s.expands) as string[]);
            rendered.set(s.expands, data);
          }
          const messageId = newMessageId();
          rows.push(
            newMessageRow({
              messageId,
              storeId: event.storeId,
              subscriptionUuid: s.uuid,
              topic: s.topic,
              orderId: null,
              body: renderMessageBody(messageId, s.topic, occurredAt, data, sequence),
              createdAt: occurredAt,
              dueAt: occurredAt,
              held: s.status !== 'active',
              orderingKey: keyFor(s, event.resource, event.resourceId),
              sequence,
            }),
          );
        }
      }
      await insertAndWake(tx, rows);
    },
  };

  async function insertAndWake(tx: Tx, rows: ReturnType<typeof newMessageRow>[]): Promise<void> {
    if (rows.length === 0) return;
    await enqueueMessages(tx.db, rows);
    if (rows.every((r) => r.status === 'held')) return;
    await notify(tx, WAKE_CHANNEL);
    tx.afterCommit(wake);
  }
}
