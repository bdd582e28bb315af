/**
 * The read side of the queue: every query that reads `webhook_messages` for someone other than the
 * engine itself (the delivery log of the API, the dashboard's lists, counts, search and rates, the
 * metrics gauges). The write side, and the engine's own reads, are in queue.ts. Every query a store
 * sees is scoped by store; the gauges are for the operator, across stores.
 *
 * Statuses are named literally (sql.lit) where SQLite must see them to use a partial index.
 */
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Database } from '../db/connection.js';
import type { MessageRow, Schema } from '../db/schema.js';

type Db = Kysely<Schema>;

/** A message without its body: what lists need. */
export type ListedMessage = Omit<MessageRow, 'body'>;
export type ListedMessageWithUrl = ListedMessage & { url: string };

/** Every column but the body. */
export const LISTED_COLUMNS = ['id', 'message_id', 'store_id', 'subscription_uuid', 'topic', 'order_id', 'status', 'attempt_count', 'schedule_base', 'created_at', 'next_attempt_at', 'last_attempt_at', 'delivered_at', 'locked_by', 'locked_until', 'content_type', 'max_attempts', 'ordering_key', 'sequence'] as const;

/**
 * The state filters of a message list: the stored statuses, plus `retrying` (pending after a
 * failed attempt) and `problems` (failed or retrying).
 */
export const MESSAGE_FILTERS = ['problems', 'failed', 'retrying', 'pending', 'held', 'blocked', 'delivered'] as const;
export type MessageFilter = (typeof MESSAGE_FILTERS)[number];

/** The HTTP status of a message's last attempt: a range of codes, or `none` (no HTTP answer). */
export type HttpStatusFilter = { min: number; max: number } | 'none';

export interface MessageSearch {
  /** one subscription's messages; all of the store's when absent. */
  subscriptionUuid?: string | undefined;
  state?: MessageFilter | undefined;
  httpStatus?: HttpStatusFilter | undefined;
  /** the public id (`msg_…`), which receivers see as the `webhook-id` header. */
  messageId?: string | undefined;
  orderId?: number | undefined;
  /** created in [from, to]. */
  from?: number | undefined;
  to?: number | undefined;
}

type MessagesQuery = SelectQueryBuilder<Schema, 'webhook_messages', object>;

const ZERO = sql.lit(0);

/** Statuses as literals (never user text: `state` is one of MESSAGE_FILTERS), so SQLite sees the partial indexes apply. */
function stateFilter(q: MessagesQuery, state: MessageFilter): MessagesQuery {
  switch (state) {
    case 'problems':
      return q.where((eb) => eb.or([eb('status', '=', sql.lit('failed')), eb.and([eb('status', '=', sql.lit('pending')), eb('attempt_count', '>', ZERO)])]));
    case 'retrying':
      return q.where('status', '=', sql.lit('pending')).where('attempt_count', '>', ZERO);
    default:
      return q.where('status', '=', sql.lit(state));
  }
}

/** The filters that a smaller index than the store's serves: few rows fail, retry or are held. */
const RARE_STATES: readonly MessageFilter[] = ['problems', 'failed', 'retrying', 'held', 'blocked'];

/** The messages of a store matching a search: the start of every message list. */
function searchQuery(db: Db, storeId: number, s: MessageSearch): MessagesQuery {
  // With a narrower key (a subscription, a message or an order id, a rare state) its own index
  // serves, and the store is only checked: the unary + keeps SQLite's planner, which has no
  // statistics, from preferring the (store_id, created_at) index for its order. Without one,
  // that index serves.
  const narrower = s.subscriptionUuid !== undefined || s.messageId !== undefined || s.orderId !== undefined || (s.state !== undefined && RARE_STATES.includes(s.state));
  let q = db.selectFrom('webhook_messages').where(narrower ? sql<number>`+store_id` : sql.ref('store_id'), '=', storeId);
  if (s.subscriptionUuid !== undefined) q = q.where('subscription_uuid', '=', s.subscriptionUuid);
  if (s.messageId !== undefined) q = q.where('message_id', '=', s.messageId);
  if (s.orderId !== undefined) q = q.where('order_id', '=', s.orderId);
  if (s.state !== undefined) q = stateFilter(q, s.state);
  if (s.from !== undefined) q = q.where('created_at', '>=', s.from);
  if (s.to !== undefined) q = q.where('created_at', '<=', s.to);
  const http = s.httpStatus;
  if (http !== undefined) {
    // The last attempt's answer: attempt_count is the number of the latest attempt recorded.
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('webhook_attempts as a')
          .select('a.id')
          .whereRef('a.message_row_id', '=', 'webhook_messages.id')
          .whereRef('a.attempt_number', '=', 'webhook_messages.attempt_count')
          .where((eb) => (http === 'none' ? eb('a.status_code', 'is', null) : eb.and([eb('a.status_code', '>=', http.min), eb('a.status_code', '<=', http.max)]))),
      ),
    );
  }
  return q;
}

