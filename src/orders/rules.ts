/**
 * The state rules of an order, as pure decisions: which change a state allows, what it leads to,
 * and which topics it emits. service.ts reads the rows, asks here, then writes; kept free of the
 * database so each rule can be tested on its own (test/orders/rules.test.ts).
 */
import type { OrderStatus, PaymentStatus, ShipmentStatus } from '../db/schema.js';
import type { OrderTopic } from './topics.js';

/** Why the order cannot be cancelled, or null when it can. */
export function cancelRefusal(orderId: number, status: OrderStatus): string | null {
  if (status === 'COMPLETED') return `Order ${orderId} is COMPLETED and cannot be cancelled.`;
  if (status === 'CANCELLED') return `Order ${orderId} is already CANCELLED.`;
  return null;
}

/** Payments not yet captured are cancelled with the order; a PAID one stays for a refund. */
export const PAYMENTS_CANCELLED_WITH_ORDER: readonly PaymentStatus[] = ['OPEN', 'PENDING_ACTIVATION'];

export function cancelTopics(paymentsCancelled: number): OrderTopic[] {
  const topics: OrderTopic[] = ['order.cancelled'];
  if (paymentsCancelled > 0) topics.push('order.payment_updated');
  topics.push('order.updated');
  return topics;
}

/** Why this shipment cannot be completed, or null when it can. */
export function shipmentCompletionRefusal(orderId: number, orderStatus: OrderStatus, shipmentId: number, shipmentStatus: ShipmentStatus): string | null {
  if (orderStatus === 'CANCELLED') return `Order ${orderId} is CANCELLED: its shipments cannot be completed.`;
  if (shipmentStatus === 'COMPLETED') return `Shipment ${shipmentId} is already COMPLETED.`;
  return null;
}

/** Completing a shipment completes the order once no shipment is left open. */
export function afterShipmentCompleted(openShipmentsLeft: boolean): { completesOrder: boolean; topics: OrderTopic[] } {
  const topics: OrderTopic[] = ['order.shipment_completed', 'order.updated'];
  if (!openShipmentsLeft) topics.push('order.completed');
  return { completesOrder: !openShipmentsLeft, topics };
}

/** Why the order cannot be quick-processed (paid, shipped and archived at once), or null. */
export function quickProcessRefusal(
  order: { id: number; status: OrderStatus },
  payments: readonly { id: number; status: PaymentStatus }[],
  allowOpenCashOnDelivery: boolean,
): string | null {
  if (order.status !== 'OPEN') return `Order ${order.id} is ${order.status}: only OPEN orders can be quick-processed.`;
  if (payments.length !== 1) return `Order ${order.id} has ${payments.length} payments: only orders with exactly one payment can be quick-processed.`;
  const payment = payments[0]!;
  if (payment.status === 'OPEN' && !allowOpenCashOnDelivery) {
    return `Payment ${payment.id} is still OPEN. Mark it paid first, or send "allow_open_cash_on_delivery_payments": true for a cash-on-delivery order.`;
  }
  if (payment.status === 'CANCELLED' || payment.status === 'REFUNDED') return `Payment ${payment.id} is ${payment.status}: the order cannot be quick-processed.`;
  return null;
}

/** Quick processing activates a payment still pending activation; an OPEN (cash-on-delivery) one stays. */
export function quickProcessActivates(paymentStatus: PaymentStatus): boolean {
  return paymentStatus === 'PENDING_ACTIVATION';
}

export function quickProcessTopics(paymentActivated: boolean, shipmentsCompleted: number): OrderTopic[] {
  const topics: OrderTopic[] = [];
  if (paymentActivated) topics.push('order.payment_updated');
  if (shipmentsCompleted > 0) topics.push('order.shipment_completed');
  topics.push('order.completed', 'order.updated');
  return topics;
}

export type PaymentAction = 'mark-as-paid' | 'mark-as-unpaid' | 'mark-as-cancelled' | 'activate';

/** Allowed starting states per action, and the state each leads to. Same-state is a no-op. */
export const PAYMENT_TRANSITIONS: Readonly<Record<PaymentAction, { to: PaymentStatus; from: readonly PaymentStatus[] }>> = {
  'mark-as-paid': { to: 'PAID', from: ['OPEN', 'PENDING_ACTIVATION', 'PAID'] },
  'mark-as-unpaid': { to: 'OPEN', from: ['PAID', 'PENDING_ACTIVATION', 'OPEN'] },
  'mark-as-cancelled': { to: 'CANCELLED', from: ['OPEN', 'PENDING_ACTIVATION', 'CANCELLED'] },
  activate: { to: 'PAID', from: ['PENDING_ACTIVATION'] },
};

export type PaymentDecision = { refused: string } | { unchanged: true } | { to: PaymentStatus };

/** What a payment action does to a payment of this order: refused (why), nothing, or a new state. */
export function decidePayment(
  order: { id: number; status: OrderStatus },
  payment: { id: number; status: PaymentStatus },
  action: PaymentAction,
): PaymentDecision {
  const rule = PAYMENT_TRANSITIONS[action];
  if (!rule.from.includes(payment.status)) {
    return { refused: `Payment ${payment.id} is ${payment.status}: ${action} needs one of ${rule.from.filter((s) => s !== rule.to).join(', ')}.` };
  }
  if (order.status === 'CANCELLED' && rule.to !== 'CANCELLED') return { refused: `Order ${order.id} is CANCELLED: its payment can only be cancelled.` };
  if (payment.status === rule.to) return { unchanged: true };
  return { to: rule.to };
}
