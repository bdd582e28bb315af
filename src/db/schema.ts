/**
 * The typed shape of every table. One schema serves SQLite and PostgreSQL, so it only uses
 * types both store the same way:
 * - timestamps are integer milliseconds since the epoch (`bigint`; pg's int8 parser returns numbers),
 * - money is integer cents, booleans are 0/1 integers, JSON documents are text.
 */
import type { Generated, Selectable } from 'kysely';

export type Plan = 'free' | 'basic' | 'advanced' | 'pro' | 'enterprise';
export type OrderStatus = 'OPEN' | 'COMPLETED' | 'CANCELLED';
export type ShipmentStatus = 'OPEN' | 'COMPLETED';
export type PaymentStatus = 'OPEN' | 'PENDING_ACTIVATION' | 'PAID' | 'REFUNDED' | 'CANCELLED';
export type CommentVisibility = 'PUBLIC' | 'PRIVATE';
export type SubscriptionStatus = 'active' | 'disabled';
/** `held`: its subscription is disabled; it waits, unsent, until enabled again (or discarded). */
export type MessageStatus = 'pending' | 'held' | 'delivered' | 'failed' | 'cancelled';

/** An auto-generated integer id: optional on insert, a number when read. */
type Id = Generated<number>;

export interface StoresTable {
  id: Id;
  name: string;
  plan: Plan;
  timezone: string;
  created_at: number;
}

export interface ApiUsersTable {
  id: Id;
  store_id: number;
  email: string;
  /** sha256 of the API key; keys carry ≥ 160 random bits, so a fast hash is enough. */
  key_hash: string;
  /** first characters of the key, shown in listings so an operator can tell keys apart. */
  key_prefix: string;
  created_at: number;
  key_rotated_at: number | null;
}

export interface OrdersTable {
  id: Id;
  store_id: number;
  created_at: number;
  updated_at: number;
  archived_at: number | null;
  shipments_completed_at: number | null;
  external_id: string | null;
  version_id: number;
  language: string;
  customer_id: number | null;
  customer_external_id: string | null;
  customer_information: string;
  shipping_address: string;
  different_shipping_address: number;
  currency: string;
  subtotal_cents: number;
  shipping_costs_cents: number;
  payment_costs_cents: number;
  discount_cents: number;
  total_cents: number;
  status: OrderStatus;
  details: string | null;
  custom_data: string | null;
  shipping_method_id: number | null;
  payment_method_id: number | null;
  source: string;
}

export interface OrderProductsTable {
  id: Id;
  store_id: number;
  order_id: number;
  created_at: number;
  product_code: string;
  product_name: string;
  quantity: number;
  unit_price_cents: number;
  /** VAT percent × 100 (25.5 % → 2550), so rates stay exact. */
  vat_rate_bp: number;
  shipment_id: number | null;
  /** null only on rows from before migration 0006 that had no value to copy. */
  updated_at: number | null;
  /** when the row's shipment was completed. */
  delivered_at: number | null;
  product_id: number | null;
  variation_id: number | null;
  bundle_id: number | null;
  campaign_id: number | null;
  model_name: string | null;
  purchase_price_cents: number | null;
  warranty: string | null;
  /** free text, as MyCashflow types a row's custom_data (a string). */
  custom_data: string | null;
  customizations: string | null;
}

export interface ShipmentsTable {
  id: Id;
  store_id: number;
  order_id: number;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  status: ShipmentStatus;
  tracking_code: string | null;
  shipping_method_id: number | null;
  parcel_count: number;
  /** grams */
  weight_g: number;
  type: string | null;
  external_id: string | null;
  external_pickup_point_id: string | null;
}

export interface PaymentsTable {
  id: Id;
  store_id: number;
  order_id: number;
  created_at: number;
  updated_at: number;
  payment_method_id: number | null;
  amount_cents: number;
  currency: string;
  status: PaymentStatus;
  reference: string;
  external_id: string | null;
  exchange_rate: number | null;
}

/** A store's shipping method (MyCashflow's fields); ids are numbered per store. */
export interface ShippingMethodsTable {
  store_id: number;
  id: number;
  created_at: number;
  updated_at: number;
  name: string;
  type: string | null;
  service_provider: string | null;
  service_code: string | null;
  product_code: string | null;
  description: string;
  tracking_info: string | null;
  free_shipping_threshold_cents: number | null;
  sort: number;
}

/** A store's payment method (MyCashflow's fields); ids are numbered per store. */
export interface PaymentMethodsTable {
  store_id: number;
  id: number;
  created_at: number;
  updated_at: number;
  name: string;
  description: string;
  username: string | null;
  product_code: string | null;
  sort: number;
  provider: string | null;
}

export interface CommentsTable {
  id: Id;
  store_id: number;
  order_id: number;
  created_at: number;
  user_id: number | null;
  visibility: CommentVisibility;
  text: string;
}

export interface OrderEventsTable {
  id: Id;
  store_id: number;
  order_id: number;
  created_at: number;
  code: string;
  message: string;
  data: string | null;
}

