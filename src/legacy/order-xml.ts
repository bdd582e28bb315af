/**
 * An order in the old XML Webhooks extension's format. Element names, nesting and the meaning of
 * the special rows are what real integrations parse (../shared/reference/mycashflow-api.md §4.3):
 *
 * - `<ProductID>` is a number for a product; shipping and payment costs are rows whose ProductID is
 *   `SHIPPING` / `PAYMENT` and carries a `ShippingID` / `PaymentID` attribute; the discount is a row
 *   whose ProductID carries a `CouponCode` attribute and whose amounts are positive (consumers negate
 *   them: the row *reduces* the total).
 * - Prices include VAT; `UnitPrice vat="…"` is the VAT percent, `UnitTax`/`TotalTax` the tax in them.
 * - `OrderedAt` is the store's local time `YYYY-MM-DD HH:MM:SS` with the unix time in `timestamp`.
 * - `<ShippingMethod id>` and `<PaymentMethod id>` hold the method's name as text, and so do the
 *   shipping and payment rows' `ProductName` (integrations read the names there). An id the store
 *   has no method for gives an empty element and the row names "Shipping" / "Payment".
 *
 * storehook has no product catalogue, so `ProductID` is the row's `product_id` when the order gave
 * one, else derived from the product code: the code itself when it is a number below 10^9,
 * otherwise a stable number ≥ 10^9 hashed from it (the same code always gives the same id).
 * Documented in docs/migrating-from-xml-webhooks.md.
 */
import { createHash } from 'node:crypto';
import type { OrderAggregate } from '../orders/aggregate.js';
import { NO_METHOD_NAMES, type MethodNames } from '../orders/methods.js';
import { zoneFormatter } from '../time.js';
import { el, xmlDocument, type XmlElement } from './xml.js';

export interface OrderXmlOptions {
  /** IANA time zone of the store, for `OrderedAt`. */
  timezone: string;
  /** names of the shipping and payment methods the orders use (src/orders/methods.ts). */
  methods?: MethodNames;
}

const STATUS: Record<string, string> = { OPEN: 'Open', COMPLETED: 'Shipped', CANCELLED: 'Cancelled' };

/** 1234 → "12.34", -5 → "-0.05": exact, from integer cents. */
export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(cents));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** The VAT inside a gross amount at `rateBp` basis points, rounded like the JSON tax summary. */
export function taxIn(grossCents: number, rateBp: number): number {
  return grossCents - Math.round((grossCents * 10_000) / (10_000 + rateBp));
}

function vatPercent(rateBp: number): string {
  return String(rateBp / 100);
}

/** A stable positive 31-bit ProductID for a product code (see the module comment). */
export function productIdFor(code: string): number {
  if (/^[1-9]\d{0,8}$/.test(code)) return Number(code);
  const n = createHash('sha256').update(code, 'utf8').digest().readUInt32BE(0);
  return 1_000_000_000 + (n % 1_147_483_647); // 10^9 … 2^31-1: fits a signed INT column
}

