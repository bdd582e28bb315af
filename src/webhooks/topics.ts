/**
 * The topic catalogue (SPEC §3) is data: a new topic is one entry here plus the code that emits it.
 * Every topic carries its resource (an order, a product, a stock item or a customer), rendered as
 * the API's GET shows it, with the subscription's `expands`.
 */
import { PRODUCT_EXPANDS, STOCK_ITEM_EXPANDS, type Product, type StockItem } from '../catalogue/contract.js';
import type { CatalogueTopic } from '../catalogue/topics.js';
import { CUSTOMER_EXPANDS, type Customer } from '../customers/contract.js';
import type { CustomerTopic } from '../customers/topics.js';
import type { Order } from '../orders/contract.js';
import { ORDER_EXPANDS } from '../orders/expands.js';
import type { OrderTopic } from '../orders/topics.js';
import type { SubscriptionHealthData } from './contract.js';

/**
 * The operational topics of endpoint health (src/webhooks/health.ts): about one of the store's
 * subscriptions, delivered to the store's other subscriptions of the topic, never to the one
 * they are about.
 */
export const HEALTH_TOPICS = ['subscription.failing', 'subscription.disabled', 'subscription.recovered'] as const;
export type HealthTopic = (typeof HEALTH_TOPICS)[number];

export type Topic = OrderTopic | CatalogueTopic | CustomerTopic | HealthTopic;
/** What a topic's messages carry in `data`. */
export type TopicResource = 'order' | 'product' | 'stock_item' | 'customer' | 'subscription_health';
export type TopicData = Order | Product | StockItem | Customer | SubscriptionHealthData;

export interface TopicDefinition {
  name: Topic;
  description: string;
  resource: TopicResource;
  expands: readonly string[];
}

const order = (name: OrderTopic, description: string): TopicDefinition => ({ name, description, resource: 'order', expands: ORDER_EXPANDS });

export const TOPICS: readonly TopicDefinition[] = [
  order('order.created', 'A new order arrived (storefront, API or legacy bridge).'),
  order('order.updated', 'Anything about the order or its parts changed: details, addresses, status, shipments, payments, comments.'),
  order('order.cancelled', 'The order was cancelled.'),
  order('order.completed', 'All shipments are completed, so the order is COMPLETED (also by quick-process).'),
  order('order.shipment_completed', 'A shipment was marked delivered (with its tracking code, if given).'),
  order('order.payment_updated', "A payment's status changed (paid, unpaid, cancelled, activated)."),
  order('order.comment_created', 'A public or private comment was added to the order.'),
  { name: 'product.created', description: 'A product was created (POST /products).', resource: 'product', expands: PRODUCT_EXPANDS },
  { name: 'product.updated', description: 'A product, or one of its variations, was changed, added or deleted. Stock changes are stock_item.updated.', resource: 'product', expands: PRODUCT_EXPANDS },
  { name: 'product.deleted', description: 'A product was deleted; the message shows it as it was.', resource: 'product', expands: PRODUCT_EXPANDS },
  { name: 'stock_item.updated', description: "A stock item changed: by PATCH /stock, or by an order (placed, cancelled, delivered). Every change, one message each.", resource: 'stock_item', expands: STOCK_ITEM_EXPANDS },
  { name: 'stock_item.low', description: 'A stock item\'s balance dropped below its balance_alert (sent once per crossing, beside stock_item.updated).', resource: 'stock_item', expands: STOCK_ITEM_EXPANDS },
  { name: 'customer.created', description: 'A customer was created.', resource: 'customer', expands: CUSTOMER_EXPANDS },
  { name: 'customer.updated', description: 'A customer, or the groups they are in, changed.', resource: 'customer', expands: CUSTOMER_EXPANDS },
  { name: 'subscription.failing', description: "Another of the store's subscriptions has been failing for a while (24 h, then a day before it is disabled). Never sent to the failing subscription itself.", resource: 'subscription_health', expands: [] },
  { name: 'subscription.disabled', description: "Another of the store's subscriptions was disabled automatically (failing too long, or its receiver answered 410 Gone); its messages are held until it is enabled again.", resource: 'subscription_health', expands: [] },
  { name: 'subscription.recovered', description: "Another of the store's subscriptions that was announced failing or disabled delivers again (or was enabled again).", resource: 'subscription_health', expands: [] },
];

/**
 * The topic of the message `POST /webhooks/{uuid}/test` sends: not subscribable, and stored
 * one-shot (max_attempts 1, see operations.ts): its one attempt is answered to the caller.
 */
export const TEST_TOPIC = 'webhook.test';

/**
 * The internal topic of the legacy automatic POST: one subscription per store with this topic
 * carries the order XML through the ordinary delivery engine (retries, log, resend). It is not in
 * the public catalogue (POST /api/v1/webhooks refuses it) and GET /api/v1/webhooks hides it. Its
 * messages are stored with the XML content type (legacy/sink.ts).
 */
export const LEGACY_ORDER_XML_TOPIC = 'legacy.order_xml';

/** The content type of the legacy automatic POST's body and of the legacy API's answers. */
export const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';

export function findTopic(name: string): TopicDefinition | undefined {
  return TOPICS.find((t) => t.name === name);
}

/** The envelope every message has (SPEC §4). */
export interface MessageBody<T = Order> {
  id: string;
  topic: string;
  created_at: string;
  /**
   * Per resource (the order, product, stock item or customer in `data`), monotonic: 1, 2, 3, … in
   * commit order, so a consumer can drop an update older than one it has. 0 on the test message.
   */
  sequence: number;
  data: T;
}

