/** Webhooks API shapes (SPEC §3). */
import { Type, type Static } from 'typebox';
import { MESSAGE_STATUSES } from '../delivery/message-states.js';
import { Order } from '../orders/contract.js';

const Time = Type.String({ format: 'date-time' });
const NullableTime = Type.Union([Time, Type.Null()]);

export const Subscription = Type.Object(
  {
    uuid: Type.String({ format: 'uuid', description: 'the id, and the key that signs every message' }),
    user_id: Type.Integer({ description: 'the API user who created it' }),
    topic: Type.String(),
    expands: Type.Array(Type.String()),
    url: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')], { description: 'a disabled subscription keeps receiving messages, held (not sent) until it is active again' }),
    disabled_reason: Type.Union([Type.String(), Type.Null()]),
    held_count: Type.Integer({ minimum: 0, description: 'messages held because the subscription is disabled; sent when it is enabled again, or discarded with POST /webhooks/{uuid}/held/discard' }),
    created_at: Time,
    updated_at: Time,
  },
  { $id: 'Subscription' },
);
export type Subscription = Static<typeof Subscription>;

export const CreateSubscriptionBody = Type.Object(
  {
    topic: Type.String({ minLength: 1, maxLength: 100, description: 'see GET /webhooks/topics' }),
    expands: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20, description: "parts of the order to include; a subset of the topic's expands" })),
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'absolute http(s) URL that receives the messages' }),
  },
  { additionalProperties: false },
);
export type CreateSubscriptionBody = Static<typeof CreateSubscriptionBody>;

export const PatchSubscriptionBody = Type.Object(
  {
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    expands: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20 })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchSubscriptionBody = Static<typeof PatchSubscriptionBody>;

export const Topic = Type.Object({
  name: Type.String(),
  description: Type.String(),
  expands: Type.Array(Type.String()),
  example: Type.Object({ id: Type.String(), topic: Type.String(), created_at: Time, data: Order }),
});

export const MessageStatus = Type.Enum(MESSAGE_STATUSES, {
  description: 'pending: waiting for an attempt; held: its subscription is disabled, sent once it is enabled again; delivered; failed: no retries left',
});

export const Attempt = Type.Object({
  attempt: Type.Integer({ description: '1 for the first attempt, 2 for the first retry, …' }),
  started_at: Time,
  duration_ms: Type.Integer(),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  error_class: Type.Union([Type.String(), Type.Null()], { description: 'null on success; http_status, timeout, connection_refused, connection_reset, dns_error, tls_error, blocked_target, network_error' }),
  error_message: Type.Union([Type.String(), Type.Null()]),
  response_body: Type.Union([Type.String(), Type.Null()], { description: 'first 16 KiB of the answer' }),
});
export type Attempt = Static<typeof Attempt>;

export const Delivery = Type.Object(
  {
    id: Type.String({ description: 'the message id, sent as webhook-id' }),
    subscription_uuid: Type.String(),
    topic: Type.String(),
    order_id: Type.Union([Type.Integer(), Type.Null()]),
    status: MessageStatus,
    attempt_count: Type.Integer(),
    created_at: Time,
    next_attempt_at: Type.Union([Time, Type.Null()], { description: 'when the next attempt is due; null when finished or held' }),
    last_attempt_at: NullableTime,
    delivered_at: NullableTime,
  },
  { $id: 'Delivery' },
);
export type Delivery = Static<typeof Delivery>;

export const DeliveryDetail = Type.Object({
  ...Delivery.properties,
  body: Type.String({ description: 'the exact bytes sent, as a string' }),
  attempts: Type.Array(Attempt),
});
export type DeliveryDetail = Static<typeof DeliveryDetail>;

export const SendOutcome = Type.Object({
  delivery: Delivery,
  attempt: Attempt,
});

export const RecoverBody = Type.Object(
  {
    since: Type.String({ description: "messages created at or after: a date-time with offset, one without (the store's time zone) or a date (its start)" }),
    until: Type.Optional(Type.String({ description: 'messages created at or before, in the same forms (a date means its end); default now' })),
    dry_run: Type.Optional(Type.Boolean({ description: 'only count' })),
  },
  { additionalProperties: false },
);
export type RecoverBody = Static<typeof RecoverBody>;

export const DiscardHeldBody = Type.Object(
  {
    until: Type.Optional(Type.String({ description: 'ISO-8601 date-time with offset: discard held messages created at or before this (default now)' })),
    dry_run: Type.Optional(Type.Boolean({ description: 'only count' })),
  },
  { additionalProperties: false },
);
export type DiscardHeldBody = Static<typeof DiscardHeldBody>;

export const DiscardHeldResult = Type.Object({
  count: Type.Integer({ minimum: 0, description: 'held messages discarded (or, with dry_run, that would be)' }),
  dry_run: Type.Boolean(),
  until: Time,
});
export type DiscardHeldResult = Static<typeof DiscardHeldResult>;