/** `2026-05-02 10:15:00` in `timezone` (falls back to UTC for an unknown zone). */
export function localDateTime(ms: number, timezone: string): string {
  const f = zoneFormatter(timezone);
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The coupon code for the discount row: `custom_data.coupon_code` when the order stored one. */
function couponCode(customData: string | null): string | null {
  if (customData === null) return null;
  const code = parseObject(customData)['coupon_code'];
  return typeof code === 'string' && code.trim() !== '' ? code.trim().slice(0, 100) : null;
}

interface LineInput {
  productId: string;
  idAttr?: Record<string, string>;
  name: string;
  code: string;
  quantity: number;
  unitCents: number;
  rateBp: number;
}

function productRow(l: LineInput): XmlElement {
  const total = l.unitCents * l.quantity;
  return el(
    'Product',
    {},
    el('ProductID', l.idAttr ?? {}, l.productId),
    el('ProductName', {}, l.name),
    el('Code', {}, l.code),
    el('Quantity', {}, String(l.quantity)),
    el('UnitPrice', { vat: vatPercent(l.rateBp) }, money(l.unitCents)),
    el('UnitTax', {}, money(taxIn(l.unitCents, l.rateBp))),
    el('Total', {}, money(total)),
    el('TotalTax', {}, money(taxIn(total, l.rateBp))),
    el('Categories'),
  );
}

function address(a: Record<string, unknown>, withCustomerFields: boolean, customerId: number | null): XmlElement[] {
  const s = (key: string) => (typeof a[key] === 'string' ? (a[key] as string) : '');
  const rows: XmlElement[] = [];
  if (withCustomerFields) rows.push(el('CustomerID', {}, customerId === null ? '' : String(customerId)));
  rows.push(el('FirstName', {}, s('first_name')), el('LastName', {}, s('last_name')), el('Company', {}, s('company')));
  if (withCustomerFields) {
    // storehook keeps no marketing consent: "false" is the safe answer.
    rows.push(el('Email', { allowMarketing: 'false' }, s('email')), el('Phone', { allowMarketing: 'false' }, s('phone')));
  }
  rows.push(el('StreetAddress', {}, s('street_address')), el('ZipCode', {}, s('postal_code')), el('City', {}, s('city')), el('Country', {}, s('country')));
  if (withCustomerFields) rows.push(el('BusinessID', {}, s('vat_code')));
  else rows.push(el('Phone', {}, s('phone')), el('Email', {}, s('email')));
  return rows;
}

/** One `<Order>` element. */
export function orderElement(agg: OrderAggregate, options: OrderXmlOptions): XmlElement {
  const o = agg.order;
  const methods = options.methods ?? NO_METHOD_NAMES;
  const shippingName = o.shipping_method_id === null ? undefined : methods.shipping.get(o.shipping_method_id);
  const paymentName = o.payment_method_id === null ? undefined : methods.payment.get(o.payment_method_id);
  const pickupPoint = agg.shipments.find((s) => s.external_pickup_point_id !== null)?.external_pickup_point_id ?? '';
  // Costs and the discount are taxed at the order's highest product VAT rate (src/orders/totals.ts).
  const topRate = Math.max(0, ...agg.products.map((p) => p.vat_rate_bp));
  const rows: XmlElement[] = agg.products.map((p) =>
    productRow({ productId: String(p.product_id ?? productIdFor(p.product_code)), name: p.product_name, code: p.product_code, quantity: p.quantity, unitCents: p.unit_price_cents, rateBp: p.vat_rate_bp }),
  );
  if (o.shipping_costs_cents !== 0 || o.shipping_method_id !== null) {
    rows.push(productRow({ productId: 'SHIPPING', idAttr: { ShippingID: String(o.shipping_method_id ?? 'default') }, name: shippingName ?? 'Shipping', code: '', quantity: 1, unitCents: o.shipping_costs_cents, rateBp: topRate }));
  }
  if (o.payment_costs_cents !== 0 || o.payment_method_id !== null) {
    rows.push(productRow({ productId: 'PAYMENT', idAttr: { PaymentID: String(o.payment_method_id ?? 'default') }, name: paymentName ?? 'Payment', code: '', quantity: 1, unitCents: o.payment_costs_cents, rateBp: topRate }));
  }
  if (o.discount_cents !== 0) {
    const code = couponCode(o.custom_data);
    rows.push(productRow({ productId: 'DISCOUNT', idAttr: { CouponCode: code ?? 'DISCOUNT' }, name: code ?? 'Discount', code: '', quantity: 1, unitCents: o.discount_cents, rateBp: topRate }));
  }
  return el(
    'Order',
    {},
    el('OrderNumber', {}, String(o.id)),
    el('OrderedAt', { timestamp: Math.floor(o.created_at / 1000) }, localDateTime(o.created_at, options.timezone)),
    el('OrderStatus', {}, STATUS[o.status] ?? o.status),
    el('OrderVersionID', {}, String(o.version_id)),
    el('OrderLanguage', {}, o.language),
    el('CustomerInformation', {}, ...address(parseObject(o.customer_information), true, o.customer_id)),
    el('ShippingAddress', {}, ...address(parseObject(o.shipping_address), false, null)),
    el('ShippingMethod', { id: o.shipping_method_id, PickUpPointCode: pickupPoint }, shippingName ?? ''),
    el('PaymentMethod', { id: o.payment_method_id }, paymentName ?? ''),
    el('Comments', {}, o.details ?? ''),
    el('Products', {}, ...rows),
  );
}

/** The document `get`, `changes` and the automatic POST answer with: `<Orders>` holding `<Order>`s. */
export function ordersDocument(aggs: readonly OrderAggregate[], options: OrderXmlOptions & { timeTo?: number }): string {
  return xmlDocument(el('Orders', { time_to: options.timeTo }, ...aggs.map((a) => orderElement(a, options))));
}