export const EXAMPLE_ORDER: Order = {
  id: 1234,
  created_at: '2026-05-02T07:15:00.000+00:00',
  updated_at: '2026-05-02T07:16:12.000+00:00',
  archived_at: null,
  shipments_completed_at: null,
  external_id: null,
  version_id: 1,
  language: 'fi',
  customer_id: null,
  customer_external_id: null,
  customer_information: { company: '', vat_code: '', first_name: 'Maija', last_name: 'Meikäläinen', street_address: 'Katu 1', postal_code: '00100', city: 'Helsinki', country: 'FI', phone: '+358401234567', email: 'maija@example.com' },
  shipping_address: { company: '', first_name: 'Maija', last_name: 'Meikäläinen', street_address: 'Katu 1', postal_code: '00100', city: 'Helsinki', country: 'FI', phone: '+358401234567', email: 'maija@example.com' },
  different_shipping_address: false,
  shipping_method_id: 3,
  payment_method_id: 5,
  currency: 'EUR',
  subtotal: 49.9,
  shipping_costs: 5.9,
  payment_costs: 0,
  discount: 0,
  total: 55.8,
  status: 'OPEN',
  details: null,
  receipt_url: null,
  return_document_url: null,
  dispatch_note_url: null,
  custom_data: null,
  shipments: [{ id: 77, order_id: 1234, created_at: '2026-05-02T07:15:00.000+00:00', updated_at: '2026-05-02T07:15:00.000+00:00', completed_at: null, type: null, status: 'OPEN', tracking_code: null, shipping_method_id: 3, parcel_count: 1, weight: 0.8, external_id: null, external_pickup_point_id: null, shipping_label_url: null, documents: [] }],
  payments: [{ id: 91, order_id: 1234, created_at: '2026-05-02T07:15:00.000+00:00', updated_at: '2026-05-02T07:15:00.000+00:00', payment_method_id: 5, reference: '1234', external_id: null, amount: 55.8, currency: 'EUR', exchange_rate: null, status: 'PAID', is_confirmed: true, is_paid: true }],
};

const EXAMPLE_STOCK_ITEM: StockItem = {
  id: 12,
  product_id: 7,
  variation_id: null,
  product_code: 'COFFEE-DARK-500',
  created_at: '2026-04-01T09:00:00.000+00:00',
  updated_at: '2026-05-02T07:15:00.000+00:00',
  quantity: 40,
  reserved: 2,
  balance: 38,
  balance_limit: 0,
  balance_alert: 5,
  backorder_enabled: false,
  sku: null,
  barcode: '6412345678901',
  location: 'A-3',
};

export const EXAMPLE_PRODUCT: Product = {
  id: 7,
  created_at: '2026-04-01T09:00:00.000+00:00',
  updated_at: '2026-05-02T07:16:12.000+00:00',
  product_code: 'COFFEE-DARK-500',
  supplier_code: 'RST-500-D',
  external_id: null,
  name: 'Dark roast coffee beans 500 g',
  description: 'Whole beans, roasted in Helsinki.',
  price: 12.9,
  purchase_price: 6.1,
  vat_rate: 14,
  weight: 0.5,
  brand_id: 2,
  supplier_id: 1,
  visible: true,
  visible_from: null,
  available_from: null,
  available_to: null,
  barcode: '6412345678901',
  stock_item: EXAMPLE_STOCK_ITEM,
};

const EXAMPLE_CUSTOMER: Customer = {
  id: 31,
  created_at: '2026-05-02T07:16:12.000+00:00',
  updated_at: '2026-05-02T07:16:12.000+00:00',
  email: 'maija@example.com',
  first_name: 'Maija',
  last_name: 'Meikäläinen',
  company: '',
  vat_code: '',
  phone: '+358401234567',
  street_address: 'Katu 1',
  postal_code: '00100',
  city: 'Helsinki',
  country: 'FI',
  language: 'fi',
  external_id: null,
  newsletter: false,
};

export const EXAMPLE_SUBSCRIPTION_HEALTH: SubscriptionHealthData = {
  subscription: { reference: 'sub#3f9a0c51d2', topic: 'order.created', url: 'https://erp.example.com/hooks/storehook', status: 'active' },
  failing_since: '2026-05-01T07:16:12.000+00:00',
  consecutive_failures: 14,
  last_failure_at: '2026-05-02T07:15:40.000+00:00',
  last_error: { status_code: 503, error_class: 'http_status' },
  last_success_at: null,
  disables_at: '2026-05-06T07:16:12.000+00:00',
  disabled_at: null,
  disabled_reason: null,
};

/** The sequence of a message about no store resource (the test message, the health messages); resources count from 1. */
export const NO_SEQUENCE = 0;

const EXAMPLES: Record<TopicResource, TopicData> = { order: EXAMPLE_ORDER, product: EXAMPLE_PRODUCT, stock_item: EXAMPLE_STOCK_ITEM, customer: EXAMPLE_CUSTOMER, subscription_health: EXAMPLE_SUBSCRIPTION_HEALTH };

export function exampleMessage(topic: string): MessageBody<TopicData> {
  const resource = findTopic(topic)?.resource ?? 'order';
  // The health messages are about no store resource: their sequence is always 0.
  const sequence = resource === 'subscription_health' ? NO_SEQUENCE : 3;
  return { id: 'msg_2Qx7c1bJm9vT0kq4ZpW8sYd3LfA', topic, created_at: '2026-05-02T07:16:12.000+00:00', sequence, data: EXAMPLES[resource] };
}
