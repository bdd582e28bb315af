/**
 * What an operator needs to hear about deliveries, and nothing more at `info`:
 * - warn when a subscription starts failing (its first failure after a success, or since this
 *   process started), when a message fails for good, and when a 410 disables a subscription;
 * - info when a failing subscription delivers again;
 * - one debug line per attempt.
 * Every line names the store and the subscription by fingerprint: the uuid is the signing key and
 * never logged. The receiver is named by host only (its URL may carry a token).
 */
import type { Logger } from 'pino';
import { redactUrl, uuidFingerprint } from '../log.js';
import type { AttemptResult } from './attempt.js';
import type { ClaimedMessage } from './queue.js';

export class DeliveryLog {
  /** subscriptions whose last outcome in this process was a failure; a success removes them. */
  private readonly failing = new Set<string>();

  constructor(private readonly log: Pick<Logger, 'info' | 'warn' | 'debug'>) {}

  /** After the attempt's outcome was written (the lease was still held). */
  recorded(message: ClaimedMessage, result: AttemptResult): void {
    const uuid = message.subscription_uuid;
    const { outcome, attempt } = result;
    const fields = {
      store: message.store_id,
      subscription: uuidFingerprint(uuid),
      messageId: message.message_id,
      topic: message.topic,
      attempt: attempt.attemptNumber,
      receiver: hostOf(message.url),
      status: attempt.statusCode,
      error: attempt.errorClass,
    };
    this.log.debug({ ...fields, outcome: outcome.kind, durationMs: attempt.durationMs }, 'delivery attempt');
    switch (outcome.kind) {
      case 'delivered':
        if (this.failing.delete(uuid)) this.log.info(fields, 'subscription delivers again');
        return;
      case 'gone':
        this.failing.delete(uuid);
        this.log.warn(fields, 'subscription disabled: the receiver answered 410 Gone; its messages wait until it is enabled again');
        return;
      case 'failed':
        if (!this.failing.has(uuid)) {
          this.failing.add(uuid);
          this.log.warn({ ...fields, reason: attempt.errorMessage === null ? null : redactUrl(attempt.errorMessage) }, 'subscription started failing; its messages are retried on schedule');
        }
        if (outcome.nextAttemptAt === null) this.log.warn({ ...fields, reason: attempt.errorMessage === null ? null : redactUrl(attempt.errorMessage) }, 'message failed for good: no attempts left; resend or recover it once the receiver works');
        return;
    }
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}
