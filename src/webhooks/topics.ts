/**
 * The topic catalogue (SPEC §3) is data: a new topic is one entry here plus the code that emits it.
 * Every topic carries the order, rendered with the subscription's `expands`.
 */
import { ORDER_EXPANDS, type Order, type OrderExpand } from '../orders/contract.js';
import type { OrderTopic } from '../orders/topics.js';

export interface TopicDefinition {
  name: OrderTopic;
  description: string;
  expands: readonly OrderExpand[];
}

export const TOPICS: readonly TopicDefinition[] = [
  { name: 'order.created', description: 'A new order arrived (storefront, API or legacy bridge).', expands: ORDER_EXPANDS },
  { name: 'order.updated', description: 'Anything about the order or its parts changed: details, addresses, status, shipments, payments, comments.', expands: ORDER_EXPANDS },
  { name: 'order.cancelled', description: 'The order was cancelled.', expands: ORDER_EXPANDS },
  { name: 'order.completed', description: 'All shipments are completed, so the order is COMPLETED (also by quick-process).', expands: ORDER_EXPANDS },
  { name: 'order.shipment_completed', description: 'A shipment was marked delivered (with its tracking code, if given).', expands: ORDER_EXPANDS },
  { name: 'order.payment_updated', description: "A payment's status changed (paid, unpaid, cancelled, activated).", expands: ORDER_EXPANDS },
  { name: 'order.comment_created', description: 'A public or private comment was added to the order.', expands: ORDER_EXPANDS },
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

export function exampleMessage(topic: string): MessageBody {
  return { id: 'msg_2Qx7c1bJm9vT0kq4ZpW8sYd3LfA', topic, created_at: '2026-05-02T07:16:12.000+00:00', data: EXAMPLE_ORDER };
}
