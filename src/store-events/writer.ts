/**
 * Appending to the store's event feed (`store_events`): one row per topic of an order change,
 * inside the change's own transaction, whether or not anything subscribes. `reader.ts` serves the
 * feed to the live stream of `storehook listen`.
 */
import { advisoryXactLockShared } from '../db/dialect.js';
import type { Tx } from '../db/transaction.js';

/**
 * Advisory lock (class, 0) every writer of `store_events` holds shared from before its id is drawn
 * until commit (PostgreSQL). The live stream takes it exclusively for an instant to learn an id
 * below which every row is final, so a slow transaction's smaller id is never skipped.
 */
export const STORE_EVENTS_LOCK = 0x53484556;

export async function appendStoreEvents(tx: Tx, storeId: number, orderId: number, topics: readonly string[], occurredAt: number): Promise<void> {
  await advisoryXactLockShared(tx, [STORE_EVENTS_LOCK, 0]);
  await tx.db
    .insertInto('store_events')
    .values(topics.map((topic) => ({ store_id: storeId, topic, order_id: orderId, created_at: occurredAt })))
    .execute();
}
