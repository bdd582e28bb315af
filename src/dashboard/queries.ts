/** Read-only queries behind the dashboard pages, every one scoped by store. */
import { STATUS_CODES } from 'node:http';
import { sql, type Kysely } from 'kysely';
import type { AttemptRow, Schema, SubscriptionRow } from '../db/schema.js';
import { LISTED_COLUMNS, messagesOf, newestFirstPage, type ListedMessage } from '../webhooks/deliveries.js';
import type { WebhookOperations } from '../webhooks/operations.js';

export type { ListedMessage };

type Db = Kysely<Schema>;


/**
 * What a message is doing, in the words the dashboard uses:
 * waiting (first attempt due), sending (a worker holds it), retrying (an attempt failed, another
 * is scheduled), held (its subscription is disabled), delivered, failed (no retries left).
 */
export type MessageState = 'waiting' | 'sending' | 'retrying' | 'held' | 'delivered' | 'failed' | 'cancelled';

export function messageState(m: ListedMessage, now: number): MessageState {
  if (m.status === 'delivered') return 'delivered';
  if (m.status === 'failed') return 'failed';
  if (m.status === 'cancelled') return 'cancelled';
  if (m.status === 'held') return 'held';
  if (m.locked_until !== null && m.locked_until > now) return 'sending';
  return m.attempt_count > 0 ? 'retrying' : 'waiting';
}

/** The status filter of a subscription's message list. */
export const MESSAGE_FILTERS = {
  problems: 'Failed or retrying',
  failed: 'Failed (retries used up)',
  retrying: 'Retrying',
  pending: 'Not delivered yet',
  held: 'Held (subscription disabled)',
  delivered: 'Delivered',
} as const;
export type MessageFilter = keyof typeof MESSAGE_FILTERS;

