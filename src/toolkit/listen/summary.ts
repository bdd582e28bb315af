/** The one-line summary `storehook listen` prints for an event. */
import type { Order } from '../../orders/contract.js';

const money = (amount: number, currency: string) => `${amount.toFixed(2)} ${currency}`;

function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** e.g. `order 1234 · OPEN · 55.80 EUR · Maija Meikäläinen · 2 products` plus what the topic changed. */
export function summarize(topic: string, order: Partial<Order> | null | undefined): string {
  if (!order || typeof order !== 'object' || typeof order.id !== 'number') return '(no order in the message)';
  const parts = [`order ${order.id}`];
  if (order.status) parts.push(order.status);
  if (typeof order.total === 'number') parts.push(money(order.total, order.currency ?? ''));
  const who = [order.customer_information?.first_name, order.customer_information?.last_name].filter(Boolean).join(' ') || order.customer_information?.company;
  if (who) parts.push(who);
  if (order.products) parts.push(`${order.products.length} product${order.products.length === 1 ? '' : 's'}`);
  switch (topic) {
    case 'order.shipment_completed': {
      const done = order.shipments?.filter((s) => s.status === 'COMPLETED').at(-1);
      if (done) parts.push(`shipment ${done.id} completed${done.tracking_code ? ` (tracking ${done.tracking_code})` : ''}`);
      break;
    }
    case 'order.payment_updated': {
      const p = order.payments?.slice().sort((a, b) => a.updated_at.localeCompare(b.updated_at)).at(-1);
      if (p) parts.push(`payment ${p.id} ${p.status}`);
      break;
    }
    case 'order.comment_created': {
      const c = order.comments?.at(-1);
      if (c) parts.push(`${c.visibility.toLowerCase()} comment "${clip(c.text, 40)}"`);
      break;
    }
  }
  return parts.join(' · ');
}
