/** The delivery log: messages of one subscription and their attempts, scoped by store. */
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Attempt, Delivery, DeliveryDetail } from './contract.js';
import type { AttemptRow, MessageRow, MessageStatus, Schema } from '../db/schema.js';
import type { AttemptRecord } from '../delivery/queue.js';
import { notFound } from '../errors.js';
import { isoTime } from '../time.js';

type Db = Kysely<Schema>;
export type ListedMessage = Omit<MessageRow, 'body'>;
type MessagesQuery = SelectQueryBuilder<Schema, 'webhook_messages', object>;

/** Every column but the body: what lists need. */
export const LISTED_COLUMNS = ['id', 'message_id', 'store_id', 'subscription_uuid', 'topic', 'order_id', 'status', 'attempt_count', 'schedule_base', 'created_at', 'next_attempt_at', 'last_attempt_at', 'delivered_at', 'locked_by', 'locked_until'] as const;

export function renderDelivery(m: ListedMessage): Delivery {
  return {
    id: m.message_id,
    subscription_uuid: m.subscription_uuid,
    topic: m.topic,
    order_id: m.order_id,
    // 'cancelled' is never stored for a listed message; the schema's four states cover the rest.
    status: m.status === 'cancelled' ? 'failed' : m.status,
    attempt_count: m.attempt_count,
    created_at: isoTime(m.created_at),
    next_attempt_at: m.status === 'pending' ? isoTime(m.next_attempt_at) : null,
    last_attempt_at: isoTime(m.last_attempt_at),
    delivered_at: isoTime(m.delivered_at),
  };
}

/** An attempt as the API shows it, from its stored row or from the record just written. */
export function renderAttemptRecord(a: AttemptRecord): Attempt {
  return {
    attempt: a.attemptNumber,
    started_at: isoTime(a.startedAt),
    duration_ms: a.durationMs,
    status_code: a.statusCode,
    error_class: a.errorClass,
    error_message: a.errorMessage,
    response_body: a.responseBody,
  };
}

export function renderAttempt(a: AttemptRow): Attempt {
  return renderAttemptRecord({
    rowId: a.message_row_id,
    storeId: a.store_id,
    subscriptionUuid: '',
    attemptNumber: a.attempt_number,
    startedAt: a.started_at,
    durationMs: a.duration_ms,
    statusCode: a.status_code,
    errorClass: a.error_class,
    errorMessage: a.error_message,
    responseBody: a.response_body,
  });
}

export interface DeliveryFilter {
  status?: MessageStatus | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

export async function listDeliveries(db: Db, storeId: number, uuid: string, filter: DeliveryFilter, page: number, pageSize: number): Promise<{ rows: ListedMessage[]; total: number }> {
  let q = messagesOf(db, storeId, uuid);
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.from !== undefined) q = q.where('created_at', '>=', filter.from);
  if (filter.to !== undefined) q = q.where('created_at', '<=', filter.to);
  return newestFirstPage(q, page, pageSize);
}

/** The messages of one subscription in one store: the start of every log query. */
export function messagesOf(db: Db, storeId: number, uuid: string): MessagesQuery {
  return db.selectFrom('webhook_messages').where('store_id', '=', storeId).where('subscription_uuid', '=', uuid);
}

/** One page of a filtered message query, newest first, with the total it pages through. */
export async function newestFirstPage(q: MessagesQuery, page: number, pageSize: number): Promise<{ rows: ListedMessage[]; total: number }> {
  const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await q
    .select([...LISTED_COLUMNS])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(pageSize)
    .offset((page - 1) * pageSize)
    .execute();
  return { rows, total: Number(total.n) };
}

export async function findMessage(db: Db, storeId: number, uuid: string, messageId: string): Promise<MessageRow> {
  const row = await db
    .selectFrom('webhook_messages')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('subscription_uuid', '=', uuid)
    .where('message_id', '=', messageId)
    .executeTakeFirst();
  if (!row) throw notFound('Delivery', messageId);
  return row;
}

export async function deliveryDetail(db: Db, message: MessageRow): Promise<DeliveryDetail> {
  const attempts = await db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('store_id', '=', message.store_id)
    .where('message_row_id', '=', message.id)
    .orderBy('attempt_number')
    .orderBy('id')
    .execute();
  return { ...renderDelivery(message), body: message.body, attempts: attempts.map(renderAttempt) };
}
