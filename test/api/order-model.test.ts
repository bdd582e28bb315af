// MyCashflow clients run unchanged: the nested expand products.return_reasons on v0 and v1 (lists,
// single orders, webhook subscriptions), and every field of MyCashflow's order model with its name
// and type — on the order, its products, shipments and payments — in the API, in webhook messages,
// through the typed client, accepted on create where storehook has a value for it.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Value } from 'typebox/value';
import { One } from '../../src/api/schemas/common.js';
import { Order } from '../../src/orders/contract.js';
import { StorehookClient, type Order as ClientOrder, type OrderProduct as ClientProduct, type Payment as ClientPayment, type Shipment as ClientShipment } from '../../src/client/index.js';
import { forEachDialect } from '../helpers/database.js';
import { api, createOrder, ORDER_BODY, PUBLIC_TARGET, startHarness, subscribe, type Harness } from '../helpers/webhooks-app.js';

const CLIENT_EXPAND = 'payments,products,products.return_reasons,shipments,tax_summary,comments,events';

/** Each new field and the JSON types it may have (MyCashflow's names; null where storehook has no value). */
const ORDER_FIELDS: Record<string, string[]> = {
  customer_external_id: ['string', 'null'],
  receipt_url: ['string', 'null'],
  return_document_url: ['string', 'null'],
  dispatch_note_url: ['string', 'null'],
};
const PRODUCT_FIELDS: Record<string, string[]> = {
  updated_at: ['string'],
  delivered_at: ['string', 'null'],
  product_id: ['integer', 'null'],
  variation_id: ['integer', 'null'],
  bundle_id: ['integer', 'null'],
  campaign_id: ['integer', 'null'],
  purchase_price: ['number', 'null'],
  model_name: ['string', 'null'],
  warranty: ['string', 'null'],
  custom_data: ['string', 'null'],
  return_to_stock: ['boolean', 'null'],
  download_id: ['integer', 'null'],
  download_url: ['string', 'null'],
  download_time_ends: ['string', 'null'],
  download_times_left: ['integer', 'null'],
  customizations: ['string', 'null'],
};
const SHIPMENT_FIELDS: Record<string, string[]> = {
  type: ['string', 'null'],
  external_id: ['string', 'null'],
  external_pickup_point_id: ['string', 'null'],
  shipping_label_url: ['string', 'null'],
  documents: ['array'],
};
const PAYMENT_FIELDS: Record<string, string[]> = {
  external_id: ['string', 'null'],
  exchange_rate: ['number', 'null'],
  is_confirmed: ['boolean'],
};

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function assertFields(where: string, object: Record<string, unknown>, fields: Record<string, string[]>): void {
  for (const [name, types] of Object.entries(fields)) {
    assert.ok(name in object, `${where} lacks ${name}`);
    const t = jsonType(object[name]);
    // an integer is a valid number too
    assert.ok(types.includes(t) || (t === 'integer' && types.includes('number')), `${where}.${name} is ${t}, expected ${types.join(' or ')}`);
  }
}

const FULL_BODY = {
  ...ORDER_BODY,
  customer_external_id: 'CRM-77',
  shipping_method_id: 2,
  payment_method_id: 1,
  products: [
    {
      product_code: 'A-1', product_name: 'Widget', quantity: 2, unit_price: 10.5,
      product_id: 63, variation_id: 2, bundle_id: 5, campaign_id: 9, model_name: 'W-2000', purchase_price: 4.2,
      warranty: '24 months', custom_data: '{"erp_line":7}', customizations: 'Engraving: MK',
    },
    { product_code: 'B-2', product_name: 'Gadget', quantity: 1, unit_price: 3.25, vat_rate: 14 },
  ],
  shipment: { tracking_code: null, type: 'pickup', external_id: 'SHIP-1', external_pickup_point_id: '00100-PP' },
  payment: { status: 'PENDING_ACTIVATION', reference: 'R-1', external_id: 'KCO-abc', exchange_rate: 1.0842 },
};

