/**
 * One delivery attempt: sign the stored bytes, send them, and decide the outcome (SPEC §4).
 * Used by the dispatcher and by the API's resend/test, so both behave exactly alike.
 */
import type { ClaimedMessage, AttemptRecord, Outcome } from './queue.js';
import type { Sender, SendResult } from './http-sender.js';
import { nextAttemptAt, parseRetryAfter } from './schedule.js';
import { deliveryHeaders, signatureHeader, uuidSigningKeys, type SigningKeyLookup } from './signer.js';

export interface AttemptSettings {
  retryBaseMs: number;
  version: string;
  /**
   * The subscription's own signing keys (src/webhooks/signing-keys.ts). Without it every message
   * signs with its subscription's uuid alone, as MyCashflow does: only unit tests leave it out.
   */
  signingKeys?: SigningKeyLookup;
  now?: () => number;
}

export interface AttemptResult {
  attempt: AttemptRecord;
  outcome: Outcome;
  send: SendResult;
}

const RESPONSE_EXCERPT_BYTES = 16 * 1024;

export async function performAttempt(sender: Sender, message: ClaimedMessage, settings: AttemptSettings): Promise<AttemptResult> {
  const now = settings.now ?? Date.now;
  const attemptNumber = message.attempt_count + 1;
  const startedAt = now();
  const timestampSec = Math.floor(startedAt / 1000);
  const keys = settings.signingKeys ? await settings.signingKeys(message.store_id, message.subscription_uuid, startedAt) : uuidSigningKeys(message.subscription_uuid);
  const signature = signatureHeader(keys, message.message_id, timestampSec, message.body);
  const headers = deliveryHeaders({ messageId: message.message_id, timestampSec, signature, topic: message.topic, contentType: message.content_type, attempt: attemptNumber, version: settings.version });
  const result = await sender.send({ url: message.url, body: message.body, headers });
  const endedAt = startedAt + result.durationMs;

  const attempt: AttemptRecord = {
    rowId: message.id,
    storeId: message.store_id,
    subscriptionUuid: message.subscription_uuid,
    orderingKey: message.ordering_key,
    attemptNumber,
    startedAt,
    durationMs: Math.round(result.durationMs),
    statusCode: result.statusCode ?? null,
    errorClass: result.ok ? null : (result.errorClass ?? 'network_error'),
    errorMessage: result.ok ? null : (result.errorMessage ?? null),
    responseBody: result.responseBody ? result.responseBody.slice(0, RESPONSE_EXCERPT_BYTES) : null,
    // A one-shot message (the test message) probes the URL: it leaves the subscription's health alone.
    countsForHealth: message.max_attempts > 1,
  };

  let outcome: Outcome;
  if (result.ok) {
    outcome = { kind: 'delivered', at: endedAt };
  } else if (result.statusCode === 410) {
    outcome = { kind: 'gone', reason: `The receiver answered 410 Gone at ${new Date(endedAt).toISOString()}; enable the subscription again to resume.` };
  } else {
    const honoursRetryAfter = result.statusCode === 429 || result.statusCode === 503;
    outcome = {
      kind: 'failed',
      nextAttemptAt: nextAttemptAt({
        attemptsMade: attemptNumber - message.schedule_base,
        attemptEndedAtMs: endedAt,
        baseMs: settings.retryBaseMs,
        // A one-shot message (the test message) has max_attempts 1: no retry is scheduled.
        maxAttempts: message.max_attempts,
        retryAfterMs: honoursRetryAfter ? parseRetryAfter(result.retryAfter, endedAt) : undefined,
      }),
    };
  }
  return { attempt, outcome, send: result };
}
