/**
 * Turns stored rows into the API's order object, with the requested expansions. The same
 * function renders `GET /orders/{id}` and every webhook message body, so the two never differ.
 */
import type { Order, OrderExpand, TaxSummary } from '../api/schemas/orders.js';
import { isoTime } from '../time.js';
import type { OrderAggregate } from './aggregate.js';
import { fromBasisPoints, fromCents } from './money.js';
import { taxSummary } from './totals.js';

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function renderOrder(agg: OrderAggregate, expands: readonly OrderExpand[] = []): Order {
  const o = agg.order;
  const out: Order = {
    id: o.id,
    created_at: isoTime(o.created_at),
    updated_at: isoTime(o.updated_at),
    archived_at: isoTime(o.archived_at),
    shipments_completed_at: isoTime(o.shipments_completed_at),
    external_id: o.external_id,
    version_id: o.version_id,
    language: o.language,
    customer_id: o.customer_id,
    customer_information: JSON.parse(o.customer_information) as Order['customer_information'],
    shipping_address: JSON.parse(o.shipping_address) as Order['shipping_address'],
    different_shipping_address: o.different_shipping_address === 1,
    shipping_method_id: o.shipping_method_id,
    payment_method_id: o.payment_method_id,
    currency: o.currency,
    subtotal: fromCents(o.subtotal_cents),
    shipping_costs: fromCents(o.shipping_costs_cents),
    payment_costs: fromCents(o.payment_costs_cents),
    discount: fromCents(o.discount_cents),
    total: fromCents(o.total_cents),
    status: o.status,
    details: o.details,
    custom_data: parseJson(o.custom_data),
  };
  for (const expand of expands) {
    switch (expand) {
      case 'products':
        out.products = agg.products.map((p) => ({
          id: p.id,
          order_id: p.order_id,
          created_at: isoTime(p.created_at),
          product_code: p.product_code,
          product_name: p.product_name,
          quantity: p.quantity,
          unit_price: fromCents(p.unit_price_cents),
          vat_rate: fromBasisPoints(p.vat_rate_bp),
          total: fromCents(p.unit_price_cents * p.quantity),
          shipment_id: p.shipment_id,
        }));
        break;
      case 'shipments':
        out.shipments = agg.shipments.map(renderShipment);
        break;
      case 'payments':
        out.payments = agg.payments.map(renderPayment);
        break;
      case 'comments':
        out.comments = agg.comments.map(renderComment);
        break;
      case 'events':
        out.events = agg.events.map((e) => ({
          id: e.id,
          created_at: isoTime(e.created_at),
          code: e.code,
          message: e.message,
          data: parseJson(e.data) as Record<string, unknown> | null,
        }));
        break;
      case 'tax_summary':
        out.tax_summary = taxSummary(agg) satisfies TaxSummary;
        break;
    }
  }
  return out;
}

export function renderPayment(p: OrderAggregate['payments'][number]): NonNullable<Order['payments']>[number] {
  return {
    id: p.id,
    order_id: p.order_id,
    created_at: isoTime(p.created_at),
    updated_at: isoTime(p.updated_at),
    payment_method_id: p.payment_method_id,
    amount: fromCents(p.amount_cents),
    currency: p.currency,
    status: p.status,
    is_paid: p.status === 'PAID',
    reference: p.reference,
  };
}

export function renderShipment(s: OrderAggregate['shipments'][number]): NonNullable<Order['shipments']>[number] {
  return {
    id: s.id,
    order_id: s.order_id,
    created_at: isoTime(s.created_at),
    updated_at: isoTime(s.updated_at),
    completed_at: isoTime(s.completed_at),
    status: s.status,
    tracking_code: s.tracking_code,
    shipping_method_id: s.shipping_method_id,
    parcel_count: s.parcel_count,
    weight: s.weight_g / 1000,
  };
}

export function renderComment(c: OrderAggregate['comments'][number]): NonNullable<Order['comments']>[number] {
  return {
    id: c.id,
    order_id: c.order_id,
    created_at: isoTime(c.created_at),
    user_id: c.user_id,
    visibility: c.visibility,
    text: c.text,
  };
}
