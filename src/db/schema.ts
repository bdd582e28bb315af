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
/** none: messages go out as they become due; per_order: one at a time per order (or other resource). */
export const SUBSCRIPTION_ORDERINGS = ['none', 'per_order'] as const;
export type SubscriptionOrdering = (typeof SUBSCRIPTION_ORDERINGS)[number];
/**
 * The stored states of a webhook message, defined once (here, because the table's type needs them
 * and db/ is the bottom layer); src/delivery/message-states.ts says what each means and derives
 * the states the dashboard shows. `held`: its subscription is disabled; it waits, unsent, until
 * enabled again (or discarded). `blocked`: an ordered subscription's message queued behind an
 * unfinished one of the same ordering key; it becomes pending when that one finishes.
 */
export const MESSAGE_STATUSES = ['pending', 'held', 'blocked', 'delivered', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

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
  /** Health (migration 0012): failed attempts since the last success. */
  consecutive_failures: Generated<number>;
  /** when the current run of failures started; null while healthy. */
  failing_since: number | null;
  last_failure_at: number | null;
  /** the last success that ended a run of failures (a healthy subscription's successes write nothing). */
  last_success_at: number | null;
  /** the highest health announcement made for the current run: 0 none, 1–2 subscription.failing, 3 subscription.disabled. */
  alert_level: Generated<number>;
  disabled_at: number | null;
  disabled_by: DisabledBy | null;
  /** migration 0013; 'none' for every subscription made before it. */
  ordering: Generated<SubscriptionOrdering>;
}

/** What disabled a subscription: the health sweep, a 410 answer, or a person (API, dashboard, legacy settings). */
export type DisabledBy = 'failing' | 'gone' | 'operator';

/** A subscription's own signing key (src/webhooks/signing-keys.ts); it signs until `expires_at`. */
export interface SubscriptionSigningKeysTable {
  id: Id;
  store_id: number;
  subscription_uuid: string;
  kind: SigningKeyKind;
  /** base64: the HMAC key bytes, or the ed25519 private seed. Never logged, never shown after creation. */
  secret: string;
  /** base64 of the raw 32-byte ed25519 public key; null for hmac. */
  public_key: string | null;
  created_at: number;
  /** null: signs until rotated. */
  expires_at: number | null;
}

export type SigningKeyKind = 'hmac' | 'ed25519';

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
  /** the content-type header every attempt sends; set by the message's producer. */
  content_type: Generated<string>;
  /** the first attempt plus its retries (1: one-shot, like the test message). */
  max_attempts: Generated<number>;
  /**
   * Set by its producer for a subscription that wants ordered delivery: messages with the same
   * (subscription, key) go out one at a time, in row order (delivery/ordering.ts). Opaque to delivery.
   */
  ordering_key: string | null;
  /** the per-resource `sequence` its body carries; null when it has none (test, legacy XML, older rows). */
  sequence: number | null;
}

