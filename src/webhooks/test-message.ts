/**
 * The `webhook.test` message (SPEC §3): stored like any other message, so it shows in the log,
 * but not due — the caller (API or dashboard) sends it at once and reports the outcome.
 */
import type { Database } from '../db/connection.js';
import type { SubscriptionRow } from '../db/schema.js';
import type { AttemptSettings } from '../delivery/attempt.js';
import { deliverNow, type DeliverNowResult } from '../delivery/deliver-now.js';
import type { Sender } from '../delivery/http-sender.js';
import { enqueueMessage } from '../delivery/queue.js';
import { newMessageId } from '../delivery/signer.js';
import { renderMessageBody } from './outbox.js';
import { TEST_TOPIC } from './topics.js';

export async function sendTestMessage(
  database: Database,
  sender: Sender,
  settings: AttemptSettings & { workerId: string; leaseMs: number },
  sub: SubscriptionRow,
  now: number,
): Promise<{ messageId: string; sent: DeliverNowResult }> {
  const messageId = newMessageId();
  const data = { message: 'This is a test message from storehook.', subscription: { topic: sub.topic, url: sub.url, expands: JSON.parse(sub.expands) as string[] } };
  const rowId = await enqueueMessage(database.kysely, {
    messageId,
    storeId: sub.store_id,
    subscriptionUuid: sub.uuid,
    topic: TEST_TOPIC,
    orderId: null,
    body: renderMessageBody(messageId, TEST_TOPIC, now, data),
    createdAt: now,
    dueAt: null,
  });
  return { messageId, sent: await deliverNow(database, sender, rowId, sub.store_id, settings) };
}
