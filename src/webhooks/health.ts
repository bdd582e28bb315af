/**
 * Endpoint health (issue #17 §1): the periodic sweep that tells the store when one of its
 * subscriptions fails, disables it when it has failed too long, and says when it recovered.
 * Delivery keeps the counters (src/delivery/health-counters.ts); this layer knows the topics.
 *
 * A run looks only at subscriptions that are failing or announced something (a partial index,
 * migration 0012), then handles each in a transaction of its own: the row is read again `for
 * update skip locked` (PostgreSQL), the decision is made on what it says, and `alert_level` (and
 * the status, when disabling) changes in the same transaction as the messages it enqueues. So
 * several workers sweeping at once announce each change exactly once, and a crash between the two
 * is impossible.
 *
 * The timeline (docs/webhooks.md, "Endpoint health"), D = webhookDisableAfterMs, step =
 * min(24 h, D / 5): `subscription.failing` when it has failed for `step` (24 h by default), again
 * at D − step ("disabled in a day"); disabled at D if it is still failing (a failed attempt within
 * the last `step`), its messages held; `subscription.recovered` once it is no longer failing (a
 * success, or enabled again by an operator).
 */
import type { Logger } from 'pino';
import type { Database } from '../db/connection.js';
import { WAKE_CHANNEL } from '../db/channels.js';
import { lockForUpdate, notify } from '../db/dialect.js';
import type { SubscriptionRow } from '../db/schema.js';
import { inTransaction, type Tx } from '../db/transaction.js';
import { enqueueMessages, holdSubscription, newMessageRow } from '../delivery/queue.js';
import { lastFailedAttempt } from '../delivery/queue-views.js';
import { newMessageId } from '../delivery/signer.js';
import { uuidFingerprint } from '../log.js';
import { isoTime } from '../time.js';
import type { SubscriptionHealthData } from './contract.js';
import { renderMessageBody } from './outbox.js';
import { NO_SEQUENCE, type HealthTopic } from './topics.js';

const DAY_MS = 86_400_000;

/** `alert_level` once `subscription.disabled` was announced (the failing thresholds are 1 and 2). */
export const DISABLED_LEVEL = 3;

export interface HealthPolicy {
  disableAfterMs: number;
  /** how long a subscription has failed at each `subscription.failing` announcement, ascending. */
  thresholds: readonly number[];
  /** a subscription counts as still failing while its last failed attempt is at most this old. */
  stillFailingMs: number;
}

/** The thresholds for a disable time: 24 h and "a day before", scaled down for a short one (tests). */
export function healthPolicy(disableAfterMs: number): HealthPolicy {
  const step = Math.min(DAY_MS, disableAfterMs / 5);
  const thresholds = [...new Set([step, disableAfterMs - step])].filter((t) => t > 0 && t < disableAfterMs).sort((a, b) => a - b);
  return { disableAfterMs, thresholds, stillFailingMs: step };
}

/** When a failing, active subscription will be disabled if it keeps failing; null otherwise. */
export function disablesAt(row: Pick<SubscriptionRow, 'status' | 'failing_since'>, policy: HealthPolicy): number | null {
  return row.status === 'active' && row.failing_since !== null ? row.failing_since + policy.disableAfterMs : null;
}

type Decision =
  | { topic: 'subscription.failing'; level: number }
  | { topic: 'subscription.disabled'; disable: boolean }
  | { topic: 'subscription.recovered' };

/** What the sweep does about one subscription now, from its row alone (a pure function, tested as such). */
export function decide(row: SubscriptionRow, now: number, policy: HealthPolicy): Decision | null {
  if (row.status === 'disabled') {
    // A 410 disabled it in the outcome writer (which set alert_level back to 0): announce that
    // once, as the sweep's own disables.
    return row.disabled_by === 'gone' && row.alert_level < DISABLED_LEVEL ? { topic: 'subscription.disabled', disable: false } : null;
  }
  // Active after `subscription.disabled`: an operator enabled it again (which resets its counters;
  // if it has failed again since, the timeline starts again after this).
  if (row.failing_since === null || row.alert_level >= DISABLED_LEVEL) return row.alert_level > 0 ? { topic: 'subscription.recovered' } : null;
  const failingFor = now - row.failing_since;
  const stillFailing = row.last_failure_at !== null && now - row.last_failure_at <= policy.stillFailingMs;
  if (failingFor >= policy.disableAfterMs && stillFailing) return { topic: 'subscription.disabled', disable: true };
  const level = policy.thresholds.filter((t) => failingFor >= t).length;
  return level > row.alert_level ? { topic: 'subscription.failing', level } : null;
}

/** One announcement a sweep made, for logs and tests. */
export interface Announcement {
  storeId: number;
  reference: string;
  topic: HealthTopic;
  /** how many of the store's other subscriptions it was sent to. */
  recipients: number;
}

export interface HealthSweepOptions {
  database: Database;
  disableAfterMs: number;
  intervalMs: number;
  log: Pick<Logger, 'warn' | 'info'>;
  /** messages were enqueued: wake this process's dispatcher (others hear the notification). */
  wake(): void;
  now?: () => number;
}

export class HealthSweep {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<Announcement[]> | null = null;
  readonly policy: HealthPolicy;

