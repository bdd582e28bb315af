/**
 * The transactional outbox: inside the transaction of an order change, one message row per
 * matching subscription, its body rendered once with that subscription's `expands`. A disabled
 * subscription gets its messages too, `held` until it is enabled again; only deleting a
 * subscription stops them. A rolled-back change leaves no message; a committed one always has all.
 */
import type { OrderExpand } from '../orders/contract.js';
import { enqueueMessage, enqueueMessages, newMessageRow, type NewMessage } from '../delivery/queue.js';
import { newMessageId } from '../delivery/signer.js';
import { WAKE_CHANNEL } from '../db/channels.js';
import { notify } from '../db/dialect.js';
import type { Tx } from '../db/transaction.js';
import type { OrderAggregate } from '../orders/aggregate.js';
import type { OrderEventSink, OrderTopic } from '../orders/events.js';
import { renderOrder } from '../orders/render.js';
import { appendStoreEvents } from '../store-events/writer.js';
import { isoTime } from '../time.js';
import type { MessageBody } from './topics.js';

export interface Outbox extends OrderEventSink {
  /** called after a commit that added due messages: the in-process wake-up of the dispatcher. */
  onWake(listener: () => void): void;
  /** called after a commit that appended store events (the live stream of `storehook listen`). */
  onEvents(listener: (storeId: number) => void): void;
}

export function renderMessageBody(messageId: string, topic: string, createdAt: number, data: unknown): string {
  const body: MessageBody<unknown> = { id: messageId, topic, created_at: isoTime(createdAt), data };
  return JSON.stringify(body);
}

/** Adds one message with a fresh webhook-id to the queue, in the caller's transaction; returns its row id. */
export function queueMessage(db: Tx['db'], message: Omit<NewMessage, 'messageId'>): Promise<number> {
  return enqueueMessage(db, { ...message, messageId: newMessageId() });
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
        .select(['uuid', 'topic', 'expands', 'status'])
        .where('store_id', '=', agg.order.store_id)
        .where('topic', 'in', [...topics])
        .orderBy('created_at')
        .execute();
      if (subscriptions.length === 0) return;
      // Render each distinct expansion set once; many subscriptions usually share one.
      const rendered = new Map<string, unknown>();
      const rows = subscriptions.map((s) => {
        let data = rendered.get(s.expands);
        if (data === undefined) {
          data = renderOrder(agg, JSON.parse(s.expands) as OrderExpand[]);
          rendered.set(s.expands, data);
        }
        const messageId = newMessageId();
        return newMessageRow({
          messageId,
          storeId: agg.order.store_id,
          subscriptionUuid: s.uuid,
          topic: s.topic,
          orderId: agg.order.id,
          body: renderMessageBody(messageId, s.topic, occurredAt, data),
          createdAt: occurredAt,
          dueAt: occurredAt,
          held: s.status !== 'active',
        });
      });
      // Topics are published in the order the change lists them, so insert in that order.
      rows.sort((a, b) => topics.indexOf(a.topic as OrderTopic) - topics.indexOf(b.topic as OrderTopic));
      await enqueueMessages(tx.db, rows);
      if (rows.every((r) => r.status === 'held')) return;
      await notify(tx, WAKE_CHANNEL);
      tx.afterCommit(wake);
    },
  };
}