export interface MessageQuery {
  status?: MessageFilter | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

export async function listMessages(db: Db, storeId: number, uuid: string, q: MessageQuery, page: number, pageSize: number): Promise<{ rows: ListedMessage[]; total: number }> {
  let base = messagesOf(db, storeId, uuid);
  switch (q.status) {
    case 'problems':
      base = base.where((eb) => eb.or([eb('status', '=', 'failed'), eb.and([eb('status', '=', 'pending'), eb('attempt_count', '>', 0)])]));
      break;
    case 'retrying':
      base = base.where('status', '=', 'pending').where('attempt_count', '>', 0);
      break;
    case 'failed':
    case 'pending':
    case 'held':
    case 'delivered':
      base = base.where('status', '=', q.status);
      break;
  }
  if (q.from !== undefined) base = base.where('created_at', '>=', q.from);
  if (q.to !== undefined) base = base.where('created_at', '<=', q.to);
  return newestFirstPage(base, page, pageSize);
}

export async function attemptsOf(db: Db, storeId: number, messageRowId: number): Promise<AttemptRow[]> {
  return db.selectFrom('webhook_attempts').selectAll().where('store_id', '=', storeId).where('message_row_id', '=', messageRowId).orderBy('attempt_number').orderBy('id').execute();
}

/** The latest attempt of each listed message (one query). */
export async function lastAttempts(db: Db, storeId: number, messageRowIds: number[]): Promise<Map<number, AttemptRow>> {
  const out = new Map<number, AttemptRow>();
  if (messageRowIds.length === 0) return out;
  const rows = await db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('message_row_id', 'in', messageRowIds)
    .orderBy('attempt_number')
    .orderBy('id')
    .execute();
  for (const row of rows) out.set(row.message_row_id, row);
  return out;
}

const ERROR_CLASS_HELP: Record<string, string> = {
  http_status: 'The receiver answered, but not with a 2xx status.',
  timeout: 'The receiver did not answer in time (the whole attempt is limited, 15 s by default).',
  connection_refused: 'Nothing accepted the connection at that address and port: is the receiver running?',
  connection_reset: 'The connection was dropped before an answer arrived.',
  dns_error: 'The host name did not resolve.',
  tls_error: 'The HTTPS handshake failed: check the certificate and TLS settings of the receiver.',
  blocked_target: 'The URL leads to an internal address (loopback, private, link-local …), which the network guard refuses. An operator can allow it with STOREHOOK_ALLOW_TARGETS.',
  network_error: 'Another network error.',
};

/** One line: `HTTP 500 Internal Server Error`, `timeout: …`. */
export function attemptSummary(a: AttemptRow): string {
  if (a.error_class === null && a.status_code !== null) return `HTTP ${a.status_code} ${STATUS_CODES[a.status_code] ?? ''}`.trim();
  const parts: string[] = [];
  if (a.status_code !== null) parts.push(`HTTP ${a.status_code} ${STATUS_CODES[a.status_code] ?? ''}`.trim());
  else if (a.error_class) parts.push(a.error_class.replace(/_/g, ' '));
  if (a.error_message && (a.status_code === null || !a.error_message.startsWith(`HTTP ${a.status_code}`))) parts.push(a.error_message);
  return parts.join(': ');
}

/** What an operator should know about a failed attempt, in a sentence or two. */
export function attemptExplanation(a: AttemptRow): string {
  if (a.error_class === null) return 'Delivered: the receiver answered with a 2xx status.';
  const code = a.status_code;
  if (code !== null) {
    if (code >= 300 && code < 400) return 'The receiver answered with a redirect. Redirects are never followed: change the subscription URL to the final address.';
    if (code === 410) return 'The receiver answered 410 Gone, which disables the subscription. Enable it again to resume.';
    if (code === 429 || code === 503) return `The receiver is overloaded or unavailable (HTTP ${code}); its Retry-After is honoured within the retry schedule.`;
    if (code >= 500) return `The receiver failed while handling the message (HTTP ${code}). Its response below usually says why; fix the receiver, then resend.`;
    if (code >= 400) return `The receiver refused the message (HTTP ${code}). Check its authentication and signature verification, and the response below.`;
  }
  return ERROR_CLASS_HELP[a.error_class] ?? 'The attempt failed.';
}

export interface Window {
  delivered: number;
  failed: number;
  retrying: number;
  waiting: number;
  held: number;
  total: number;
}

/** Messages created since `since`, by what became of them. */
export async function messageCounts(db: Db, storeId: number, since: number): Promise<Window> {
  const tried = sql<number>`case when attempt_count > 0 then 1 else 0 end`;
  const rows = await db
    .selectFrom('webhook_messages')
    .select(['status', tried.as('tried'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('store_id', '=', storeId)
    .where('created_at', '>=', since)
    .groupBy(['status', tried])
    .execute();
  const out: Window = { delivered: 0, failed: 0, retrying: 0, waiting: 0, held: 0, total: 0 };
  for (const r of rows) {
    const n = Number(r.n);
    out.total += n;
    if (r.status === 'delivered') out.delivered += n;
    else if (r.status === 'failed' || r.status === 'cancelled') out.failed += n;
    else if (r.status === 'held') out.held += n;
    else if (Number(r.tried) === 1) out.retrying += n;
    else out.waiting += n;
  }
  return out;
}

export interface QueueState {
  pending: number;
  dueNow: number;
  held: number;
  oldestDue: { message_id: string; subscription_uuid: string; next_attempt_at: number; created_at: number } | null;
}

export async function queueState(db: Db, storeId: number, now: number): Promise<QueueState> {
  const pendingQ = db.selectFrom('webhook_messages').where('store_id', '=', storeId).where('status', '=', 'pending');
  const [pending, due, held, oldest] = await Promise.all([
    // Not delivered yet: held messages count too (they are sent once their subscription is enabled).
    db.selectFrom('webhook_messages').where('store_id', '=', storeId).where('status', 'in', ['pending', 'held']).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    pendingQ.where('next_attempt_at', '<=', now).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    db.selectFrom('webhook_messages').where('store_id', '=', storeId).where('status', '=', sql.lit('held')).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    pendingQ
      .where('next_attempt_at', '<=', now)
      .select(['message_id', 'subscription_uuid', 'next_attempt_at', 'created_at'])
      .orderBy('next_attempt_at')
      .limit(1)
      .executeTakeFirst(),
  ]);
  return {
    pending: Number(pending.n),
    dueNow: Number(due.n),
    held: Number(held.n),
    oldestDue: oldest && oldest.next_attempt_at !== null ? { ...oldest, next_attempt_at: oldest.next_attempt_at } : null,
  };
}

export interface TroubledSubscription {
  subscription: SubscriptionRow;
  failed: number;
  retrying: number;
  /** messages held for it (it is disabled), waiting to be sent or discarded. */
  held: number;
  /** the most recent failed or retrying message and its last attempt. */
  latest: ListedMessage | null;
  latestAttempt: AttemptRow | null;
}

/** Subscriptions with failed or retrying messages, and disabled ones; worst first. */
export async function troubledSubscriptions(db: Db, storeId: number, webhooks: Pick<WebhookOperations, 'heldCounts'>): Promise<TroubledSubscription[]> {
  const counts = await db
    .selectFrom('webhook_messages')
    .select(['subscription_uuid', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('status', '=', 'failed'), eb.and([eb('status', '=', 'pending'), eb('attempt_count', '>', 0)])]))
    .groupBy(['subscription_uuid', 'status'])
    .execute();
  const bySub = new Map<string, { failed: number; retrying: number }>();
  for (const c of counts) {
    const entry = bySub.get(c.subscription_uuid) ?? { failed: 0, retrying: 0 };
    if (c.status === 'failed') entry.failed += Number(c.n);
    else entry.retrying += Number(c.n);
    bySub.set(c.subscription_uuid, entry);
  }
  const subs = await db
    .selectFrom('webhook_subscriptions')
    .selectAll()
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('status', '=', 'disabled'), ...(bySub.size ? [eb('uuid', 'in', [...bySub.keys()])] : [])]))
    .orderBy('created_at')
    .execute();
  const held = await webhooks.heldCounts(db, storeId, subs.filter((s) => s.status === 'disabled').map((s) => s.uuid));
  const out: TroubledSubscription[] = [];
  for (const subscription of subs) {
    const c = bySub.get(subscription.uuid) ?? { failed: 0, retrying: 0 };
    let latest: ListedMessage | null = null;
    let latestAttempt: AttemptRow | null = null;
    if (c.failed + c.retrying > 0) {
      latest =
        (await db
          .selectFrom('webhook_messages')
          .select([...LISTED_COLUMNS])
          .where('store_id', '=', storeId)
          .where('subscription_uuid', '=', subscription.uuid)
          .where((eb) => eb.or([eb('status', '=', 'failed'), eb.and([eb('status', '=', 'pending'), eb('attempt_count', '>', 0)])]))
          .orderBy('last_attempt_at', 'desc')
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst()) ?? null;
      if (latest) latestAttempt = (await lastAttempts(db, storeId, [latest.id])).get(latest.id) ?? null;
    }
    out.push({ subscription, ...c, held: held.get(subscription.uuid) ?? 0, latest, latestAttempt });
  }
  return out.sort((a, b) => b.failed + b.retrying - (a.failed + a.retrying));
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
export async function recentProblems(db: Db, storeId: number, limit: number): Promise<(ListedMessage & { url: string })[]> {
  return messagesWithUrl(db, storeId)
    .where((eb) => eb.or([eb('m.status', '=', 'failed'), eb.and([eb('m.status', '=', 'pending'), eb('m.attempt_count', '>', 0)])]))
    .orderBy('m.last_attempt_at', 'desc')
    .orderBy('m.id', 'desc')
    .limit(limit)
    .execute();
}

/** Messages an order caused (webhook_messages.order_id), newest first. */
export async function messagesOfOrder(db: Db, storeId: number, orderId: number): Promise<(ListedMessage & { url: string })[]> {
  return messagesWithUrl(db, storeId)
    .where('m.order_id', '=', orderId)
    .orderBy('m.created_at', 'desc')
    .orderBy('m.id', 'desc')
    .limit(500)
    .execute();
}

/** How many messages each order caused, for a page of orders. */
export async function messageCountsByOrder(db: Db, storeId: number, orderIds: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (orderIds.length === 0) return out;
  const rows = await db
    .selectFrom('webhook_messages')
    .select(['order_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('store_id', '=', storeId)
    .where('order_id', 'in', orderIds)
    .groupBy('order_id')
    .execute();
  for (const r of rows) if (r.order_id !== null) out.set(Number(r.order_id), Number(r.n));
  return out;
}

/** Problem counts per subscription, for the subscriptions list. */
export async function problemCounts(db: Db, storeId: number): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('webhook_messages')
    .select(['subscription_uuid', (eb) => eb.fn.countAll<number>().as('n')])
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('status', '=', 'failed'), eb.and([eb('status', '=', 'pending'), eb('attempt_count', '>', 0)])]))
    .groupBy('subscription_uuid')
    .execute();
  return new Map(rows.map((r) => [r.subscription_uuid, Number(r.n)]));
}