  constructor(private readonly o: HealthSweepOptions) {
    this.policy = healthPolicy(o.disableAfterMs);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private async tick(): Promise<void> {
    // A slow run is not overlapped by the next one.
    if (this.running) return;
    try {
      await this.sweep();
    } catch (err) {
      this.o.log.warn({ err }, 'the subscription health sweep failed; it runs again at the next interval');
    }
  }

  /** One run: every subscription that is failing or announced something, one transaction each. */
  sweep(): Promise<Announcement[]> {
    const run = this.runOnce().finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  private async runOnce(): Promise<Announcement[]> {
    const db = this.o.database.kysely;
    // The partial index's own condition, so SQLite reads the index (migration 0012); then only
    // the rows `decide` may act on (a disabled subscription, once announced, needs nothing).
    const candidates = await db
      .selectFrom('webhook_subscriptions')
      .select('uuid')
      .where((eb) => eb.or([eb('failing_since', 'is not', null), eb('alert_level', '>', 0), eb('disabled_by', '=', 'gone')]))
      .where((eb) => eb.or([eb('status', '=', 'active'), eb.and([eb('disabled_by', '=', 'gone'), eb('alert_level', '<', DISABLED_LEVEL)])]))
      .execute();
    const made: Announcement[] = [];
    for (const { uuid } of candidates) {
      const announcement = await inTransaction(this.o.database, (tx) => this.handle(tx, uuid));
      if (announcement) made.push(announcement);
    }
    return made;
  }

  private async handle(tx: Tx, uuid: string): Promise<Announcement | null> {
    // Another worker handling it right now: it is that worker's to announce.
    const row = await lockForUpdate(tx.db.selectFrom('webhook_subscriptions').selectAll().where('uuid', '=', uuid), tx.dialect, { skipLocked: true, noKey: true }).executeTakeFirst();
    if (!row) return null;
    const now = (this.o.now ?? Date.now)();
    const decision = decide(row, now, this.policy);
    if (!decision) return null;
    let current = row;
    let level: number;
    switch (decision.topic) {
      case 'subscription.failing':
        level = decision.level;
        break;
      case 'subscription.disabled':
        level = DISABLED_LEVEL;
        if (decision.disable) {
          const reason = `Disabled automatically at ${isoTime(now)}: failing since ${isoTime(row.failing_since!)} (${row.consecutive_failures} failed attempts in a row, the last at ${isoTime(row.last_failure_at!)}). Its messages are held; enable it again to send them.`;
          await holdSubscription(tx.db, uuid, reason, now, 'failing');
          current = { ...row, status: 'disabled', disabled_reason: reason, disabled_at: now, disabled_by: 'failing' };
        }
        break;
      case 'subscription.recovered':
        level = 0;
        break;
    }
    await tx.db.updateTable('webhook_subscriptions').set({ alert_level: level }).where('uuid', '=', uuid).execute();
    const lastError = current.last_failure_at === null ? null : await lastFailedAttempt(tx.db, current.store_id, uuid, current.last_failure_at);
    const data = healthData(current, this.policy, lastError);
    const recipients = await this.announce(tx, current, decision.topic, data, now);
    const reference = uuidFingerprint(uuid);
    const fields = { store: current.store_id, subscription: reference, topic: current.topic, failing_since: data.failing_since, consecutive_failures: current.consecutive_failures, recipients };
    if (decision.topic === 'subscription.recovered') this.o.log.info(fields, 'webhook subscription recovered');
    else if (decision.topic === 'subscription.failing') this.o.log.warn({ ...fields, disables_at: data.disables_at }, 'webhook subscription failing');
    else this.o.log.warn({ ...fields, disabled_by: current.disabled_by, reason: current.disabled_reason }, 'webhook subscription disabled automatically');
    return { storeId: current.store_id, reference, topic: decision.topic, recipients };
  }

  /** Enqueues the message for every other subscription of the store to `topic`; returns how many. */
  private async announce(tx: Tx, about: SubscriptionRow, topic: HealthTopic, data: SubscriptionHealthData, now: number): Promise<number> {
    const recipients = await tx.db
      .selectFrom('webhook_subscriptions')
      .select(['uuid', 'status'])
      .where('store_id', '=', about.store_id)
      .where('topic', '=', topic)
      // Never the subscription it is about, even when it subscribes to the topic.
      .where('uuid', '!=', about.uuid)
      .orderBy('created_at')
      .execute();
    const rows = recipients.map((r) => {
      const messageId = newMessageId();
      return newMessageRow({ messageId, storeId: about.store_id, subscriptionUuid: r.uuid, topic, orderId: null, body: renderMessageBody(messageId, topic, now, data, NO_SEQUENCE), sequence: NO_SEQUENCE, createdAt: now, dueAt: now, held: r.status !== 'active' });
    });
    await enqueueMessages(tx.db, rows);
    if (rows.some((r) => r.status === 'pending')) {
      await notify(tx, WAKE_CHANNEL);
      tx.afterCommit(this.o.wake);
    }
    return rows.length;
  }
}

/** A subscription's health as the messages carry it: named by topic, URL and reference, never by its uuid. */
export function healthData(row: SubscriptionRow, policy: HealthPolicy, lastError: { statusCode: number | null; errorClass: string } | null): SubscriptionHealthData {
  const at = (t: number | null) => (t === null ? null : isoTime(t));
  return {
    subscription: { reference: uuidFingerprint(row.uuid), topic: row.topic, url: withoutSecrets(row.url), status: row.status },
    failing_since: at(row.failing_since),
    consecutive_failures: row.consecutive_failures,
    last_failure_at: at(row.last_failure_at),
    last_error: lastError ? { status_code: lastError.statusCode, error_class: lastError.errorClass } : null,
    last_success_at: at(row.last_success_at),
    disables_at: at(disablesAt(row, policy)),
    disabled_at: at(row.disabled_at),
    disabled_reason: row.disabled_reason,
  };
}

/**
 * The receiver URL as an alert names it: scheme, host, port and path. Its query and any user
 * name or password are left out: receivers often carry a token there, and the alert goes to
 * other integrations.
 */
export function withoutSecrets(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '';
  }
}
