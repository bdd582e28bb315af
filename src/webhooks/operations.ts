/**
 * The webhook operations every front end offers (JSON API, dashboard, legacy bridge): send a
 * message now (resend, the test message, the legacy `send` action), recover failed messages,
 * discard held ones, and subscription changes that make messages due. Built once per process
 * (src/server.ts) with the sender, the lease of a message sent now, and the one wake-up notifier
 * of the dispatcher, so the front ends share one code path and none of them changes the queue
 * by itself (they read it through delivery/queue-views.ts).
 */
import type { Config } from '../config.js';
import type { Database } from '../db/connection.js';
import type { SubscriptionRow } from '../db/schema.js';
import type { AttemptSettings } from '../delivery/attempt.js';
import { deliverNow as sendClaimed, type DeliverNowResult } from '../delivery/deliver-now.js';
import type { Sender } from '../delivery/http-sender.js';
import type { NetworkGuard } from '../delivery/network-guard.js';
import { discardHeld, enqueueMessage, recoverFailed } from '../delivery/queue.js';
import { newMessageId } from '../delivery/signer.js';
import { renderMessageBody } from './outbox.js';
import { inTransaction } from '../db/transaction.js';
import { rotateSigningKey, signingKeyLookup, type Rotated } from './signing-keys.js';
import { createSubscription, deleteSubscription, findSubscription, overlapOf, subscriptionPolicy, updateSubscription, type NewSubscription, type SavedSubscription, type SubscriptionOwner, type SubscriptionPatch, type SubscriptionPolicy } from './subscriptions.js';
import { NO_SEQUENCE, TEST_TOPIC } from './topics.js';

export type { DeliverNowResult } from '../delivery/deliver-now.js';

/**
 * How long a message sent now stays claimed: the request may take the whole request timeout, and
 * the margin covers claiming and recording the outcome, so no dispatcher takes the message meanwhile.
 */
export function sendNowLeaseMs(requestTimeoutMs: number): number {
  return requestTimeoutMs + 30_000;
}

export interface WebhookOperationsOptions {
  database: Database;
  sender: Sender;
  policy: SubscriptionPolicy;
  /** how long a message sent now stays claimed (sendNowLeaseMs). */
  leaseMs: number;
  retryBaseMs: number;
  version: string;
  /** messages became due (requeued, resumed, a retry scheduled): wake the dispatcher. */
  wake: () => void;
  /** names the claims of messages sent now in `locked_by`. */
  workerId?: string;
  now?: () => number;
}

export interface SigningKeyRotation {
  kind?: 'hmac' | 'ed25519' | undefined;
  overlapHours?: number | undefined;
}

export interface RecoverWindow {
  since: number;
  until: number;
  /** only count what would be requeued. */
  dryRun: boolean;
}

export interface WebhookOperations {
  readonly policy: SubscriptionPolicy;
  /** how long a message sent now stays claimed; a message queued to be sent now is due after it. */
  readonly leaseMs: number;
  /** Sends the stored message now (resend; the legacy `send`), with a fresh retry schedule. */
  deliverNow(rowId: number, storeId: number): Promise<DeliverNowResult>;
  /** Stores a `webhook.test` message for the subscription and sends it at once (never retried). */
  sendTest(sub: SubscriptionRow, now?: number): Promise<{ messageId: string; sent: DeliverNowResult }>;
  /** Requeues the subscription's failed messages created in the window; answers how many. */
  recover(storeId: number, uuid: string, window: RecoverWindow, now?: number): Promise<number>;
  /** Deletes (or, dry run, counts) the subscription's held messages created at or before `until`. */
  discardHeld(storeId: number, uuid: string, until: number, dryRun: boolean): Promise<number>;
  createSubscription(owner: SubscriptionOwner, input: NewSubscription): Promise<SavedSubscription>;
  /** Changes a subscription; enabling it again sends its held messages. */
  updateSubscription(storeId: number, uuid: string, patch: SubscriptionPatch, changedBy: string): Promise<SavedSubscription>;
  /** A new signing key; the old one keeps signing beside it for the overlap (default: the policy's). */
  rotateSigningKey(storeId: number, uuid: string, request: SigningKeyRotation, now?: number): Promise<Rotated>;
  deleteSubscription(storeId: number, uuid: string): Promise<void>;
}

