/**
 * `storehook trigger <topic>`: makes the server emit a topic for real, through the public API
 * (so it goes through the same transaction, outbox, subscriptions and live stream as any change):
 * a realistic sample order for `order.created`, and the matching change on a fresh sample order
 * (or on `--order <id>`) for the other order topics; a sample product or customer, and its
 * change, for the topics of the rest of the store (trigger-resources.ts).
 */
import type { CreateOrderBody, Order } from '../orders/contract.js';
import type { StorehookClient } from '../client/index.js';
import { ORDER_TOPICS, type OrderTopic } from '../orders/topics.js';
import { EXIT, ToolkitError } from './common.js';
import { RESOURCE_SCENARIOS, RESOURCE_TOPICS, type ResourceScenario, type ResourceTopic } from './trigger-resources.js';

export type TriggerTopic = OrderTopic | ResourceTopic;
export const TRIGGER_TOPICS: readonly TriggerTopic[] = [...ORDER_TOPICS, ...RESOURCE_TOPICS];

export interface TriggerStep {
  /** what was done, in words */
  action: string;
  method: string;
  path: string;
  /** what came back, in words */
  result: string;
}

export interface TriggerResult {
  topic: TriggerTopic;
  /** what the topic's messages are about, and its id */
  resource: 'order' | ResourceScenario['resource'];
  id: number;
  /** order topics only (the same as id) */
  order_id?: number;
  steps: TriggerStep[];
  /** every topic the steps emitted, in order (the triggered one among them) */
  emitted: TriggerTopic[];
}

/** A plausible storefront order: a Finnish customer, two products, shipping and a payment. */
export function sampleOrder(paymentStatus: 'OPEN' | 'PAID' = 'PAID'): CreateOrderBody {
  const suffix = Math.random().toString(36).slice(2, 8).toUpperCase();
  return {
    external_id: `trigger-${suffix}`,
    language: 'fi',
    currency: 'EUR',
    customer_information: {
      first_name: 'Maija',
      last_name: 'Meikäläinen',
      email: 'maija.meikalainen@example.com',
      phone: '+358401234567',
      street_address: 'Mannerheimintie 12 B 7',
      postal_code: '00100',
      city: 'Helsinki',
      country: 'FI',
    },
    products: [
      { product_code: 'COFFEE-DARK-500', product_name: 'Dark roast coffee beans 500 g', quantity: 2, unit_price: 12.9, vat_rate: 14 },
      { product_code: 'MUG-ENAMEL', product_name: 'Enamel camping mug', quantity: 1, unit_price: 19.5, vat_rate: 25.5 },
    ],
    shipping_costs: 5.9,
    shipping_method_id: 3,
    payment_method_id: 5,
    details: 'Sample order made by `storehook trigger`.',
    shipment: { parcel_count: 1, weight: 1.3 },
    payment: { status: paymentStatus, reference: `RF18${suffix}` },
  };
}

type Step = (api: StorehookClient, order: Order, log: (s: TriggerStep) => void) => Promise<OrderTopic[]>;

interface Scenario {
  /** how the order is made ready for the change (fresh sample orders only) */
  payment: 'OPEN' | 'PAID';
  change: Step | null;
  describe: string;
}

function firstShipment(order: Order): number {
  const s = order.shipments?.find((x) => x.status === 'OPEN');
  if (!s) throw new ToolkitError(`order ${order.id} has no OPEN shipment to complete`, EXIT.failed);
  return s.id;
}

