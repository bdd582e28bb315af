/** Webhooks API shapes (SPEC §3). */
import { Type, type Static, type TSchema } from 'typebox';
import { Product, StockItem } from '../catalogue/contract.js';
import { Customer } from '../customers/contract.js';
import { MESSAGE_STATUSES } from '../delivery/message-states.js';
import { Order } from '../orders/contract.js';
import { TEST_TOPIC } from './topics.js';

const Time = Type.String({ format: 'date-time' });
const NullableTime = Type.Union([Time, Type.Null()]);

export const HmacSigning = Type.Union([Type.Literal('uuid'), Type.Literal('secret'), Type.Literal('off')], {
  title: 'HmacSigning',
  description: 'what signs the `v1` (HMAC-SHA256) signature: uuid: the subscription uuid, as MyCashflow (the default); secret: its own whsec_ secret, rotatable; off: no v1 signature (ed25519 must be on)',
});

export const SigningChoice = Type.Object(
  {
    hmac: Type.Optional(HmacSigning),
    ed25519: Type.Optional(Type.Boolean({ description: 'also sign with ed25519 (`v1a`); the subscription shows the whpk_ public key to verify with' })),
  },
  { title: 'SigningChoice', additionalProperties: false, minProperties: 1, description: 'opt-in signing keys of its own; leave it out to sign with the uuid as MyCashflow does' },
);
export type SigningChoice = Static<typeof SigningChoice>;

export const SigningKey = Type.Object(
  {
    kind: Type.Union([Type.Literal('uuid'), Type.Literal('hmac'), Type.Literal('ed25519')], { description: 'uuid: the subscription uuid, still signing beside a new secret until it expires' }),
    created_at: Time,
    expires_at: Type.Union([Time, Type.Null()], { description: 'when it stops signing; null: when it is rotated' }),
    public_key: Type.Union([Type.String(), Type.Null()], { description: 'ed25519: whpk_ + base64 of the raw 32-byte public key; verify v1a signatures with it' }),
  },
  { title: 'SigningKey', description: 'a key that signs now; secrets are never shown here, only once in the answer that made them' },
);

export const Signing = Type.Object(
  {
    hmac: HmacSigning,
    ed25519: Type.Boolean({ description: 'messages carry a `v1a` (ed25519) signature' }),
    keys: Type.Array(SigningKey, { description: 'own keys that sign now, newest first; empty when the uuid alone signs' }),
  },
  { title: 'Signing' },
);
export type Signing = Static<typeof Signing>;

export const SubscriptionHealth = Type.Object(
  {
    reference: Type.String({ description: 'sub# + the first 10 hex of sha256(uuid): the non-secret handle the subscription.* health messages, the logs and the metrics name it by' }),
    state: Type.Union([Type.Literal('healthy'), Type.Literal('failing'), Type.Literal('disabled')], { description: 'failing: its last attempts failed and none succeeded since; disabled: see disabled_by' }),
    consecutive_failures: Type.Integer({ minimum: 0, description: 'failed attempts since the last success (the test message does not count)' }),
    failing_since: Type.Union([Time, Type.Null()], { description: 'start of the current run of failures; null when healthy' }),
    last_failure_at: NullableTime,
    last_success_at: Type.Union([Time, Type.Null()], { description: 'the success that last ended a run of failures (a healthy subscription\'s successes are not recorded here: see the success rates)' }),
    disables_at: Type.Union([Time, Type.Null()], { description: 'when it will be disabled automatically if it keeps failing (webhookDisableAfterMs after failing_since); null when not failing or not active' }),
    success_rate_1h: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'share of its attempts in the last hour that succeeded; null: no attempt' }),
    success_rate_24h: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'the same over the last 24 hours' }),
  },
  { title: 'SubscriptionHealth', description: 'how its deliveries go (docs/webhooks.md, "Endpoint health")' },
);
export type SubscriptionHealth = Static<typeof SubscriptionHealth>;

export const DisabledBy = Type.Union([Type.Literal('failing'), Type.Literal('gone'), Type.Literal('operator'), Type.Null()], {
  title: 'DisabledBy',
  description: 'what disabled it: failing (automatically, after failing for the disable time), gone (its receiver answered 410 Gone), operator (PATCH status, the dashboard or the legacy settings); null while active',
});

