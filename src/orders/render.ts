/**
 * Turns stored rows into the API's order object, with the requested expansions. The same
 * function renders `GET /orders/{id}` and every webhook message body, so the two never differ.
 */
import type { Order, OrderProduct, TaxSummary } from './contract.js';
import type { OrderExpand } from './expands.js';
import { isoTime } from '../time.js';
import type { OrderAggregate } from './aggregate.js';
import { fromBasisPoints, fromCents } from '../money.js';
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
    customer_external_id: o.customer_external_id,
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
    // storehook makes no receipts, return forms or dispatch notes.
    receipt_url: null,
    return_document_url: null,
    dispatch_note_url: null,
    custom_data: parseJson(o.custom_data),
  };
  // The nested expand includes its parent: products.return_reasons renders the products too.
  const withReturnReasons = expands.includes('products.return_reasons');
  if (withReturnReasons || expands.includes('products')) out.products = agg.products.map((p) => renderProduct(p, withReturnReasons));
  for (const expand of expands) {
    switch (expand) {
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

export function renderProduct(p: OrderAggregate['products'][number], withReturnReasons: boolean): OrderProduct {
  const out: OrderProduct = {
    id: p.id,
    order_id: p.order_id,
    created_at: isoTime(p.created_at),
    updated_at: isoTime(p.updated_at ?? p.created_at),
    delivered_at: isoTime(p.delivered_at),
    product_id: p.product_id,
    variation_id: p.variation_id,
    bundle_id: p.bundle_id,
    campaign_id: p.campaign_id,
    product_code: p.product_code,
    product_name: p.product_name,
    model_name: p.model_name,
    quantity: p.quantity,
    unit_price: fromCents(p.unit_price_cents),
    purchase_price: p.purchase_price_cents === null ? null : fromCents(p.purchase_price_cents),
    vat_rate: fromBasisPoints(p.vat_rate_bp),
    total: fromCents(p.unit_price_cents * p.quantity),
    warranty: p.warranty,
    custom_data: p.custom_data,
    customizations: p.customizations,
    shipment_id: p.shipment_id,
    // storehook has no returns and sells no downloads.
    return_to_stock: null,
    download_id: null,
    download_url: null,
    download_time_ends: null,
    download_times_left: null,
  };
  if (withReturnReasons) out.return_reasons = [];
  return out;
}

export function renderPayment(p: OrderAggregate['payments'][number]): NonNullable<Order['payments']>[number] {
  return {
    id: p.id,
    order_id: p.order_id,
    created_at: isoTime(p.created_at),
    updated_at: isoTime(p.updated_at),
    payment_method_id: p.payment_method_id,
    reference: p.reference,
    external_id: p.external_id,
    amount: fromCents(p.amount_cents),
    currency: p.currency,
    exchange_rate: p.exchange_rate,
    status: p.status,
    // Confirmed once the money was received (even if not yet activated); paid once activated.
    is_confirmed: p.status === 'PENDING_ACTIVATION' || p.status === 'PAID' || p.status === 'REFUNDED',
    is_paid: p.status === 'PAID',
  };
}

export function renderShipment(s: OrderAggregate['shipments'][number]): NonNullable<Order['shipments']>[number] {
  return {
    id: s.id,
    order_id: s.order_id,
    created_at: isoTime(s.created_at),
    updated_at: isoTime(s.updated_at),
    completed_at: isoTime(s.completed_at),
    type: s.type,
    status: s.status,
    tracking_code: s.tracking_code,
    shipping_method_id: s.shipping_method_id,
    parcel_count: s.parcel_count,
    weight: s.weight_g / 1000,
    external_id: s.external_id,
    external_pickup_point_id: s.external_pickup_point_id,
    // storehook prints no labels or shipping documents.
    shipping_label_url: null,
    documents: [],
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
