/**
 * The queue operations on `webhook_messages`, one function each, the SQL in plain sight: every
 * write, and the engine's own reads. Everyone else reads through queue-views.ts; no module outside
 * src/delivery/ names the table (test/delivery/queue-owner.test.ts).
 *
 * The claim itself is in claim.ts, and the lanes it walks in lanes.ts: every function here that
 * makes a message due lowers its subscription's lane in the same transaction. Every outcome is written
 * `where id = ? and locked_by = ?`: a worker that lost its lease cannot overwrite the outcome of
 * the worker that took over (ARCHITECTURE invariant 2).
 *
 * The messages of a disabled subscription are `held`: a status of their own, outside the due
 * partial indexes (which cover `pending` only), so a claim never reads them. Enabling the
 * subscription makes them `pending` again, due at their creation time, so they go out oldest first.
 *
 * PostgreSQL: the lease heartbeat and releaseClaims lock the rows they change in id order, the
 * outcome writer writes its batch in id order, and the heartbeat skips rows being written, so a
 * heartbeat and an outcome batch on the same rows never wait on each other in a cycle.
 */
import { sql, type ExpressionBuilder, type Insertable, type Kysely } from 'kysely';
import type { Database } from '../db/connection.js';
import { lockForUpdate } from '../db/dialect.js';
import { inTransaction } from '../db/transaction.js';
import type { DisabledBy, Schema, WebhookMessagesTable } from '../db/schema.js';
import { HEALTHY, recordHealth } from './health-counters.js';
import { MAX_ATTEMPTS } from './schedule.js';
import { JSON_CONTENT_TYPE } from './signer.js';
import { earliestLaneTime, lowerLanes, lowerLanesFromQueue, type LaneKind, type LaneMark } from './lanes.js';
import { advanceChains, chainNewRows, lockChains, lockChainsOf, repairChainsIn, type Chain } from './ordering.js';

type Db = Kysely<Schema>;


export type ClaimKind = LaneKind;

export interface ClaimedMessage {
  id: number;
  message_id: string;
  store_id: number;
  subscription_uuid: string;
  topic: string;
  body: string;
  attempt_count: number;
  schedule_base: number;
  created_at: number;
  /** what its producer said delivery needs: the content-type header and the attempt limit. */
  content_type: string;
  max_attempts: number;
  /** its chain's key when its subscription delivers in order (ordering.ts); null otherwise. */
  ordering_key: string | null;
  url: string;
}

export interface NewMessage {
  messageId: string;
  storeId: number;
  subscriptionUuid: string;
  topic: string;
  orderId: number | null;
  /** the exact bytes every attempt will send. */
  body: string;
  createdAt: number;
  /** when the first attempt is due; null for a message its creator sends itself (test). */
  dueAt: number | null;
  /** its subscription is disabled: stored `held`, sent once the subscription is enabled again. */
  held?: boolean;
  /** the content-type header of every attempt; JSON when not given. */
  contentType?: string;
  /** the first attempt plus its retries, at most MAX_ATTEMPTS (the default); 1 for a one-shot message. */
  maxAttempts?: number;
  /** delivered one at a time with the other messages of its subscription with this key (ordering.ts). */
  orderingKey?: string | null;
  /** the `sequence` its body carries, kept to show it (null: none). */
  sequence?: number | null;
}

/**
 * Runs `work` in the caller's transaction, or in a new one: a message and its lane change together,
 * or a message could become due with no lane saying so.
 */