export const SubscriptionOrdering = Type.Union([Type.Literal('none'), Type.Literal('per_order')], {
  title: 'SubscriptionOrdering',
  description:
    "none (the default): messages go out as they become due, several of one order possibly at once. per_order: the messages about one order are delivered strictly in `sequence` order, the next waiting (status `blocked`) until the previous one is delivered or has failed for good; other orders still go in parallel. For product, stock item and customer topics it means per product, per stock item, per customer.",
});

export const Subscription = Type.Object(
  {
    uuid: Type.String({ format: 'uuid', description: 'the id, and the key that signs every message' }),
    user_id: Type.Integer({ description: 'the API user who created it' }),
    topic: Type.String(),
    expands: Type.Array(Type.String()),
    url: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')], { description: 'a disabled subscription keeps receiving messages, held (not sent) until it is active again' }),
    disabled_reason: Type.Union([Type.String(), Type.Null()]),
    disabled_at: Type.Union([Time, Type.Null()], { description: 'when it was disabled; null while active' }),
    disabled_by: DisabledBy,
    health: SubscriptionHealth,
    held_count: Type.Integer({ minimum: 0, description: 'messages held because the subscription is disabled; sent when it is enabled again, or discarded with POST /webhooks/{uuid}/held/discard' }),
    ordering: SubscriptionOrdering,
    signing: Signing,
    created_at: Time,
    updated_at: Time,
  },
  { title: 'Subscription' },
);
export type Subscription = Static<typeof Subscription>;

export const CreateSubscriptionBody = Type.Object(
  {
    topic: Type.String({ minLength: 1, maxLength: 100, description: 'see GET /webhooks/topics' }),
    expands: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20, description: "parts of the order to include; a subset of the topic's expands" })),
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'absolute http(s) URL that receives the messages' }),
    signing: Type.Optional(SigningChoice),
    ordering: Type.Optional(SubscriptionOrdering),
  },
  { additionalProperties: false, title: 'CreateSubscriptionBody' },
);
export type CreateSubscriptionBody = Static<typeof CreateSubscriptionBody>;

export const PatchSubscriptionBody = Type.Object(
  {
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    expands: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20 })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
    signing: Type.Optional(SigningChoice),
    // per_order → none sends the blocked messages at once; none → per_order orders the messages made from then on (docs/webhooks.md).
    ordering: Type.Optional(SubscriptionOrdering),
  },
  { additionalProperties: false, minProperties: 1, title: 'PatchSubscriptionBody' },
);
export type PatchSubscriptionBody = Static<typeof PatchSubscriptionBody>;

const MessageId = Type.String({ description: 'the message id, also sent as the webhook-id header' });
const Sequence = Type.Integer({
  minimum: 1,
  description: "per resource (this order, product, stock item or customer), monotonic: 1, 2, 3, … in commit order, one number per event, the same for every subscription. Keep the highest seen per resource and drop a message with a lower one: it is a stale update. Not gapless: a subscription sees only its topics' numbers.",
});

/** The body of every order topic's message (SPEC §4). */
export const OrderMessage = Type.Object(
  {
    id: MessageId,
    topic: Type.String({ description: 'e.g. order.created' }),
    created_at: Type.String({ format: 'date-time', description: 'when the event happened' }),
    sequence: Sequence,
    data: Order,
  },
  { title: 'OrderMessage' },
);

/** The body of the webhook.test message `POST /webhooks/{uuid}/test` sends. */
export const TestMessage = Type.Object(
  {
    id: MessageId,
    topic: Type.Literal(TEST_TOPIC),
    created_at: Type.String({ format: 'date-time' }),
    sequence: Type.Literal(0, { description: 'always 0: the test message is about no resource' }),
    data: Type.Object({
      message: Type.String(),
      subscription: Type.Object({ topic: Type.String(), url: Type.String(), expands: Type.Array(Type.String()) }),
    }),
  },
  { title: 'TestMessage' },
);

const ShownOnce = {
  secret: Type.Optional(Type.String({ description: 'the new whsec_ signing secret: shown in this answer only, store it now' })),
  public_key: Type.Optional(Type.String({ description: 'the new whpk_ ed25519 public key (also listed in signing.keys)' })),
};