export interface MessagePage {
  rows: ListedMessage[];
  /** how many match; with `countUpTo`, at most that many. */
  total: number;
  /** more match than `countUpTo`: `total` is that bound, not the count. */
  moreThan: boolean;
}

/**
 * One page of matching messages, newest first, with the total it pages through. `countUpTo`
 * bounds the count: a broad filter (every delivered message of a busy store) then reads at most
 * that many index entries to count, not all of them.
 */
export async function listMessages(db: Db, storeId: number, search: MessageSearch, page: number, pageSize: number, countUpTo?: number): Promise<MessagePage> {
  const q = searchQuery(db, storeId, search);
  const counted =
    countUpTo === undefined
      ? q.select((eb) => eb.fn.countAll<number>().as('n'))
      : db.selectFrom(q.select('id').limit(countUpTo + 1).as('matching')).select((eb) => eb.fn.countAll<number>().as('n'));
  const n = Number((await counted.executeTakeFirstOrThrow()).n);
  const rows = await q
    .select([...LISTED_COLUMNS])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(pageSize)
    .offset((page - 1) * pageSize)
    .execute();
  const moreThan = countUpTo !== undefined && n > countUpTo;
  return { rows, total: moreThan ? countUpTo : n, moreThan };
}

/** One message of a subscription by its public id, body included. */
export async function findMessage(db: Db, storeId: number, uuid: string, messageId: string): Promise<MessageRow | undefined> {
  return db.selectFrom('webhook_messages').selectAll().where('store_id', '=', storeId).where('subscription_uuid', '=', uuid).where('message_id', '=', messageId).executeTakeFirst();
}

/** A store's messages (listed columns) with their subscription's URL. */
function messagesWithUrl(db: Db, storeId: number) {
  return db
    .selectFrom('webhook_messages as m')
    .innerJoin('webhook_subscriptions as s', 's.uuid', 'm.subscription_uuid')
    .select(LISTED_COLUMNS.map((c) => `m.${c}` as const))
    .select('s.url')
    .where('m.store_id', '=', storeId);
}

/** The most recent messages whose last attempt failed, across the store's subscriptions. */
export async function recentProblems(db: Db, storeId: number, limit: number): Promise<ListedMessageWithUrl[]> {
  return messagesWithUrl(db, storeId)
    .where((eb) => eb.or([eb('m.status', '=', 'failed'), eb.and([eb('m.status', '=', 'pending'), eb('m.attempt_count', '>', 0)])]))
    .orderBy('m.last_attempt_at', 'desc')
    .orderBy('m.id', 'desc')
    .limit(limit)
    .execute();
}

/** Messages an order caused, newest first (at most 500). */
export async function messagesOfOrder(db: Db, storeId: number, orderId: number): Promise<ListedMessageWithUrl[]> {
  return messagesWithUrl(db, storeId).where('m.order_id', '=', orderId).orderBy('m.created_at', 'desc').orderBy('m.id', 'desc').limit(500).execute();
}

