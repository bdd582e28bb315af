// The order XML of the legacy bridge, byte for byte against golden files (regenerate with
// UPDATE_GOLDEN=1 after a deliberate format change, and read the diff), plus the reading an old
// client does of it: special rows, totals that add up, escaping that survives a strict parser.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { OrderAggregate } from '../../src/orders/aggregate.js';
import { localDateTime, money, ordersDocument, productIdFor, taxIn } from '../../src/legacy/order-xml.js';
import type { MethodNames } from '../../src/orders/methods.js';
import { child, childrenNamed, parseXml, textAt, type XmlTree } from '../helpers/xml-reader.js';

const GOLDEN = new URL('./golden/', import.meta.url);

function golden(name: string, actual: string): void {
  const file = new URL(name, GOLDEN);
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs from the golden file (UPDATE_GOLDEN=1 regenerates it)`);
}

// 2026-05-02T07:15:00Z = 10:15:00 in Helsinki (EEST, +03:00).
const CREATED = Date.UTC(2026, 4, 2, 7, 15, 0);

/** The MyCashflow fields of a product row the XML does not show. */
const NO_EXTRAS = {
  updated_at: CREATED, delivered_at: null, product_id: null, variation_id: null, bundle_id: null, campaign_id: null,
  model_name: null, purchase_price_cents: null, warranty: null, custom_data: null, customizations: null,
};

function aggregate(overrides: Partial<OrderAggregate['order']> = {}, products?: OrderAggregate['products']): OrderAggregate {
  const line = (id: number, code: string, name: string, quantity: number, cents: number, bp: number) => ({
    id, store_id: 1, order_id: 1234, created_at: CREATED, product_code: code, product_name: name, quantity, unit_price_cents: cents, vat_rate_bp: bp, shipment_id: 77, ...NO_EXTRAS,
  });
  const lines = products ?? [line(1, 'TSHIRT-M', 'T-shirt M', 2, 1999, 2550), line(2, '63', 'Sticker', 1, 500, 1400)];
  const subtotal = lines.reduce((s, l) => s + l.quantity * l.unit_price_cents, 0);
  const order = {
    id: 1234, store_id: 1, created_at: CREATED, updated_at: CREATED + 72_000, archived_at: null, shipments_completed_at: null,
    external_id: null, version_id: 2, language: 'fi', customer_id: 12, customer_external_id: null,
    customer_information: JSON.stringify({ company: 'Oy Esimerkki Ab', vat_code: '1234567-8', first_name: 'Maija', last_name: 'Meikäläinen', street_address: 'Katu 1', postal_code: '00100', city: 'Helsinki', country: 'FI', phone: '+358401234567', email: 'maija@example.com' }),
    shipping_address: JSON.stringify({ company: '', first_name: 'Matti', last_name: 'Meikäläinen', street_address: 'Tie 2 B 3', postal_code: '33100', city: 'Tampere', country: 'FI', phone: '+358409876543', email: 'matti@example.com' }),
    different_shipping_address: 1, currency: 'EUR',
    subtotal_cents: subtotal, shipping_costs_cents: 490, payment_costs_cents: 150, discount_cents: 300,
    total_cents: subtotal + 490 + 150 - 300,
    status: 'OPEN' as const, details: 'Please leave at the door', custom_data: JSON.stringify({ coupon_code: 'SUMMER3' }),
    shipping_method_id: 3, payment_method_id: 5, source: 'storefront',
    ...overrides,
  };
  const shipment = {
    id: 77, store_id: 1, order_id: order.id, created_at: CREATED, updated_at: CREATED, completed_at: null, status: 'OPEN' as const, tracking_code: null,
    shipping_method_id: order.shipping_method_id, parcel_count: 1, weight_g: 500, type: null, external_id: null, external_pickup_point_id: '0013579',
  };
  return { order, products: lines, shipments: [shipment], payments: [], comments: [], events: [] };
}

/** The store's method names, as src/orders/methods.ts loads them (3 and 5 are the fixture's ids). */
const METHODS: MethodNames = { shipping: new Map([[3, 'Matkahuolto Lähellä-paketti']]), payment: new Map([[5, 'Lasku & <maksu>']]) };

function products(order: XmlTree): XmlTree[] {
  return childrenNamed(child(order, 'Products'), 'Product');
}

describe('legacy order XML', () => {
  it('matches the golden file for an order with products, shipping, payment and a coupon', () => {
    golden('order-full.xml', ordersDocument([aggregate()], { timezone: 'Europe/Helsinki', methods: METHODS }));
  });

  it('matches the golden file for a changes page (root time_to, two orders, escaping)', () => {
    const tricky = aggregate({
      id: 1235,
      status: 'COMPLETED',
      customer_id: null,
      details: 'Ring <twice> & say "hi" — it\'s ok\r\nline two\u0000\u0007\uFFFE end',
      customer_information: JSON.stringify({ first_name: 'Åsa <b>', last_name: "O'Brien & Co", email: 'a"b@example.com', city: 'Göteborg', country: 'SE' }),
      shipping_address: JSON.stringify({ first_name: 'Åsa <b>', last_name: "O'Brien & Co", street_address: ']]> tag', city: 'Göteborg', country: 'SE' }),
      custom_data: null,
      shipping_method_id: null,
      payment_method_id: null,
      payment_costs_cents: 0,
      language: 'sv',
    }, [{ id: 3, store_id: 1, order_id: 1235, created_at: CREATED, product_code: 'MUG "Large" <XL>', product_name: 'Mug & saucer\u000B', quantity: 3, unit_price_cents: 1250, vat_rate_bp: 2400, shipment_id: null, ...NO_EXTRAS }]);
    golden('changes-page.xml', ordersDocument([aggregate({ status: 'CANCELLED' }), tricky], { timezone: 'Europe/Stockholm', timeTo: 1777706399, methods: METHODS }));
  });

  it('reads the way old clients read it', () => {
    const doc = parseXml(ordersDocument([aggregate()], { timezone: 'Europe/Helsinki', methods: METHODS }));
    assert.equal(doc.name, 'Orders');
    assert.equal(doc.attrs['time_to'], undefined, 'time_to only on changes');
    const [order] = childrenNamed(doc, 'Order');
    assert.ok(order);
    assert.equal(textAt(order, 'OrderNumber'), '1234');
    assert.equal(child(order, 'OrderedAt').attrs['timestamp'], String(CREATED / 1000));
    assert.equal(textAt(order, 'OrderedAt'), '2026-05-02 10:15:00', 'local time of the store');
    assert.equal(textAt(order, 'OrderStatus'), 'Open');
    assert.equal(textAt(order, 'CustomerInformation', 'BusinessID'), '1234567-8');
    assert.equal(child(child(order, 'CustomerInformation'), 'Email').attrs['allowMarketing'], 'false');
    assert.equal(textAt(order, 'ShippingAddress', 'City'), 'Tampere');
    assert.equal(textAt(order, 'Comments'), 'Please leave at the door');

    const rows = products(order);
    const kind = (p: XmlTree) => {
      const id = child(p, 'ProductID');
      return id.attrs['ShippingID'] ? 'shipping' : id.attrs['PaymentID'] ? 'payment' : id.attrs['CouponCode'] ? 'coupon' : 'product';
    };
    assert.deepEqual(rows.map(kind), ['product', 'product', 'shipping', 'payment', 'coupon']);
    assert.equal(textAt(rows[2]!, 'ProductID'), 'SHIPPING');
    // Method names: in the method elements and on the shipping and payment rows; the pickup point from the shipment.
    assert.equal(textAt(order, 'ShippingMethod'), 'Matkahuolto Lähellä-paketti');
    assert.equal(child(order, 'ShippingMethod').attrs['id'], '3');
    assert.equal(child(order, 'ShippingMethod').attrs['PickUpPointCode'], '0013579');
    assert.equal(textAt(order, 'PaymentMethod'), 'Lasku & <maksu>');
    assert.equal(child(order, 'PaymentMethod').attrs['id'], '5');
    assert.equal(textAt(rows[2]!, 'ProductName'), 'Matkahuolto Lähellä-paketti');
    assert.equal(textAt(rows[3]!, 'ProductName'), 'Lasku & <maksu>');
    assert.equal(child(rows[2]!, 'ProductID').attrs['ShippingID'], '3');
    assert.equal(textAt(rows[3]!, 'ProductID'), 'PAYMENT');
    assert.equal(child(rows[4]!, 'ProductID').attrs['CouponCode'], 'SUMMER3');
    assert.equal(textAt(rows[0]!, 'Code'), 'TSHIRT-M');
    assert.equal(child(rows[0]!, 'UnitPrice').attrs['vat'], '25.5');
    assert.equal(textAt(rows[1]!, 'ProductID'), '63', 'a numeric code is its own ProductID');

    // What PUPESOFT does: coupon rows negated, the rest added; the sum is the order total.
    const cents = (s: string) => Math.round(Number(s) * 100);
    const total = rows.reduce((sum, p) => sum + (kind(p) === 'coupon' ? -1 : 1) * cents(textAt(p, 'Total')), 0);
    assert.equal(total, aggregate().order.total_cents);
    for (const p of rows) {
      assert.equal(cents(textAt(p, 'Total')), cents(textAt(p, 'UnitPrice')) * Number(textAt(p, 'Quantity')));
      assert.ok(cents(textAt(p, 'TotalTax')) < cents(textAt(p, 'Total')));
    }
  });

  it('escapes markup and drops characters XML 1.0 forbids, so a strict parser reads the data back', () => {
    const agg = aggregate({ details: 'a < b & "c" \'d\' ]]> e\r\nf\u0000g\u001Fh\uD800i\uFFFFj' });
    const xml = ordersDocument([agg], { timezone: 'UTC' });
    const order = child(parseXml(xml), 'Order');
    assert.equal(textAt(order, 'Comments'), 'a < b & "c" \'d\' ]]> e\r\nfghij');
  });

  it('writes the special rows only when they carry something', () => {
    const order = child(parseXml(ordersDocument([aggregate({ shipping_costs_cents: 0, shipping_method_id: null, payment_costs_cents: 0, payment_method_id: null, discount_cents: 0 })], { timezone: 'UTC' })), 'Order');
    assert.deepEqual(products(order).map((p) => textAt(p, 'ProductID')), [String(productIdFor('TSHIRT-M')), '63']);
    const free = child(parseXml(ordersDocument([aggregate({ shipping_costs_cents: 0, custom_data: '"not an object"' })], { timezone: 'UTC' })), 'Order');
    const rows = products(free).map((p) => child(p, 'ProductID'));
    assert.equal(rows.find((r) => r.text === 'SHIPPING')?.attrs['ShippingID'], '3', 'free shipping with a method still has its row');
    assert.equal(rows.find((r) => r.text === 'DISCOUNT')?.attrs['CouponCode'], 'DISCOUNT', 'no coupon code stored: a non-empty placeholder');
  });

  it('leaves a method element empty and names the row generically when the store has no such method', () => {
    const order = child(parseXml(ordersDocument([aggregate({ shipping_method_id: 99 })], { timezone: 'UTC', methods: METHODS })), 'Order');
    assert.equal(textAt(order, 'ShippingMethod'), '');
    assert.equal(child(order, 'ShippingMethod').attrs['id'], '99');
    const shipping = products(order).find((p) => child(p, 'ProductID').attrs['ShippingID'] === '99')!;
    assert.equal(textAt(shipping, 'ProductName'), 'Shipping');
    assert.equal(textAt(order, 'PaymentMethod'), 'Lasku & <maksu>');
  });

  it("uses the row's product_id as ProductID when the order gave one", () => {
    const base = aggregate();
    const lines = base.products.map((p, i) => (i === 0 ? { ...p, product_id: 4711 } : p));
    const order = child(parseXml(ordersDocument([{ ...base, products: lines }], { timezone: 'UTC' })), 'Order');
    assert.deepEqual(products(order).slice(0, 2).map((p) => textAt(p, 'ProductID')), ['4711', '63']);
  });

  it('maps statuses as old clients expect', () => {
    const status = (s: 'OPEN' | 'COMPLETED' | 'CANCELLED') => textAt(child(parseXml(ordersDocument([aggregate({ status: s })], { timezone: 'UTC' })), 'Order'), 'OrderStatus');
    assert.deepEqual([status('OPEN'), status('COMPLETED'), status('CANCELLED')], ['Open', 'Shipped', 'Cancelled']);
  });
});

describe('legacy order XML helpers', () => {
  it('formats money exactly from cents', () => {
    assert.deepEqual([money(0), money(5), money(1234), money(-5), money(100_000_000_00)], ['0.00', '0.05', '12.34', '-0.05', '100000000.00']);
  });

  it('computes the tax inside gross prices like the JSON tax summary', () => {
    assert.equal(taxIn(1999, 2550), 406);
    assert.equal(taxIn(1000, 0), 0);
    assert.equal(taxIn(12400, 2400), 2400);
  });

  it('derives stable, 31-bit product ids', () => {
    assert.equal(productIdFor('63'), 63);
    assert.equal(productIdFor('TSHIRT-M'), productIdFor('TSHIRT-M'));
    assert.notEqual(productIdFor('TSHIRT-M'), productIdFor('TSHIRT-L'));
    for (const code of ['0', '007', '1000000000', 'x', 'ä', '']) {
      const id = productIdFor(code);
      assert.ok(Number.isInteger(id) && id >= 1_000_000_000 && id < 2 ** 31, `${code} → ${id}`);
    }
  });

  it('writes local time in the store time zone, across DST', () => {
    assert.equal(localDateTime(Date.UTC(2026, 0, 15, 12, 0, 0), 'Europe/Helsinki'), '2026-01-15 14:00:00');
    assert.equal(localDateTime(Date.UTC(2026, 6, 15, 12, 0, 0), 'Europe/Helsinki'), '2026-07-15 15:00:00');
    assert.equal(localDateTime(Date.UTC(2026, 6, 15, 0, 0, 5), 'UTC'), '2026-07-15 00:00:05');
    assert.equal(localDateTime(Date.UTC(2026, 6, 15, 0, 0, 5), 'Not/AZone'), '2026-07-15 00:00:05', 'unknown zone: UTC');
  });
});