export const SavedSubscription = Type.Object(
  { ...Subscription.properties, ...ShownOnce },
  { title: 'SavedSubscription', description: 'a subscription as created or changed; `secret` only when this request made one' },
);
export type SavedSubscription = Static<typeof SavedSubscription>;

export const RotateSecretBody = Type.Object(
  {
    kind: Type.Optional(Type.Union([Type.Literal('hmac'), Type.Literal('ed25519')], { description: 'which key to replace; default the HMAC secret (the ed25519 key when HMAC is off)' })),
    overlap_hours: Type.Optional(Type.Number({ minimum: 0, maximum: 720, description: 'how long the old key keeps signing beside the new one; default the server setting (24 h); 0 ends it at once, e.g. after a leak' })),
  },
  { title: 'RotateSecretBody', additionalProperties: false },
);
export type RotateSecretBody = Static<typeof RotateSecretBody>;

export const RotatedSecret = Type.Object(
  {
    kind: Type.Union([Type.Literal('hmac'), Type.Literal('ed25519')]),
    ...ShownOnce,
    old_keys_expire_at: Time,
    signing: Signing,
  },
  { title: 'RotatedSecret' },
);
export type RotatedSecret = Static<typeof RotatedSecret>;

/** The body of a product, stock item or customer topic's message: the resource as its GET shows it. */
const resourceMessage = <T extends TSchema>(title: string, data: T, example: string) =>
  Type.Object(
    {
      id: MessageId,
      topic: Type.String({ description: `e.g. ${example}` }),
      created_at: Type.String({ format: 'date-time', description: 'when the event happened' }),
      sequence: Sequence,
      data,
    },
    { title },
  );
/** What `data` of a subscription.failing, .disabled or .recovered message holds: never the uuid, which is its signing key. */
export const SubscriptionHealthData = Type.Object(
  {
    subscription: Type.Object(
      {
        reference: Type.String({ description: 'sub# + the first 10 hex of sha256(uuid): a stable, non-secret handle, also shown by the API (`health.reference`), the dashboard and the logs' }),
        topic: Type.String(),
        url: Type.String(),
        status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
      },
      { description: 'the subscription this is about' },
    ),
    failing_since: Type.Union([Time, Type.Null()], { description: 'start of the current run of failed attempts; null when it is not failing' }),
    consecutive_failures: Type.Integer({ minimum: 0 }),
    last_failure_at: NullableTime,
    last_error: Type.Union([Type.Object({ status_code: Type.Union([Type.Integer(), Type.Null()]), error_class: Type.String() }), Type.Null()], { description: 'the last failed attempt: its HTTP status (null: no answer) and error class' }),
    last_success_at: Type.Union([Time, Type.Null()], { description: 'recovered: the success that ended the failures; null when it was enabled again and has not delivered since' }),
    disables_at: Type.Union([Time, Type.Null()], { description: 'when it will be disabled if it keeps failing; null when not failing or already disabled' }),
    disabled_at: NullableTime,
    disabled_reason: Type.Union([Type.String(), Type.Null()]),
  },
  { title: 'SubscriptionHealthData' },
);
export type SubscriptionHealthData = Static<typeof SubscriptionHealthData>;

export const SubscriptionHealthMessage = Type.Object(
  {
    id: MessageId,
    topic: Type.Union([Type.Literal('subscription.failing'), Type.Literal('subscription.disabled'), Type.Literal('subscription.recovered')]),
    created_at: Type.String({ format: 'date-time', description: 'when the health sweep noticed' }),
    sequence: Type.Literal(0, { description: 'always 0: it is about a subscription, not a store resource; one subscription\'s health messages are made in the order failing → disabled → recovered (see created_at)' }),
    data: SubscriptionHealthData,
  },
  { title: 'SubscriptionHealthMessage' },
);

export const ProductMessage = resourceMessage('ProductMessage', Product, 'product.updated');
export const StockItemMessage = resourceMessage('StockItemMessage', StockItem, 'stock_item.updated');
export const CustomerMessage = resourceMessage('CustomerMessage', Customer, 'customer.created');