/** The last `sequence` given to a resource's messages (migration 0013). */
export interface ResourceSequencesTable {
  store_id: number;
  resource: string;
  resource_id: number;
  last_sequence: number;
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

/** A catalogue product (MyCashflow's fields; money in cents, VAT in basis points, weight in grams). */
export interface ProductsTable {
  id: Id;
  store_id: number;
  created_at: number;
  updated_at: number;
  /** unique per store across products and variations (see stock_items). */
  product_code: string;
  supplier_code: string | null;
  name: string;
  description: string;
  price_cents: number;
  purchase_price_cents: number | null;
  vat_rate_bp: number;
  weight_g: number;
  brand_id: number | null;
  supplier_id: number | null;
  /** 0/1 */
  visible: number;
  visible_from: number | null;
  available_from: number | null;
  available_to: number | null;
  barcode: string | null;
  external_id: string | null;
}

export interface ProductCategoriesTable {
  store_id: number;
  product_id: number;
  category_id: number;
  sort: number;
}

/** A variation of a product, with its own product code and stock item; null price = the product's. */
export interface VariationsTable {
  id: Id;
  store_id: number;
  created_at: number;
  updated_at: number;
  product_id: number;
  product_code: string;
  name: string;
  price_cents: number | null;
  purchase_price_cents: number | null;
  weight_g: number | null;
  barcode: string | null;
  sort: number;
}

/**
 * The stock of one product code. `quantity` is what is on the shelf, `reserved` what open orders
 * hold and have not shipped; the balance (what can still be sold) is quantity − reserved.
 */
export interface StockItemsTable {
  id: Id;
  store_id: number;
  created_at: number;
  updated_at: number;
  product_id: number;
  variation_id: number | null;
  product_code: string;
  quantity: number;
  reserved: number;
  /** the lowest balance an order may leave when backorders are off (default 0). */
  balance_limit: number;
  /** stock_item.low fires when the balance drops below this; null = no alert. */
  balance_alert: number | null;
  /** 0/1: orders may take the balance below balance_limit. */
  backorder_enabled: number;
  sku: string | null;
  barcode: string | null;
  location: string | null;
}

export type StockChangeReason = 'order_placed' | 'order_cancelled' | 'order_delivered' | 'manual' | 'created';

/** The stock ledger: one row per change of a stock item, kept when the product is deleted. */
export interface StockChangesTable {
  id: Id;
  store_id: number;
  changed_at: number;
  stock_item_id: number;
  product_id: number;
  variation_id: number | null;
  product_code: string;
  reason: StockChangeReason;
  quantity_change: number;
  reserved_change: number;
  quantity_after: number;
  balance_after: number;
  order_id: number | null;
  user_id: number | null;
}

/** A small named catalogue resource (brands, suppliers, customer groups). */
interface NamedTable {
  id: Id;
  store_id: number;
  created_at: number;
  updated_at: number;
  name: string;
}

export interface BrandsTable extends NamedTable {
  description: string;
  website: string | null;
}

export interface SuppliersTable extends NamedTable {
  email: string | null;
  phone: string | null;
  website: string | null;
}

export interface CategoriesTable extends NamedTable {
  parent_id: number | null;
  description: string;
  sort: number;
  /** 0/1 */
  visible: number;
}

export interface CustomerGroupsTable extends NamedTable {
  description: string;
}

export interface CampaignsTable extends NamedTable {
  description: string;
  starts_at: number | null;
  ends_at: number | null;
  discount_percent_bp: number | null;
}

/** A store version (storefront); numbered per store, 1 always exists (orders default to it). */
export interface VersionsTable {
  store_id: number;
  id: number;
  created_at: number;
  updated_at: number;
  name: string;
  language: string;
  currency: string;
}

/** A registered customer; e-mail is unique per store. */
export interface CustomersTable {
  id: Id;
  store_id: number;
  created_at: number;
  updated_at: number;
  email: string;
  first_name: string;
  last_name: string;
  company: string;
  vat_code: string;
  phone: string;
  street_address: string;
  postal_code: string;
  city: string;
  country: string;
  language: string;
  external_id: string | null;
  /** 0/1 */
  newsletter: number;
}

export interface CustomerGroupLinksTable {
  store_id: number;
  customer_id: number;
  customer_group_id: number;
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
  subscription_signing_keys: SubscriptionSigningKeysTable;
  webhook_attempts: WebhookAttemptsTable;
  delivery_lanes: DeliveryLanesTable;
  resource_sequences: ResourceSequencesTable;
  store_events: StoreEventsTable;
  dashboard_sessions: DashboardSessionsTable;
  legacy_settings: LegacySettingsTable;
  legacy_order_changes: LegacyOrderChangesTable;
  login_failures: LoginFailuresTable;
  storage_probe: StorageProbeTable;
  products: ProductsTable;
  product_categories: ProductCategoriesTable;
  variations: VariationsTable;
  stock_items: StockItemsTable;
  stock_changes: StockChangesTable;
  brands: BrandsTable;
  suppliers: SuppliersTable;
  categories: CategoriesTable;
  customer_groups: CustomerGroupsTable;
  campaigns: CampaignsTable;
  versions: VersionsTable;
  customers: CustomersTable;
  customer_group_links: CustomerGroupLinksTable;
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
export type SigningKeyRow = Selectable<SubscriptionSigningKeysTable>;
export type AttemptRow = Selectable<WebhookAttemptsTable>;
export type ProductRow = Selectable<ProductsTable>;
export type VariationRow = Selectable<VariationsTable>;
export type StockItemRow = Selectable<StockItemsTable>;
export type StockChangeRow = Selectable<StockChangesTable>;
export type CustomerRow = Selectable<CustomersTable>;
export type BrandRow = Selectable<BrandsTable>;
export type SupplierRow = Selectable<SuppliersTable>;
export type CategoryRow = Selectable<CategoriesTable>;
export type CustomerGroupRow = Selectable<CustomerGroupsTable>;
export type CampaignRow = Selectable<CampaignsTable>;
export type VersionRow = Selectable<VersionsTable>;
export type PaymentMethodRow = Selectable<PaymentMethodsTable>;
export type ShippingMethodRow = Selectable<ShippingMethodsTable>;