/** How many messages each order caused, for a page of orders. */
export async function messageCountsByOrder(db: Db, storeId: number, orderIds: readonly number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (orderIds.length === 0) return out;
  const rows = await db
    .selectFrom('webhook_messages')
    .select(['order_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('store_id', '=', storeId)
    .where('order_id', 'in', [...orderIds])
    .groupBy('order_id')
    .execute();
  for (const r of rows) if (r.order_id !== null) out.set(Number(r.order_id), Number(r.n));
  return out;
}

export interface ProblemCounts {
  failed: number;
  retrying: number;
}

/** Failed and retrying messages per subscription (absent: none). */
export async function problemCounts(db: Db, storeId: number): Promise<Map<string, ProblemCounts>> {
  const rows = await db
    .selectFrom('webhook_messages')
    .select(['subscription_uuid', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('status', '=', 'failed'), eb.and([eb('status', '=', 'pending'), eb('attempt_count', '>', 0)])]))
    .groupBy(['subscription_uuid', 'status'])
    .execute();
  const out = new Map<string, ProblemCounts>();
  for (const r of rows) {
    const entry = out.get(r.subscription_uuid) ?? { failed: 0, retrying: 0 };
    if (r.status === 'failed') entry.failed += Number(r.n);
    else entry.retrying += Number(r.n);
    out.set(r.subscription_uuid, entry);
  }
  return out;
}

/** The subscription's most recent failed or retrying message. */
export async function latestProblem(db: Db, storeId: number, uuid: string): Promise<ListedMessage | undefined> {
  return stateFilter(db.selectFrom('webhook_messages').where('store_id', '=', storeId).where('subscription_uuid', '=', uuid), 'problems')
    .select([...LISTED_COLUMNS])
    .orderBy('last_attempt_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** How many held messages each of these subscriptions has (absent: none). */
export async function heldCounts(db: Db, storeId: number, uuids: readonly string[]): Promise<Map<string, number>> {
  if (uuids.length === 0) return new Map();
  const rows = await db
    .selectFrom('webhook_messages')
    .select(['subscription_uuid', (eb) => eb.fn.countAll<number>().as('n')])
    .where('store_id', '=', storeId)
    .where('status', '=', sql.lit('held'))
    .where('subscription_uuid', 'in', [...uuids])
    .groupBy('subscription_uuid')
    .execute();
  return new Map(rows.map((r) => [r.subscription_uuid, Number(r.n)]));
}

/**
 * Where a blocked message stands in its chain (ordered delivery): the chain's head, the message
 * being sent or waiting to be (null if none: the dispatcher's safety net promotes it within a
 * minute), and how many unfinished messages are ahead of it.
 */
export interface ChainPosition {
  /** its subscription too: a chain spans the subscriptions of one receiver. */
  head: { message_id: string; subscription_uuid: string; topic: string; status: MessageRow['status']; locked_until: number | null; attempt_count: number } | null;
  ahead: number;
}

export async function chainPosition(db: Db, m: Pick<MessageRow, 'id' | 'store_id' | 'subscription_uuid' | 'ordering_key'>): Promise<ChainPosition | null> {
  if (m.ordering_key === null) return null;
  const chain = db
    .selectFrom('webhook_messages')
    .where('store_id', '=', m.store_id)
    // A chain may span subscriptions (one receiver's subscriptions of different topics).
    .where('ordering_key', '=', m.ordering_key);
  const [head, ahead] = await Promise.all([
    chain.where('status', 'in', ['pending', 'held']).select(['message_id', 'subscription_uuid', 'topic', 'status', 'locked_until', 'attempt_count']).orderBy('id').limit(1).executeTakeFirst(),
    chain.where('status', 'in', ['pending', 'held', 'blocked']).where('id', '<', m.id).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { head: head ?? null, ahead: Number(ahead.n) };
}

/** Messages of a subscription not delivered yet (pending, held or blocked): what deleting it drops. */
export async function unsentCount(db: Db, storeId: number, uuid: string): Promise<number> {
  const row = await db
    .selectFrom('webhook_messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('store_id', '=', storeId)
    .where('subscription_uuid', '=', uuid)
    .where('status', 'in', ['pending', 'held', 'blocked'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface MessageWindow {
  delivered: number;
  failed: number;
  retrying: number;
  waiting: number;
  held: number;
  /** ordered delivery: queued behind an unfinished message of the same order. */
  blocked: number;
  total: number;
}

/** Messages created since `since`, by what became of them. */
export async function messageCounts(db: Db, storeId: number, since: number): Promise<MessageWindow> {
  const tried = sql<number>`case when attempt_count > 0 then 1 else 0 end`;
  const rows = await db
    .selectFrom('webhook_messages')
    .select(['status', tried.as('tried'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('store_id', '=', storeId)
    .where('created_at', '>=', since)
    .groupBy(['status', tried])
    .execute();
  const out: MessageWindow = { delivered: 0, failed: 0, retrying: 0, waiting: 0, held: 0, blocked: 0, total: 0 };
  for (const r of rows) {
    const n = Number(r.n);
    out.total += n;
    if (r.status === 'pending') {
      if (Number(r.tried) === 1) out.retrying += n;
      else out.waiting += n;
    } else out[r.status] += n;
  }
  return out;
}

export interface QueueState {
  pending: number;
  dueNow: number;
  held: number;
  blocked: number;
  oldestDue: { message_id: string; subscription_uuid: string; next_attempt_at: number; created_at: number } | null;
}

/** A store's queue: how deep, how much is due, and the oldest due message. */
export async function queueState(db: Db, storeId: number, now: number): Promise<QueueState> {
  const pendingQ = db.selectFrom('webhook_messages').where('store_id', '=', storeId).where('status', '=', 'pending');
  const [pending, due, held, blocked, oldest] = await Promise.all([
    // Not delivered yet: held and blocked messages count too (they are sent later).
    db.selectFrom('webhook_messages').where('store_id', '=', storeId).where('status', 'in', ['pending', 'held', 'blocked']).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    pendingQ.where('next_attempt_at', '<=', now).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    db.selectFrom('webhook_messages').where('store_id', '=', storeId).where('status', '=', sql.lit('held')).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    db.selectFrom('webhook_messages').where('store_id', '=', storeId).where('status', '=', sql.lit('blocked')).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    pendingQ.where('next_attempt_at', '<=', now).select(['message_id', 'subscription_uuid', 'next_attempt_at', 'created_at']).orderBy('next_attempt_at').limit(1).executeTakeFirst(),
  ]);
  return {
    pending: Number(pending.n),
    dueNow: Number(due.n),
    held: Number(held.n),
    blocked: Number(blocked.n),
    oldestDue: oldest && oldest.next_attempt_at !== null ? { ...oldest, next_attempt_at: oldest.next_attempt_at } : null,
  };
}

export interface SuccessRate {
  attempts: number;
  delivered: number;
}

/**
 * Attempts started since `since` per subscription, and how many of them delivered (absent: no
 * attempt). Read through the (store_id, started_at) index of webhook_attempts (migration 0009).
 */
export async function successRates(db: Db, storeId: number, since: number, uuids: readonly string[]): Promise<Map<string, SuccessRate>> {
  if (uuids.length === 0) return new Map();
  const rows = await db
    .selectFrom('webhook_attempts as a')
    .innerJoin('webhook_messages as m', 'm.id', 'a.message_row_id')
    .select(['m.subscription_uuid', (eb) => eb.fn.countAll<number>().as('n'), sql<number>`sum(case when a.error_class is null then 1 else 0 end)`.as('ok')])
    .where('a.store_id', '=', storeId)
    .where('a.started_at', '>=', since)
    .where('m.subscription_uuid', 'in', [...uuids])
    .groupBy('m.subscription_uuid')
    .execute();
  return new Map(rows.map((r) => [r.subscription_uuid, { attempts: Number(r.n), delivered: Number(r.ok) }]));
}

export type QueueGauges = Record<'due' | 'scheduled' | 'held' | 'blocked' | 'failed', number>;

/** The whole queue by state, across stores, for the metrics gauge. */
export async function queueGauges(database: Database, now: number): Promise<QueueGauges> {
  // Each sub-count names its statuses literally, so SQLite can use the partial indexes.
  const row = await sql<{ due: number; scheduled: number; held: number; blocked: number; failed: number }>`
    select
      (select count(*) from webhook_messages where status = 'pending' and attempt_count = 0 and next_attempt_at <= ${now})
        + (select count(*) from webhook_messages where status = 'pending' and attempt_count > 0 and next_attempt_at <= ${now}) as due,
      (select count(*) from webhook_messages where status = 'pending' and attempt_count = 0 and next_attempt_at > ${now})
        + (select count(*) from webhook_messages where status = 'pending' and attempt_count > 0 and next_attempt_at > ${now}) as scheduled,
      (select count(*) from webhook_messages where status = 'held') as held,
      (select count(*) from webhook_messages where status = 'blocked') as blocked,
      (select count(*) from webhook_messages where status = 'failed') as failed`.execute(database.kysely);
  const r = row.rows[0]!;
  return { due: Number(r.due), scheduled: Number(r.scheduled), held: Number(r.held), blocked: Number(r.blocked), failed: Number(r.failed) };
}

export interface FailingSubscription {
  storeId: number;
  subscriptionUuid: string;
  /** messages whose last attempt failed after the subscription's last delivery. */
  failingMessages: number;
}

export interface FailingSubscriptions {
  /** the `limit` subscriptions with the most failing messages, most first. */
  top: FailingSubscription[];
  /** how many subscriptions are failing in all (including those past `limit`). */
  total: number;
}

/**
 * Which subscriptions are failing now, across stores, read from the shared database so every
 * process reports the same answer however many workers deliver.
 *
 * A subscription is failing while it has messages whose last attempt failed (retries waiting, or
 * failed for good) after its last delivery; its value is how many such messages it has. One
 * success after the failures clears it. Disabled subscriptions hold their messages (`held`) and
 * are not counted here: the queue gauge shows those.
 */
export async function failingSubscriptions(database: Database, limit: number): Promise<FailingSubscriptions> {
  // The last delivery is looked up only for subscriptions that have failed messages, through the
  // (subscription_uuid, …) index; the failed statuses are named literally so the partial indexes apply.
  const result = await sql<{ store_id: number | string; subscription_uuid: string; failing: number | string }>`
    with failed as (
      select store_id, subscription_uuid, last_attempt_at from webhook_messages
      where status = 'pending' and attempt_count > 0
      union all
      select store_id, subscription_uuid, last_attempt_at from webhook_messages
      where status = 'failed'
    ),
    delivered as (
      select d.subscription_uuid, max(d.delivered_at) as at
      from webhook_messages d
      where d.status = 'delivered' and d.subscription_uuid in (select subscription_uuid from failed)
      group by d.subscription_uuid
    )
    select f.store_id, f.subscription_uuid, count(*) as failing
    from failed f left join delivered ok on ok.subscription_uuid = f.subscription_uuid
    where f.last_attempt_at > coalesce(ok.at, 0)
    group by f.store_id, f.subscription_uuid`.execute(database.kysely);
  const all = result.rows
    .map((r) => ({ storeId: Number(r.store_id), subscriptionUuid: r.subscription_uuid, failingMessages: Number(r.failing) }))
    .sort((a, b) => b.failingMessages - a.failingMessages || a.storeId - b.storeId || a.subscriptionUuid.localeCompare(b.subscriptionUuid));
  return { top: all.slice(0, limit), total: all.length };
}

export interface FailedAttemptSummary {
  statusCode: number | null;
  errorClass: string;
}

/**
 * The last failed attempt of one subscription started at or after `since` (its `last_failure_at`),
 * for the health announcements: read through the (store_id, started_at) index of webhook_attempts,
 * so only the store's attempts since then are looked at.
 */
export async function lastFailedAttempt(db: Db, storeId: number, uuid: string, since: number): Promise<FailedAttemptSummary | null> {
  const row = await db
    .selectFrom('webhook_attempts as a')
    .innerJoin('webhook_messages as m', 'm.id', 'a.message_row_id')
    .select(['a.status_code', 'a.error_class'])
    .where('a.store_id', '=', storeId)
    .where('a.started_at', '>=', since)
    .where('m.subscription_uuid', '=', uuid)
    .where('a.error_class', 'is not', null)
    .orderBy('a.started_at', 'desc')
    .orderBy('a.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && row.error_class !== null ? { statusCode: row.status_code, errorClass: row.error_class } : null;
}
