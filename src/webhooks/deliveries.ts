/**
 * The delivery log of the API: messages of one subscription and their attempts, scoped by store,
 * read through the queue's views (delivery/queue-views.ts) and rendered to the API's contract.
 */
import type { Kysely } from 'kysely';
import type { Attempt, Delivery, DeliveryDetail } from './contract.js';
import type { AttemptRow, MessageRow, Schema } from '../db/schema.js';
import type { MessageStatus } from '../delivery/message-states.js';
import type { AttemptRecord } from '../delivery/queue.js';
import { findMessage as findQueued, listMessages, type ListedMessage } from '../delivery/queue-views.js';
import { notFound } from '../errors.js';
import { isoTime } from '../time.js';

type Db = Kysely<Schema>;

export function renderDelivery(m: ListedMessage): Delivery {
  return {
    id: m.message_id,
    subscription_uuid: m.subscription_uuid,
    topic: m.topic,
    order_id: m.order_id,
    sequence: m.sequence === null ? null : Number(m.sequence),
    status: m.status,
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
    orderingKey: null,
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
  return listMessages(db, storeId, { subscriptionUuid: uuid, state: filter.status, from: filter.from, to: filter.to }, page, pageSize);
}

export async function findMessage(db: Db, storeId: number, uuid: string, messageId: string): Promise<MessageRow> {
  const row = await findQueued(db, storeId, uuid, messageId);
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
