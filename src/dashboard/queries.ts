/**
 * The dashboard's own queries: the attempts of messages, what an attempt's outcome means, and the
 * "needs attention" list. Messages themselves are read through the queue's views
 * (delivery/queue-views.ts), every one scoped by store.
 */
import { STATUS_CODES } from 'node:http';
import type { Kysely } from 'kysely';
import type { AttemptRow, Schema, SubscriptionRow } from '../db/schema.js';
import { heldCounts, latestProblem, problemCounts, type ListedMessage, type MessageFilter } from '../delivery/queue-views.js';

type Db = Kysely<Schema>;

/** The state filter of a message list, as the dashboard names each choice. */
export const MESSAGE_FILTER_LABELS: Record<MessageFilter, string> = {
  problems: 'Failed or retrying',
  failed: 'Failed (retries used up)',
  retrying: 'Retrying',
  pending: 'Not delivered yet',
  held: 'Held (subscription disabled)',
  blocked: 'Blocked (behind an earlier message of its order)',
  delivered: 'Delivered',
};

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
export async function troubledSubscriptions(db: Db, storeId: number): Promise<TroubledSubscription[]> {
  const bySub = await problemCounts(db, storeId);
  const subs = await db
    .selectFrom('webhook_subscriptions')
    .selectAll()
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb('status', '=', 'disabled'), ...(bySub.size ? [eb('uuid', 'in', [...bySub.keys()])] : [])]))
    .orderBy('created_at')
    .execute();
  const held = await heldCounts(db, storeId, subs.filter((s) => s.status === 'disabled').map((s) => s.uuid));
  const out: TroubledSubscription[] = [];
  for (const subscription of subs) {
    const c = bySub.get(subscription.uuid) ?? { failed: 0, retrying: 0 };
    const latest = c.failed + c.retrying > 0 ? ((await latestProblem(db, storeId, subscription.uuid)) ?? null) : null;
    const latestAttempt = latest ? ((await lastAttempts(db, storeId, [latest.id])).get(latest.id) ?? null) : null;
    out.push({ subscription, ...c, held: held.get(subscription.uuid) ?? 0, latest, latestAttempt });
  }
  return out.sort((a, b) => b.failed + b.retrying - (a.failed + a.retrying));
}
