/** Dashboard actions that send now: the test message and resend, through the same code as the API. */
import { STATUS_CODES } from 'node:http';
import type { SubscriptionRow } from '../db/schema.js';
import type { DeliverNowResult } from '../webhooks/operations.js';
import type { DashboardContext } from './context.js';
import type { Flash } from './sessions.js';
import { formatDuration, formatLocal } from './time.js';

/** The test message, exactly as `POST /api/v1/webhooks/{uuid}/test` sends it. */
export function sendTestMessage(ctx: DashboardContext, sub: SubscriptionRow): Promise<{ messageId: string; sent: DeliverNowResult }> {
  return ctx.webhooks.sendTest(sub, ctx.now());
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
