/**
 * What a change to a resource other than an order (a product, a stock item, a customer) tells the
 * rest of the system. The domain names the topic and knows how to render the resource; the
 * webhooks outbox (src/webhooks) turns the event into messages inside the same transaction.
 */
import type { Tx } from '../db/transaction.js';

export { CATALOGUE_TOPICS, type CatalogueTopic } from './topics.js';

export interface ResourceEvent {
  storeId: number;
  topic: string;
  /** which resource the event is about, e.g. 'product' and its id: its messages' `sequence` counts per resource. */
  resource: 'product' | 'stock_item' | 'customer';
  resourceId: number;
  /** the resource as the API shows it with these expands, read inside the change's transaction. */
  render(db: Tx['db'], expands: readonly string[]): Promise<unknown>;
}

export interface ResourceEventSink {
  /** Called inside the change's transaction, in the order the events happened. */
  publishResources(tx: Tx, events: readonly ResourceEvent[], occurredAt: number): Promise<void>;
}
