/**
 * What an order change tells the rest of the system. The orders code names the topics a change
 * emits; the webhooks outbox (src/webhooks) turns them into messages inside the same transaction.
 */
import type { ResourceEventSink } from '../catalogue/events.js';
import type { Tx } from '../db/transaction.js';
import type { OrderAggregate } from './aggregate.js';
import type { OrderTopic } from './topics.js';

export { ORDER_TOPICS, type OrderTopic } from './topics.js';

/** Orders change stock too, so the sink of an order change takes the stock items' events as well. */
export interface OrderEventSink extends ResourceEventSink {
  /** Called inside the change's transaction, with the order as it is after the change. */
  publish(tx: Tx, order: OrderAggregate, topics: readonly OrderTopic[], occurredAt: number): Promise<void>;
}