export interface WebhookSubscriptionsTable {
  uuid: string;
  store_id: number;
  user_id: number;
  topic: string;
  /** JSON array of expansion names. */
  expands: string;
  url: string;
  status: SubscriptionStatus;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookMessagesTable {
  id: Id;
  /** public id (`msg_…`), sent as `webhook-id`; stable across retries. */
  message_id: string;
  store_id: number;
  subscription_uuid: string;
  topic: string;
  order_id: number | null;
  /** rendered once at event time; every attempt sends these exact bytes. */
  body: string;
  status: MessageStatus;
  attempt_count: number;
  /** attempt_count at the last resend/recover: the retry schedule counts from there. */
  schedule_base: Generated<number>;
  created_at: number;
  /** when the next attempt is due; null once the message is finished or while it is held. */
  next_attempt_at: number | null;
  last_attempt_at: number | null;
  delivered_at: number | null;
  /** the worker holding the lease, and until when. */
  locked_by: string | null;
  locked_until: number | null;
}

/**
 * One delivery lane per subscription with queued work: the earliest time a first attempt and a
 * retry of its may be due. Never later than the truth (a claim that finds nothing due corrects it).
 */
export interface DeliveryLanesTable {
  subscription_uuid: string;
  next_first_at: number | null;
  next_retry_at: number | null;
}

export interface WebhookAttemptsTable {
  id: Id;
  message_row_id: number;
  store_id: number;
  attempt_number: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  error_class: string | null;
  error_message: string | null;
  response_body: string | null;
  worker_id: string;
}

/** A signed-in dashboard browser (src/dashboard/sessions.ts); the cookie's id is stored hashed. */
export interface DashboardSessionsTable {
  id_hash: string;
  user_id: number;
  store_id: number;
  csrf_token: string;
  /** a one-shot message for the next page (JSON `{kind, text}`), or null. */
  flash: string | null;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** One topic an order change emitted, for the live stream (`storehook listen`); kept 7 days. */
export interface StoreEventsTable {
  /** increasing; the stream's resume cursor (SSE `id:`). */
  id: Id;
  store_id: number;
  topic: string;
  order_id: number;
  created_at: number;
}

/** The old XML Webhooks extension of one store (src/legacy); a row once it was ever enabled. */
export interface LegacySettingsTable {
  store_id: number;
  /** 0/1: the `/webhooks/*` actions answer only while this is 1. */
  enabled: number;
  /** sha256 of the store's legacy key (the `key` parameter); null until one is issued. */
  key_hash: string | null;
  key_prefix: string | null;
  key_created_at: number | null;
  /** 0/1: also send the automatic POST for orders created through the API (MCF skipped them). */
  include_api_orders: number;
  /** the internal `legacy.order_xml` subscription that carries the automatic POST; null when no URL is set. */
  subscription_uuid: string | null;
  created_at: number;
  updated_at: number;
}

/**
 * When each order was created and last changed, on the legacy bridge's change clock: stamped at
 * the end of the change's own transaction, under a lock the `changes` reader waits on, so paging
 * by whole seconds never skips a slow transaction (src/legacy/change-log.ts).
 */
export interface LegacyOrderChangesTable {
  order_id: number;
  store_id: number;
  created_at: number;
  changed_at: number;
}

/** One failed login from a client address (src/api/login-failures.ts); pruned after a minute. */
export interface LoginFailuresTable {
  address: string;
  at: number;
}

/** At most one row, rewritten by the write probe of /healthz (src/db/write-probe.ts). */
export interface StorageProbeTable {
  id: number;
  filler: Uint8Array;
  written_at: number;
}

export interface Schema {
  stores: StoresTable;
  api_users: ApiUsersTable;
  orders: OrdersTable;
  order_products: OrderProductsTable;
  shipments: ShipmentsTable;
  payments: PaymentsTable;
  comments: CommentsTable;
  order_events: OrderEventsTable;
  shipping_methods: ShippingMethodsTable;
  payment_methods: PaymentMethodsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_messages: WebhookMessagesTable;
  webhook_attempts: WebhookAttemptsTable;
  delivery_lanes: DeliveryLanesTable;
  store_events: StoreEventsTable;
  dashboard_sessions: DashboardSessionsTable;
  legacy_settings: LegacySettingsTable;
  legacy_order_changes: LegacyOrderChangesTable;
  login_failures: LoginFailuresTable;
  storage_probe: StorageProbeTable;
}

export type Store = Selectable<StoresTable>;
export type OrderRow = Selectable<OrdersTable>;
export type OrderProductRow = Selectable<OrderProductsTable>;
export type ShipmentRow = Selectable<ShipmentsTable>;
export type PaymentRow = Selectable<PaymentsTable>;
export type CommentRow = Selectable<CommentsTable>;
export type OrderEventRow = Selectable<OrderEventsTable>;
export type SubscriptionRow = Selectable<WebhookSubscriptionsTable>;
export type MessageRow = Selectable<WebhookMessagesTable>;
export type AttemptRow = Selectable<WebhookAttemptsTable>;