export const SCENARIOS: Record<OrderTopic, Scenario> = {
  'order.created': { payment: 'PAID', change: null, describe: 'creates a sample order' },
  'order.updated': {
    payment: 'PAID',
    describe: 'changes the details of a sample order',
    change: async (api, order, log) => {
      const path = `/orders/${order.id}`;
      await api.orders.update(order.id, { details: `Updated by storehook trigger at ${new Date().toISOString()}`, custom_data: { gift_wrap: true } });
      log({ action: `changed details and custom_data of order ${order.id}`, method: 'PATCH', path, result: 'ok' });
      return ['order.updated'];
    },
  },
  'order.cancelled': {
    payment: 'OPEN',
    describe: 'cancels an unpaid sample order',
    change: async (api, order, log) => {
      const path = `/orders/${order.id}/cancel`;
      const before = order.payments?.[0]?.status;
      const after = await api.orders.cancel(order.id);
      const payment = (await api.orders.get(order.id, { expand: ['payments'] })).payments?.[0];
      log({ action: `cancelled order ${order.id}`, method: 'POST', path, result: `status ${after.status}${payment ? `, payment ${payment.status}` : ''}` });
      // An unpaid payment is cancelled with the order, which is a payment change too.
      return payment && before !== undefined && payment.status !== before ? ['order.cancelled', 'order.payment_updated', 'order.updated'] : ['order.cancelled', 'order.updated'];
    },
  },
  'order.completed': {
    payment: 'PAID',
    describe: 'quick-processes a paid sample order (ships everything, completes and archives it)',
    change: async (api, order, log) => {
      const path = `/orders/${order.id}/quick-process`;
      const after = await api.orders.quickProcess(order.id, { tracking_code: 'JJFI64512300012345678' });
      log({ action: `quick-processed order ${order.id}`, method: 'POST', path, result: `status ${after.status}` });
      return ['order.shipment_completed', 'order.completed', 'order.updated'];
    },
  },
  'order.shipment_completed': {
    payment: 'PAID',
    describe: "completes a sample order's shipment with a tracking code",
    change: async (api, order, log) => {
      const sid = firstShipment(order);
      const path = `/orders/${order.id}/shipments/${sid}/complete`;
      const s = await api.orders.completeShipment(order.id, sid, { tracking_code: 'JJFI64512300012345678' });
      log({ action: `completed shipment ${sid} of order ${order.id}`, method: 'POST', path, result: `shipment ${s.status}, tracking ${s.tracking_code}` });
      // Completing the last open shipment completes the order too (always so for a sample order).
      const after = await api.orders.get(order.id);
      return after.status === 'COMPLETED' ? ['order.shipment_completed', 'order.updated', 'order.completed'] : ['order.shipment_completed', 'order.updated'];
    },
  },
  'order.payment_updated': {
    payment: 'OPEN',
    describe: "marks an unpaid sample order's payment paid",
    change: async (api, order, log) => {
      const p = order.payments?.[0];
      if (!p) throw new ToolkitError(`order ${order.id} has no payment`, EXIT.failed);
      const action = p.status === 'PAID' ? 'mark-as-unpaid' : 'mark-as-paid';
      const path = `/orders/${order.id}/payments/${p.id}/${action}`;
      const after = await api.orders.changePayment(order.id, p.id, action);
      log({ action: `${action === 'mark-as-paid' ? 'marked' : 'unmarked'} payment ${p.id} of order ${order.id} ${action === 'mark-as-paid' ? 'paid' : 'unpaid'}`, method: 'POST', path, result: `payment ${after.status}` });
      return ['order.payment_updated', 'order.updated'];
    },
  },
  'order.comment_created': {
    payment: 'PAID',
    describe: 'adds a public comment to a sample order',
    change: async (api, order, log) => {
      const path = `/orders/${order.id}/comments`;
      const c = await api.orders.addComment(order.id, { text: 'Thank you for your order! It ships tomorrow.', visibility: 'PUBLIC' });
      log({ action: `added comment ${c.id} to order ${order.id}`, method: 'POST', path, result: `${c.visibility} comment` });
      return ['order.comment_created', 'order.updated'];
    },
  },
};

export function parseTopic(raw: string): TriggerTopic {
  if ((TRIGGER_TOPICS as readonly string[]).includes(raw)) return raw as TriggerTopic;
  throw new ToolkitError(`unknown topic "${raw}"; topics: ${TRIGGER_TOPICS.join(', ')}`, EXIT.usage);
}

const isOrderTopic = (topic: TriggerTopic): topic is OrderTopic => (ORDER_TOPICS as readonly string[]).includes(topic);

/** `--order` names the order an order topic's change is made to; the other topics make their own sample. */
export function checkOrderOption(topic: TriggerTopic, orderId: number | undefined): void {
  if (orderId === undefined) return;
  if (topic === 'order.created') throw new ToolkitError('--order cannot be used with order.created: that topic creates a new order', EXIT.usage);
  if (!isOrderTopic(topic)) throw new ToolkitError(`--order is for order topics; ${topic} makes a fresh sample ${RESOURCE_SCENARIOS[topic].resource === 'customer' ? 'customer' : 'product'}`, EXIT.usage);
}

/** What trigger does for a topic, in words (for --help and progress). */
export function describeTrigger(topic: TriggerTopic): string {
  return isOrderTopic(topic) ? SCENARIOS[topic].describe : RESOURCE_SCENARIOS[topic].describe;
}

/**
 * Runs the scenario of `topic`; `log` is called after each step (for progress). With `orderId`
 * the change is made to that existing order instead of a fresh sample order.
 */
export async function trigger(api: StorehookClient, topic: TriggerTopic, log: (step: TriggerStep) => void, orderId?: number): Promise<TriggerResult> {
  const steps: TriggerStep[] = [];
  const record = (s: TriggerStep) => {
    steps.push(s);
    log(s);
  };
  checkOrderOption(topic, orderId);
  if (!isOrderTopic(topic)) {
    const scenario = RESOURCE_SCENARIOS[topic];
    const { id, emitted } = await scenario.run(api, record);
    return { topic, resource: scenario.resource, id, steps, emitted };
  }
  const scenario = SCENARIOS[topic];
  const emitted: OrderTopic[] = [];
  let order: Order;
  if (orderId !== undefined) {
    order = await api.orders.get(orderId, { expand: ['shipments', 'payments'] });
    record({ action: `loaded order ${order.id}`, method: 'GET', path: `/orders/${order.id}`, result: `status ${order.status}` });
  } else {
    order = await api.orders.create(sampleOrder(scenario.payment));
    record({ action: `created sample order ${order.id}`, method: 'POST', path: '/orders', result: `${order.total.toFixed(2)} ${order.currency}, payment ${order.payments?.[0]?.status ?? '?'}` });
    emitted.push('order.created');
  }
  if (scenario.change) emitted.push(...(await scenario.change(api, order, record)));
  return { topic, resource: 'order', id: order.id, order_id: order.id, steps, emitted };
}
