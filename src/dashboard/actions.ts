/** Dashboard actions that send now: the test message and resend, through the same code as the API. */
import { STATUS_CODES } from 'node:http';
import type { SubscriptionRow } from '../db/schema.js';
import { deliverNow, type DeliverNowResult } from '../delivery/deliver-now.js';
import { newMessageId } from '../delivery/signer.js';
import { renderMessageBody } from '../webhooks/outbox.js';
import { TEST_TOPIC } from '../webhooks/topics.js';
import type { DashboardContext } from './context.js';
import type { Flash } from './sessions.js';
import { formatDuration, formatLocal } from './time.js';

/**
 * `POST /api/v1/webhooks/{uuid}/test` does the same (src/webhooks/routes.ts): store a
 * `webhook.test` message that is not due (this request sends it), then send it once.
 */
export async function sendTestMessage(ctx: DashboardContext, sub: SubscriptionRow): Promise<{ messageId: string; sent: DeliverNowResult }> {
  const now = ctx.now();
  const messageId = newMessageId();
  const data = { message: 'This is a test message from storehook.', subscription: { topic: sub.topic, url: sub.url, expands: JSON.parse(sub.expands) as string[] } };
  const inserted = await ctx.db
    .insertInto('webhook_messages')
    .values({
      message_id: messageId,
      store_id: sub.store_id,
      subscription_uuid: sub.uuid,
      topic: TEST_TOPIC,
      order_id: null,
      body: renderMessageBody(messageId, TEST_TOPIC, now, data),
      status: 'pending',
      attempt_count: 0,
      created_at: now,
      next_attempt_at: null,
      last_attempt_at: null,
      delivered_at: null,
      locked_by: null,
      locked_until: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const sent = await deliverNow(ctx.database, ctx.sender, inserted.id, sub.store_id, ctx.sendSettings);
  return { messageId, sent };
}

/** The flash message that reports a send (test or resend). */
export function sendFlash(what: string, sent: DeliverNowResult, timeZone: string): Flash {
  if (sent.status === 'busy') return { kind: 'info', text: `${what}: the message is being sent by a dispatcher right now; reload this page in a moment to see the outcome.` };
  const { attempt, outcome } = sent.result;
  const took = formatDuration(attempt.durationMs);
  if (outcome.kind === 'delivered') return { kind: 'ok', text: `${what}: delivered. The receiver answered HTTP ${attempt.statusCode ?? ''} in ${took}.` };
  const why = attempt.statusCode !== null ? `HTTP ${attempt.statusCode} ${STATUS_CODES[attempt.statusCode] ?? ''}`.trim() : (attempt.errorClass ?? 'error').replace(/_/g, ' ');
  const detail = attempt.errorMessage && attempt.statusCode === null ? ` (${attempt.errorMessage})` : '';
  if (outcome.kind === 'gone') return { kind: 'error', text: `${what}: the receiver answered 410 Gone, so the subscription is now disabled. Enable it again once the receiver is back.` };
  const next = outcome.nextAttemptAt === null ? 'No retry is scheduled.' : `Next retry at ${formatLocal(outcome.nextAttemptAt, timeZone)}.`;
  return { kind: 'error', text: `${what}: failed after ${took}: ${why}${detail}. ${next}` };
}