forEachDialect('MyCashflow order model', (dialect) => {
  let h: Harness;
  let orderId: number;
  before(async () => {
    h = await startHarness(dialect);
    orderId = await createOrder(h);
  });
  after(async () => {
    await h?.close();
  });

  describe('nested expands', () => {
    it('accepts a MyCashflow client\'s default expand on v0 and v1, lists and single orders', async () => {
      for (const prefix of ['/api/v0', '/api/v1']) {
        for (const url of [`${prefix}/orders?expand=${CLIENT_EXPAND}`, `${prefix}/orders/${orderId}?expand=${CLIENT_EXPAND}`]) {
          const res = await api(h, 'GET', url);
          assert.equal(res.status, 200, `${url}: ${JSON.stringify(res.body)}`);
          const orders = Array.isArray(res.body.data) ? res.body.data : [res.body.data];
          assert.ok(orders.length > 0);
          for (const o of orders) {
            assert.ok(o.products.length > 0 && o.shipments && o.payments && o.tax_summary && o.comments && o.events, url);
            for (const p of o.products) assert.deepEqual(p.return_reasons, [], `${url}: return_reasons is an empty array until returns exist`);
          }
        }
      }
    });

    it('products.return_reasons alone brings the products with their reasons; products alone has no reasons', async () => {
      const nested = await api(h, 'GET', `/api/v1/orders/${orderId}?expand=products.return_reasons`);
      assert.equal(nested.status, 200);
      assert.equal(nested.body.data.products.length, 2);
      assert.deepEqual(nested.body.data.products.map((p: { return_reasons: unknown[] }) => p.return_reasons), [[], []]);
      const plain = await api(h, 'GET', `/api/v1/orders/${orderId}?expand=products`);
      assert.ok(plain.body.data.products.every((p: object) => !('return_reasons' in p)));
      const bad = await api(h, 'GET', `/api/v1/orders/${orderId}?expand=products.reasons`);
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /products\.return_reasons/);
    });

    it('a webhook subscription may ask for products.return_reasons, and its messages carry them', async () => {
      const sub = await subscribe(h, 'order.created', PUBLIC_TARGET, ['products.return_reasons', 'payments', 'shipments']);
      assert.deepEqual(sub.expands, ['products.return_reasons', 'payments', 'shipments']);
      const id = await createOrder(h, FULL_BODY);
      const row = await h.database.kysely.selectFrom('webhook_messages').select('body').where('subscription_uuid', '=', sub.uuid).where('order_id', '=', id).executeTakeFirstOrThrow();
      const data = JSON.parse(row.body).data;
      assert.deepEqual(data.products.map((p: { return_reasons: unknown[] }) => p.return_reasons), [[], []]);
      // the message renders the same order as the API, new fields included
      assert.equal(data.customer_external_id, 'CRM-77');
      assertFields('message.products[0]', data.products[0], PRODUCT_FIELDS);
      assertFields('message.shipments[0]', data.shipments[0], SHIPMENT_FIELDS);
      assertFields('message.payments[0]', data.payments[0], PAYMENT_FIELDS);
      assert.equal(data.payments[0].is_confirmed, true);
      const fromApi = await api(h, 'GET', `/api/v1/orders/${id}?expand=products.return_reasons,payments,shipments`);
      assert.deepEqual(data, fromApi.body.data);
    });
  });

  describe('order fields', () => {
    it('every new field is present with MyCashflow\'s type, and the answer matches the OpenAPI schema', async () => {
      const res = await api(h, 'GET', `/api/v1/orders/${orderId}?expand=${CLIENT_EXPAND}`);
      assert.equal(res.status, 200);
      const o = res.body.data;
      assertFields('order', o, ORDER_FIELDS);
      for (const p of o.products) assertFields('products[]', p, PRODUCT_FIELDS);
      for (const s of o.shipments) assertFields('shipments[]', s, SHIPMENT_FIELDS);
      for (const p of o.payments) assertFields('payments[]', p, PAYMENT_FIELDS);
      assert.ok(Value.Check(One(Order), res.body), JSON.stringify([...Value.Errors(One(Order), res.body)].slice(0, 3)));
      // No documents, downloads or returns in storehook: null, never a made-up value.
      assert.equal(o.receipt_url, null);
      assert.equal(o.products[0].download_url, null);
      assert.deepEqual(o.shipments[0].documents, []);

      const doc = (await api(h, 'GET', '/api/v1/openapi.json')).body;
      const schema = doc.paths['/api/v1/orders/{id}'].get.responses['200'].content['application/json'].schema;
      // Named schemas are components (`$ref`s): follow them.
      const resolve = (node: { $ref?: string }) => (node.$ref ? doc.components.schemas[node.$ref.split('/').pop()!] : node);
      const order = resolve(schema.properties.data);
      const [product, shipment, payment] = ['products', 'shipments', 'payments'].map((part) => resolve(order.properties[part].items));
      for (const name of Object.keys(ORDER_FIELDS)) assert.ok(order.properties[name], `OpenAPI order lacks ${name}`);
      for (const name of Object.keys(PRODUCT_FIELDS)) assert.ok(product.properties[name], `OpenAPI product lacks ${name}`);
      for (const name of Object.keys(SHIPMENT_FIELDS)) assert.ok(shipment.properties[name], `OpenAPI shipment lacks ${name}`);
      for (const name of Object.keys(PAYMENT_FIELDS)) assert.ok(payment.properties[name], `OpenAPI payment lacks ${name}`);
      // OpenAPI 3.1 (JSON Schema) spells "string or null" as a union with the null type.
      assert.deepEqual(product.properties.custom_data.anyOf.map((s: { type: string }) => s.type), ['string', 'null']);
      assert.equal(payment.properties.is_confirmed.type, 'boolean');
    });

    it('accepts the new fields on create, stores them and reads them back', async () => {
      const id = await createOrder(h, FULL_BODY);
      const o = (await api(h, 'GET', `/api/v0/orders/${id}?expand=products,shipments,payments`)).body.data;
      assert.equal(o.customer_external_id, 'CRM-77');
      const p = o.products[0];
      assert.deepEqual(
        [p.product_id, p.variation_id, p.bundle_id, p.campaign_id, p.model_name, p.purchase_price, p.warranty, p.custom_data, p.customizations],
        [63, 2, 5, 9, 'W-2000', 4.2, '24 months', '{"erp_line":7}', 'Engraving: MK'],
      );
      assert.equal(p.updated_at, p.created_at);
      assert.equal(p.delivered_at, null);
      assert.deepEqual([o.products[1].product_id, o.products[1].custom_data, o.products[1].purchase_price], [null, null, null]);
      const s = o.shipments[0];
      assert.deepEqual([s.type, s.external_id, s.external_pickup_point_id], ['pickup', 'SHIP-1', '00100-PP']);
      const pay = o.payments[0];
      assert.deepEqual([pay.external_id, pay.exchange_rate, pay.status, pay.is_confirmed, pay.is_paid], ['KCO-abc', 1.0842, 'PENDING_ACTIVATION', true, false]);

      const patched = await api(h, 'PATCH', `/api/v1/orders/${id}`, { customer_external_id: 'CRM-78' });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.data.customer_external_id, 'CRM-78');
    });

    it("refuses a product row's custom_data that is not a string (MyCashflow types it as one)", async () => {
      const res = await api(h, 'POST', '/api/v1/orders', { ...ORDER_BODY, products: [{ ...ORDER_BODY.products[0], custom_data: { erp: 1 } }] });
      assert.equal(res.status, 400);
      assert.match(JSON.stringify(res.body), /custom_data/);
    });

    it('is_confirmed is true once the payment is received, and is_paid once it is PAID', async () => {
      const id = await createOrder(h, { payment: { status: 'OPEN' } });
      const before = (await api(h, 'GET', `/api/v1/orders/${id}?expand=payments`)).body.data.payments[0];
      assert.deepEqual([before.is_confirmed, before.is_paid], [false, false]);
      const paid = await api(h, 'POST', `/api/v1/orders/${id}/payments/${before.id}/mark-as-paid`);
      assert.equal(paid.status, 200);
      assert.deepEqual([paid.body.data.is_confirmed, paid.body.data.is_paid], [true, true]);
    });

    it("a product row is delivered (delivered_at, updated_at) when its shipment is completed", async () => {
      const id = await createOrder(h);
      const o = (await api(h, 'GET', `/api/v1/orders/${id}?expand=shipments`)).body.data;
      const done = await api(h, 'POST', `/api/v1/orders/${id}/shipments/${o.shipments[0].id}/complete`, { tracking_code: 'JJFI1' });
      assert.equal(done.status, 200);
      const after = (await api(h, 'GET', `/api/v1/orders/${id}?expand=products`)).body.data;
      for (const p of after.products) {
        assert.equal(p.delivered_at, done.body.data.completed_at);
        assert.equal(p.updated_at, done.body.data.completed_at);
      }
    });
  });

  describe('typed client', () => {
    it('reads the new fields with their types through storehook/client', async () => {
      // Listening on a real port; the harness's close() closes it.
      await h.app.listen({ host: '127.0.0.1', port: 0 });
      {
        const { port } = h.app.server.address() as AddressInfo;
        const client = new StorehookClient({ baseUrl: `http://127.0.0.1:${port}`, email: h.email, apiKey: h.apiKey });
        const created: ClientOrder = await client.orders.create(FULL_BODY as Parameters<typeof client.orders.create>[0]);
        const order = await client.orders.get(created.id, { expand: ['products.return_reasons', 'shipments', 'payments'] });
        // Typed reads: these lines only compile if the client's types carry the fields.
        const externalId: string | null = order.customer_external_id;
        const receipt: string | null = order.receipt_url;
        const product: ClientProduct = order.products![0]!;
        const custom: string | null = product.custom_data;
        const reasons: unknown[] | undefined = product.return_reasons;
        const productId: number | null = product.product_id;
        const shipment: ClientShipment = order.shipments![0]!;
        const pickup: string | null = shipment.external_pickup_point_id;
        const payment: ClientPayment = order.payments![0]!;
        const confirmed: boolean = payment.is_confirmed;
        const rate: number | null = payment.exchange_rate;
        assert.deepEqual([externalId, receipt, custom, reasons, productId, pickup, confirmed, rate], ['CRM-77', null, '{"erp_line":7}', [], 63, '00100-PP', true, 1.0842]);
        let listedWithReasons = 0;
        for await (const o of client.orders.listAll({ expand: ['products.return_reasons'], page_size: 2 })) {
          if (o.products?.every((p) => Array.isArray(p.return_reasons))) listedWithReasons++;
        }
        assert.ok(listedWithReasons >= 2);
      }
    });
  });
});