export function createWebhookOperations(o: WebhookOperationsOptions): WebhookOperations {
  const { database, sender, policy, wake } = o;
  const now = o.now ?? Date.now;
  const settings: AttemptSettings & { workerId: string; leaseMs: number } = {
    retryBaseMs: o.retryBaseMs,
    version: o.version,
    signingKeys: signingKeyLookup(database.kysely),
    workerId: o.workerId ?? `api:${process.pid}`,
    leaseMs: o.leaseMs,
  };
  return {
    policy,
    leaseMs: o.leaseMs,
    async deliverNow(rowId, storeId) {
      const sent = await sendClaimed(database, sender, rowId, storeId, settings);
      // A retry scheduled, or (ordered delivery) the next message of its order made due.
      if (sent.status === 'sent' && (sent.result.outcome.kind === 'failed' || sent.promoted > 0)) wake();
      return sent;
    },
    async sendTest(sub, at = now()) {
      const messageId = newMessageId();
      const data = { message: 'This is a test message from storehook.', subscription: { topic: sub.topic, url: sub.url, expands: JSON.parse(sub.expands) as string[] } };
      const rowId = await enqueueMessage(database.kysely, {
        messageId,
        storeId: sub.store_id,
        subscriptionUuid: sub.uuid,
        topic: TEST_TOPIC,
        orderId: null,
        body: renderMessageBody(messageId, TEST_TOPIC, at, data, NO_SEQUENCE),
        sequence: NO_SEQUENCE,
        createdAt: at,
        // Not due: this caller sends it at once and reports the outcome; one attempt, no retries.
        dueAt: null,
        maxAttempts: 1,
      });
      return { messageId, sent: await sendClaimed(database, sender, rowId, sub.store_id, settings) };
    },
    async recover(storeId, uuid, window, at = now()) {
      const count = await recoverFailed(database.kysely, storeId, uuid, window.since, window.until, at, window.dryRun);
      if (!window.dryRun && count > 0) wake();
      return count;
    },
    async discardHeld(storeId, uuid, until, dryRun) {
      const count = await discardHeld(database.kysely, storeId, uuid, until, dryRun);
      // Ordered delivery: a chain whose held head went has its next message made its head.
      if (!dryRun && count > 0) wake();
      return count;
    },
    createSubscription: (owner, input) => createSubscription(database, policy, owner, input),
    async updateSubscription(storeId, uuid, patch, changedBy) {
      const saved = await updateSubscription(database, policy, storeId, uuid, patch, changedBy);
      // Enabled again, or ordering turned off: messages that waited are due now.
      if (patch.status === 'active' || patch.ordering === 'none') wake();
      return saved;
    },
    async rotateSigningKey(storeId, uuid, request, at = now()) {
      const sub = await findSubscription(database.kysely, storeId, uuid);
      const overlapMs = request.overlapHours === undefined ? overlapOf(policy) : Math.round(request.overlapHours * 3_600_000);
      return inTransaction(database, (tx) => rotateSigningKey(tx, sub, { kind: request.kind, overlapMs }, at));
    },
    deleteSubscription: (storeId, uuid) => deleteSubscription(database, storeId, uuid),
  };
}

/** The operations as `config` sets them: the one place the send-now lease is derived. */
export function webhookOperationsFor(o: {
  database: Database;
  sender: Sender;
  guard: NetworkGuard;
  config: Pick<Config, 'allowTargets' | 'httpsOnly' | 'maxSubscriptions' | 'requestTimeoutMs' | 'retryBaseMs' | 'secretOverlapHours'>;
  version: string;
  wake: () => void;
}): WebhookOperations {
  return createWebhookOperations({
    database: o.database,
    sender: o.sender,
    policy: subscriptionPolicy(o.config, o.guard),
    leaseMs: sendNowLeaseMs(o.config.requestTimeoutMs),
    retryBaseMs: o.config.retryBaseMs,
    version: o.version,
    wake: o.wake,
  });
}
