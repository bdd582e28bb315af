/**
 * What an order change tells the rest of the system. The orders code names the topics a change
 * emits; the webhooks outbox (src/webhooks) turns them into messages inside the same transaction.
 */
import type { Tx } from '../db/transaction.js';
import type { OrderAggregate } from './aggregate.js';

export const ORDER_TOPICS = [
  'order.created',
  'order.updated',
  'order.cancelled',
  'order.completed',
  'order.shipment_completed',
  'order.payment_updated',
  'order.comment_created',
] as const;
export type OrderTopic = (typeof ORDER_TOPICS)[number];

export interface OrderEventSink {
  /** Called inside the change's transaction, with the order as it is after the change. */
  publish(tx: Tx, order: OrderAggregate, topics: readonly OrderTopic[], occurredAt: number): Promise<void>;
}

/** For contexts that emit nothing (e.g. admin seeding before webhooks exist). */
export const silentSink: OrderEventSink = { publish: async () => undefined };