function atomically<T>(db: Db, work: (db: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

/** The row of a message that has not been tried yet. */
export function newMessageRow(m: NewMessage): Insertable<WebhookMessagesTable> {
  return {
    message_id: m.messageId,
    store_id: m.storeId,
    subscription_uuid: m.subscriptionUuid,
    topic: m.topic,
    order_id: m.orderId,
    body: m.body,
    status: m.held ? 'held' : 'pending',
    attempt_count: 0,
    created_at: m.createdAt,
    next_attempt_at: m.held ? null : m.dueAt,
    last_attempt_at: null,
    delivered_at: null,
    locked_by: null,
    locked_until: null,
    content_type: m.contentType ?? JSON_CONTENT_TYPE,
    max_attempts: m.maxAttempts ?? MAX_ATTEMPTS,
    ordering_key: m.orderingKey ?? null,
    sequence: m.sequence ?? null,
  };
}

/** Adds one message to the queue; returns its row id. */
export function enqueueMessage(db: Db, m: NewMessage): Promise<number> {
  return atomically(db, async (db) => {
    const [row] = await chainNewRows(db, [newMessageRow(m)]);
    const inserted = await db.insertInto('webhook_messages').values(row!).returning('id').executeTakeFirstOrThrow();
    await lowerLanes(db, laneMarks([row!]));
    return inserted.id;
  });
}

/**
 * Adds messages (rows from newMessageRow) to the queue, in the caller's transaction. A keyed row
 * whose chain has an unfinished message is stored `blocked` (ordering.ts).
 */
export async function enqueueMessages(db: Db, rows: readonly Insertable<WebhookMessagesTable>[]): Promise<void> {
  if (rows.length === 0) return;
  await atomically(db, async (db) => {
    const chained = await chainNewRows(db, rows);
    await db.insertInto('webhook_messages').values(chained).execute();
    await lowerLanes(db, laneMarks(chained));
  });
}

/** The lane times new rows make due (held rows and rows without a due time: none). */
function laneMarks(rows: readonly Insertable<WebhookMessagesTable>[]): LaneMark[] {
  return rows
    .filter((r) => r.status === 'pending' && typeof r.next_attempt_at === 'number')
    .map((r) => {
      const at = r.next_attempt_at as number;
      const retry = (r.attempt_count ?? 0) > 0;
      return { subscriptionUuid: r.subscription_uuid, firstAt: retry ? null : at, retryAt: retry ? at : null };
    });
}

/** Deletes every message of a subscription (it is being deleted); their attempts go with them. */
export async function deleteMessagesOf(db: Db, storeId: number, uuid: string): Promise<void> {
  await lockChainsOf(db, uuid);
  await db.deleteFrom('webhook_messages').where('subscription_uuid', '=', uuid).where('store_id', '=', storeId).execute();
  // Its lane too: nothing of it is due any more.
  await db.deleteFrom('delivery_lanes').where('subscription_uuid', '=', uuid).execute();
  // A chain it shared with another subscription (same receiver) goes on without it.
  await lowerLanes(db, await repairChainsIn(db, Date.now()));
}

/**
 * Claims one message by id regardless of its due time (resend, test), restarting its retry
 * schedule; null when another worker holds it right now.
 */
export async function claimOne(database: Database, rowId: number, storeId: number, workerId: string, now: number, leaseMs: number): Promise<ClaimedMessage | null> {
  const row = await atomically(database.kysely, async (db) => {
    const claimed = await db
    .updateTable('webhook_messages')
    .set((eb) => ({
      locked_by: workerId,
      locked_until: now + leaseMs,
      next_attempt_at: now + leaseMs,
      status: 'pending',
      delivered_at: null,
      schedule_base: eb.ref('attempt_count'),
    }))
    .where('id', '=', rowId)
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .returning(['id', 'message_id', 'store_id', 'subscription_uuid', 'topic', 'body', 'attempt_count', 'schedule_base', 'created_at', 'content_type', 'max_attempts', 'ordering_key'])
    .executeTakeFirst();
    // If this process dies mid-attempt, the lease's end makes the message due again: its lane must say so.
    const leaseEnd = now + leaseMs;
    if (claimed) await lowerLanes(db, [{ subscriptionUuid: claimed.subscription_uuid, firstAt: claimed.attempt_count === 0 ? leaseEnd : null, retryAt: claimed.attempt_count > 0 ? leaseEnd : null }]);
    return claimed;
  });
  if (!row) return null;
  const sub = await database.kysely.selectFrom('webhook_subscriptions').select('url').where('uuid', '=', row.subscription_uuid).executeTakeFirst();
  return sub ? { ...row, url: sub.url } : null;
}

/** The status a message takes when it goes back to the queue: held while its subscription is disabled. */
const REQUEUE_STATUS = sql<'pending' | 'held'>`case when (select s.status from webhook_subscriptions s where s.uuid = webhook_messages.subscription_uuid) = 'active' then 'pending' else 'held' end`;

/** Its due time then: `at`, or none while held. */
function requeueAt(at: number) {
  return sql<number | null>`case when (select s.status from webhook_subscriptions s where s.uuid = webhook_messages.subscription_uuid) = 'active' then cast(${at} as bigint) else null end`;
}

/**
 * The rows among `rowIds` that `workerId` holds, for an UPDATE's `where id in (…)`. On PostgreSQL
 * they are locked here, in id order, the order every multi-row writer of the queue uses: a
 * heartbeat and an outcome batch touching the same rows cannot deadlock. `skipLocked` leaves out
 * rows another transaction is writing right now (an outcome being recorded ends their lease anyway).
 */
function heldByWorker(database: Database, workerId: string, rowIds: readonly number[], skipLocked: boolean) {
  // The order only matters where rows are locked; elsewhere it changes nothing.
  const q = database.kysely.selectFrom('webhook_messages').select('id').where('id', 'in', [...rowIds]).where('locked_by', '=', workerId).orderBy('id');
  return lockForUpdate(q, database.dialect, { skipLocked });
}

/**
 * Extends the lease of messages still in flight; returns how many it extended. On PostgreSQL a
 * row whose outcome is being written at this moment is skipped, not waited on.
 */
export async function extendLeases(database: Database, workerId: string, rowIds: readonly number[], now: number, leaseMs: number): Promise<number> {
  if (rowIds.length === 0) return 0;
  const result = await database.kysely
    .updateTable('webhook_messages')
    .set({ locked_until: now + leaseMs, next_attempt_at: now + leaseMs })
    .where('id', 'in', heldByWorker(database, workerId, rowIds, true))
    .where('locked_by', '=', workerId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Gives claimed messages back unsent (shutdown, 410, a claim that raced a disable): due again at
 * once, or held when their subscription is no longer active.
 */
export async function releaseClaims(database: Database, workerId: string, rowIds: readonly number[], now: number): Promise<void> {
  if (rowIds.length === 0) return;
  await inTransaction(database, async ({ db }) => {
    const released = await db
      .updateTable('webhook_messages')
      .set({ locked_by: null, locked_until: null, status: REQUEUE_STATUS, next_attempt_at: requeueAt(now) })
      .where('id', 'in', heldByWorker(database, workerId, rowIds, false))
      .where('locked_by', '=', workerId)
      .where('status', '=', 'pending')
      .returning('subscription_uuid')
      .execute();
    await lowerLanesFromQueue(db, released.map((r) => r.subscription_uuid));
  });
}

export interface AttemptRecord {
  rowId: number;
  storeId: number;
  subscriptionUuid: string;
  /** the message's chain key (ordering.ts); null when its subscription does not deliver in order. */
  orderingKey: string | null;
  attemptNumber: number;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  errorClass: string | null;
  errorMessage: string | null;
  responseBody: string | null;
  /** false: the attempt leaves its subscription's health as it is (the one-shot test message); default true. */
  countsForHealth?: boolean;
}

export type Outcome =
  | { kind: 'delivered'; at: number }
  /** failed, with the next attempt's time, or null when no retry is left. */
  | { kind: 'failed'; nextAttemptAt: number | null }
  /** 410 Gone: disable the subscription; the message is held until it is enabled again. */
  | { kind: 'gone'; reason: string };

/** One outcome for recordOutcomes. */
export interface OutcomeRecord {
  attempt: AttemptRecord;
  outcome: Outcome;
}

/** Whether this outcome finishes its message for good: delivered, or failed with no retry left. */
export function isFinal(outcome: Outcome): boolean {
  return outcome.kind === 'delivered' || (outcome.kind === 'failed' && outcome.nextAttemptAt === null);
}

/** The chain a record finishes the head of, if any (ordering.ts). */
export function finishedChain(r: OutcomeRecord): Chain | null {
  return r.attempt.orderingKey !== null && isFinal(r.outcome) ? { orderingKey: r.attempt.orderingKey } : null;
}

/** What a batch of outcomes did: per record whether its lease held, and how many blocked messages became due. */
export interface OutcomeBatchResult {
  held: boolean[];
  promoted: number;
}

/**
 * Records attempts and their outcomes in the caller's transaction (the outcome writer's batch),
 * each only if `workerId` still holds its lease. A keyed message that finished promotes the next
 * of its chain (ordering.ts): the chains are locked first (PostgreSQL), before anything is read.
 * The lanes of retries scheduled and of promoted messages are lowered once at the end, in
 * subscription order, as every writer of lanes does (lanes.ts), so a batch and an order's
 * transaction never wait on each other in a cycle.
 */
export async function recordOutcomeBatch(db: Db, workerId: string, records: readonly OutcomeRecord[]): Promise<OutcomeBatchResult> {
  const chains = records.map(finishedChain).filter((c): c is Chain => c !== null);
  await lockChains(db, chains);
  const held: boolean[] = [];
  const marks: LaneMark[] = [];
  const finished: Chain[] = [];
  let finishedAt = 0;
  for (const r of records) {
    const ok = await writeOutcome(db, workerId, r.attempt, r.outcome);
    held.push(ok);
    if (ok && r.outcome.kind === 'failed' && r.outcome.nextAttemptAt !== null) marks.push({ subscriptionUuid: r.attempt.subscriptionUuid, firstAt: null, retryAt: r.outcome.nextAttemptAt });
    const chain = finishedChain(r);
    if (ok && chain) {
      finished.push(chain);
      finishedAt = Math.max(finishedAt, r.attempt.startedAt + r.attempt.durationMs);
    }
  }
  const promoted = await advanceChains(db, finished, finishedAt);
  // Subscriptions before lanes, as every writer of both (health-counters.ts).
  await recordHealth(db, records, held);
  await lowerLanes(db, [...marks, ...promoted]);
  return { held, promoted: promoted.length };
}

/** recordOutcomeBatch, answering per record whether its lease held. */
export async function recordOutcomes(db: Db, workerId: string, records: readonly OutcomeRecord[]): Promise<boolean[]> {
  return (await recordOutcomeBatch(db, workerId, records)).held;
}

/**
 * Records one attempt and its outcome, if `workerId` still holds the lease. Returns false (and
 * writes nothing) when the lease was lost. Runs inside the caller's transaction.
 */
export async function recordOutcome(db: Db, workerId: string, attempt: AttemptRecord, outcome: Outcome): Promise<boolean> {
  const [held] = await recordOutcomes(db, workerId, [{ attempt, outcome }]);
  return held!;
}

async function writeOutcome(db: Db, workerId: string, attempt: AttemptRecord, outcome: Outcome): Promise<boolean> {
  const base = db.updateTable('webhook_messages').where('id', '=', attempt.rowId).where('locked_by', '=', workerId);
  const common = { attempt_count: attempt.attemptNumber, last_attempt_at: attempt.startedAt + attempt.durationMs, locked_by: null, locked_until: null };
  let updated;
  switch (outcome.kind) {
    case 'delivered':
      updated = await base.set({ ...common, status: 'delivered', delivered_at: outcome.at, next_attempt_at: null }).executeTakeFirst();
      break;
    case 'failed':
      // A subscription disabled meanwhile holds the message until it is enabled again.
      updated = await base
        .set(
          outcome.nextAttemptAt === null
            ? { ...common, status: 'failed', next_attempt_at: null }
            : { ...common, status: REQUEUE_STATUS, next_attempt_at: requeueAt(outcome.nextAttemptAt) },
        )
        .executeTakeFirst();
      break;
    case 'gone':
      // The message itself is kept: held, its 410 attempt in the log, sent again once enabled.
      updated = await base.set({ ...common, status: 'held', next_attempt_at: null }).executeTakeFirst();
      break;
  }
  if (Number(updated.numUpdatedRows) === 0) return false;
  await db
    .insertInto('webhook_attempts')
    .values({
      message_row_id: attempt.rowId,
      store_id: attempt.storeId,
      attempt_number: attempt.attemptNumber,
      started_at: attempt.startedAt,
      duration_ms: attempt.durationMs,
      status_code: attempt.statusCode,
      error_class: attempt.errorClass,
      error_message: attempt.errorMessage,
      response_body: attempt.responseBody,
      worker_id: workerId,
    })
    .execute();
  if (outcome.kind === 'gone') await holdSubscription(db, attempt.subscriptionUuid, outcome.reason, attempt.startedAt, 'gone');
  return true;
}

/**
 * Disables a subscription and holds its queued messages until it is enabled again. Messages a
 * worker is sending right now finish their attempt; their outcome holds them (recordOutcome).
 * `by` records what disabled it (a person, a 410, the health sweep), `now` when.
 */
export async function holdSubscription(db: Db, uuid: string, reason: string, now: number, by: DisabledBy = 'operator'): Promise<void> {
  await db
    .updateTable('webhook_subscriptions')
    .set((eb) => ({
      status: 'disabled',
      disabled_reason: reason,
      disabled_at: now,
      disabled_by: by,
      updated_at: now,
      // A 410 disabling an active subscription is news for the health sweep to announce, whatever
      // it announced before (src/webhooks/health.ts), even right after an operator enabled it
      // again; a 410 to a message in flight when it was already disabled is not.
      ...(by === 'gone' ? { alert_level: eb.case().when('status', '=', 'active').then(0).else(eb.ref('alert_level')).end() } : {}),
    }))
    .where('uuid', '=', uuid)
    .execute();
  await db
    .updateTable('webhook_messages')
    .set({ status: 'held', next_attempt_at: null })
    .where('subscription_uuid', '=', uuid)
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
    .execute();
}

/**
 * Enabling again: held messages become pending, due at their creation time so they go out oldest
 * first, each with a fresh retry schedule (the receiver is back; its earlier failures don't count).
 * Its health starts afresh too, but `alert_level` stays: the health sweep sees a subscription that
 * announced trouble and is no longer failing, and says it recovered (src/webhooks/health.ts).
 */
export function releaseSubscription(db: Db, uuid: string, now: number): Promise<void> {
  return atomically(db, async (db) => {
    const { alert_level: _kept, ...fresh } = HEALTHY;
    await db.updateTable('webhook_subscriptions').set({ ...fresh, status: 'active', disabled_reason: null, updated_at: now }).where('uuid', '=', uuid).execute();
    await db
      .updateTable('webhook_messages')
      .set((eb) => ({ status: 'pending', next_attempt_at: eb.ref('created_at'), schedule_base: eb.ref('attempt_count') }))
      .where('subscription_uuid', '=', uuid)
      .where('status', '=', 'held')
      .execute();
    await lowerLanesFromQueue(db, [uuid]);
  });
}

/**
 * Held messages of a subscription that is active: an order change that read the subscription as
 * disabled committed just after it was enabled (PostgreSQL, READ COMMITTED). The dispatcher runs
 * this now and then, so such a message waits a minute at most, without a lock on every change.
 */
export function releaseStrandedHeld(db: Db): Promise<number> {
  return atomically(db, async (db) => {
    const result = await db
      .updateTable('webhook_messages')
      .set((eb) => ({ status: 'pending', next_attempt_at: eb.ref('created_at'), schedule_base: eb.ref('attempt_count') }))
      .where('status', '=', sql.lit('held'))
      .where('subscription_uuid', 'in', db.selectFrom('webhook_subscriptions').select('uuid').where('status', '=', 'active'))
      .returning('subscription_uuid')
      .execute();
    await lowerLanesFromQueue(db, result.map((r) => r.subscription_uuid));
    return result.length;
  });
}

/**
 * Deletes the held messages of one subscription created at or before `until` (the operator chose
 * not to send them); with `dryRun` it only counts them. Returns the count. While the subscription
 * is disabled, the messages blocked behind held ones (ordered delivery, ordering.ts) are part of
 * what waits for it and go too; a chain whose head went keeps its newer messages, and the oldest
 * of them becomes its head (held) at once.
 */
export async function discardHeld(db: Db, storeId: number, uuid: string, until: number, dryRun: boolean): Promise<number> {
  const disabled = db.selectFrom('webhook_subscriptions').select('uuid').where('uuid', '=', uuid).where('status', '=', 'disabled');
  const held = db
    .selectFrom('webhook_messages')
    .where('store_id', '=', storeId)
    .where('subscription_uuid', '=', uuid)
    .where((eb) => eb.or([eb('status', '=', sql.lit('held')), eb.and([eb('status', '=', sql.lit('blocked')), eb('subscription_uuid', 'in', disabled)])]))
    .where('created_at', '<=', until);
  if (dryRun) return Number((await held.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return atomically(db, async (db) => {
    await lockChainsOf(db, uuid);
    const result = await db.deleteFrom('webhook_messages').where('id', 'in', held.select('id')).executeTakeFirst();
    // A discarded head leaves the rest of its chain (maybe another subscription's) to go on.
    await lowerLanes(db, await repairChainsIn(db, Date.now()));
    return Number(result.numDeletedRows);
  });
}

/**
 * A subscription stops delivering in order (ordering 'per_order' → 'none'): its blocked messages
 * are released (pending, due at `now`; held while it is disabled) and its unfinished messages
 * leave their chains. Returns how many were released.
 */
export function releaseOrdering(db: Db, uuid: string, now: number): Promise<number> {
  return atomically(db, async (db) => {
    await lockChainsOf(db, uuid);
    const released = await db
      .updateTable('webhook_messages')
      .set({ status: REQUEUE_STATUS, next_attempt_at: requeueAt(now), ordering_key: null })
      .where('subscription_uuid', '=', uuid)
      .where('status', '=', sql.lit('blocked'))
      .executeTakeFirst();
    await db.updateTable('webhook_messages').set({ ordering_key: null }).where('subscription_uuid', '=', uuid).where('status', 'in', ['pending', 'held']).where('ordering_key', 'is not', null).execute();
    // Its heads left their chains: other subscriptions' messages queued behind them go on.
    const promoted = await repairChainsIn(db, now);
    await lowerLanesFromQueue(db, [uuid]);
    await lowerLanes(db, promoted);
    return Number(released.numUpdatedRows);
  });
}

/**
 * The dispatcher's safety net (dispatcher-timers.ts): chains with blocked messages and nothing
 * pending or held ahead of them get their oldest blocked message promoted. Returns how many.
 */
export function repairChains(db: Db, now: number): Promise<number> {
  return atomically(db, async (db) => {
    const marks = await repairChainsIn(db, now);
    await lowerLanes(db, marks);
    return marks.length;
  });
}

/**
 * Requeues the failed messages of one subscription created in [since, until], each with a fresh
 * retry schedule (held, if the subscription is disabled). With `dryRun` it only counts them.
 */
export async function recoverFailed(db: Db, storeId: number, uuid: string, since: number, until: number, now: number, dryRun: boolean): Promise<number> {
  // The dry run counts exactly the rows the real run requeues: one condition serves both.
  const failedInWindow = (eb: ExpressionBuilder<Schema, 'webhook_messages'>) =>
    eb.and([eb('store_id', '=', storeId), eb('subscription_uuid', '=', uuid), eb('status', '=', 'failed'), eb('created_at', '>=', since), eb('created_at', '<=', until)]);
  if (dryRun) {
    const row = await db
      .selectFrom('webhook_messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(failedInWindow)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
  return atomically(db, async (db) => {
    const result = await db
      .updateTable('webhook_messages')
      // Requeued to a disabled subscription: held until it is enabled, like its other messages.
      .set((eb) => ({ status: REQUEUE_STATUS, next_attempt_at: requeueAt(now), schedule_base: eb.ref('attempt_count') }))
      .where(failedInWindow)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) await lowerLanesFromQueue(db, [uuid]);
    return Number(result.numUpdatedRows);
  });
}

/** The earliest time a message becomes due, to sleep until then rather than poll blindly. */
export function nextDueAt(db: Db): Promise<number | null> {
  return earliestLaneTime(db);
}

/**
 * Deletes messages older than the retention, a small batch at a time: delivered ones by delivery
 * time, failed ones by their last attempt, held ones by creation time (a subscription disabled for
 * longer than the retention loses its oldest held messages; docs/webhooks.md).
 */
export async function pruneFinished(db: Db, cutoff: number, batch: number): Promise<number> {
  // One look-up each, on its partial index (literal statuses: SQLite matches a partial index only to literals).
  let deleted = 0;
  for (const [status, column] of [['delivered', 'delivered_at'], ['failed', 'last_attempt_at'], ['held', 'created_at']] as const) {
    const old = db.selectFrom('webhook_messages').select('id').where('status', '=', sql.lit(status)).where(column, '<', cutoff).limit(batch);
    const result = await db.deleteFrom('webhook_messages').where('id', 'in', old).executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  return deleted;
}