export const Topic = Type.Object(
  {
    name: Type.String(),
    description: Type.String(),
    expands: Type.Array(Type.String()),
    resource: Type.Union([Type.Literal('order'), Type.Literal('product'), Type.Literal('stock_item'), Type.Literal('customer'), Type.Literal('subscription_health')], { description: 'what `data` of its messages is; subscription_health: another subscription of the store (SubscriptionHealthMessage)' }),
    example: Type.Object(
      { id: MessageId, topic: Type.String(), created_at: Time, sequence: Sequence, data: Type.Union([Order, Product, StockItem, Customer, SubscriptionHealthData], { description: 'the resource, as GET /orders/{id}, /products/{id}, /stock-items/{id} or /customers/{id} shows it, or a subscription\'s health' }) },
      { title: 'TopicExample', description: 'a message of this topic, as OrderMessage, ProductMessage, StockItemMessage, CustomerMessage or SubscriptionHealthMessage describe it' },
    ),
  },
  { title: 'Topic' },
);

export const MessageStatus = Type.Enum(MESSAGE_STATUSES, {
  title: 'MessageStatus',
  description: 'pending: waiting for an attempt; held: its subscription is disabled, sent once it is enabled again; blocked: its subscription delivers per order and an earlier message of the same order is not finished yet; delivered; failed: no retries left',
});

export const Attempt = Type.Object({
  attempt: Type.Integer({ description: '1 for the first attempt, 2 for the first retry, …' }),
  started_at: Time,
  duration_ms: Type.Integer(),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  error_class: Type.Union([Type.String(), Type.Null()], { description: 'null on success; http_status, timeout, connection_refused, connection_reset, dns_error, tls_error, blocked_target, network_error' }),
  error_message: Type.Union([Type.String(), Type.Null()]),
  response_body: Type.Union([Type.String(), Type.Null()], { description: 'first 16 KiB of the answer' }),
}, { title: 'Attempt' });
export type Attempt = Static<typeof Attempt>;

export const Delivery = Type.Object(
  {
    id: Type.String({ description: 'the message id, sent as webhook-id' }),
    subscription_uuid: Type.String(),
    topic: Type.String(),
    order_id: Type.Union([Type.Integer(), Type.Null()]),
    sequence: Type.Union([Type.Integer(), Type.Null()], { description: "the `sequence` in the message's body; null for messages without one (the legacy XML POST, messages stored before the upgrade that added it); 0 for the test message and the `subscription.*` messages, which are about no store resource" }),
    status: MessageStatus,
    attempt_count: Type.Integer(),
    created_at: Time,
    next_attempt_at: Type.Union([Time, Type.Null()], { description: 'when the next attempt is due; null when finished or held' }),
    last_attempt_at: NullableTime,
    delivered_at: NullableTime,
  },
  { title: 'Delivery' },
);
export type Delivery = Static<typeof Delivery>;

export const DeliveryDetail = Type.Object(
  {
    ...Delivery.properties,
    body: Type.String({ description: 'the exact bytes sent, as a string' }),
    attempts: Type.Array(Attempt),
  },
  { title: 'DeliveryDetail' },
);
export type DeliveryDetail = Static<typeof DeliveryDetail>;

export const SendOutcome = Type.Object({ delivery: Delivery, attempt: Attempt }, { title: 'SendOutcome' });

export const RecoverBody = Type.Object(
  {
    since: Type.String({ description: "messages created at or after: a date-time with offset, one without (the store's time zone) or a date (its start)" }),
    until: Type.Optional(Type.String({ description: 'messages created at or before, in the same forms (a date means its end); default now' })),
    dry_run: Type.Optional(Type.Boolean({ description: 'only count' })),
  },
  { additionalProperties: false, title: 'RecoverBody' },
);
export type RecoverBody = Static<typeof RecoverBody>;

export const DiscardHeldBody = Type.Object(
  {
    until: Type.Optional(Type.String({ description: 'ISO-8601 date-time with offset: discard held messages created at or before this (default now)' })),
    dry_run: Type.Optional(Type.Boolean({ description: 'only count' })),
  },
  { additionalProperties: false, title: 'DiscardHeldBody' },
);
export type DiscardHeldBody = Static<typeof DiscardHeldBody>;

export const DiscardHeldResult = Type.Object({
  count: Type.Integer({ minimum: 0, description: 'held messages discarded (or, with dry_run, that would be)' }),
  dry_run: Type.Boolean(),
  until: Time,
}, { title: 'DiscardHeldResult' });
export type DiscardHeldResult = Static<typeof DiscardHeldResult>;
