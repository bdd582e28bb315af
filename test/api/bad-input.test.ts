// Bad input: every refusal is a 4xx JSON error naming the field, never a 5xx, and a
// refused request changes nothing. Ends with a property check over arbitrary JSON bodies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { call, createOrder, createTestApp, errorBody, orderBody, type TestApp } from '../helpers/app.js';
import { forEachDialect } from '../helpers/database.js';

const q = (value: string) => encodeURIComponent(value);

/** Asserts a 400 (or `status`) JSON error whose errors[] names `field` (and the message mentions it). */
function assertRefused(res: LightMyRequestResponse, field: string | RegExp, status = 400): void {
  assert.equal(res.statusCode, status, `expected ${status} naming ${field}, got ${res.statusCode}: ${res.body.slice(0, 400)}`);
  const body = errorBody(res);
  const fields = (body.errors ?? []).map((e) => e.field);
  const matches = (f: string) => (typeof field === 'string' ? f === field : field.test(f));
  assert.ok(fields.some(matches), `errors[] should name ${field}; got ${JSON.stringify(body.errors)} (${body.message})`);
  const first = body.errors!.find((e) => matches(e.field))!;
  assert.ok(first.message.length > 3, 'each field error says what is allowed');
  assert.ok(body.message.includes(first.field), `message should name the field: ${body.message}`);
}

/** A valid order body with one product changed. */
const withProduct = (change: Record<string, unknown>) => orderBody({ products: [{ product_code: 'A', product_name: 'Alpha', quantity: 1, unit_price: 9.99, ...change }] });

forEachDialect('bad input', (dialect) => {
  let t: TestApp;
  let orderId: number;
  let shipmentId: number;
  let paymentId: number;
  const orderCount = async () => (await call(t.app, t.auth, 'GET', '/api/v1/orders?page_size=1')).json().meta.item_count as number;
  const stored = async () => (await call(t.app, t.auth, 'GET', `/api/v1/orders/${orderId}?expand=products,shipments,payments,comments,events`)).json().data;

  before(async () => {
    t = await createTestApp(dialect);
    const o = await createOrder(t.app, t.auth);
    orderId = o.id;
    shipmentId = o.shipmentId;
    paymentId = o.paymentId;
  });
  after(async () => {
    await t?.close();
  });

  /** Sends a raw POST /orders; returns the answer. */
  const rawPost = (payload: string | Buffer, contentType?: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/orders', headers: { authorization: t.auth, ...(contentType ? { 'content-type': contentType } : {}) }, payload });

  describe('the body as a whole', () => {
    it('answers malformed JSON with 400 saying it is not valid JSON', async () => {
      const n = await orderCount();
      for (const payload of ['{', '{"products": [}', "{'a': 1}", '{"a": 1,}', 'nul', '{"a": 1} trailing', '\u0000']) {
        const res = await rawPost(payload, 'application/json');
        assert.equal(res.statusCode, 400, payload);
        assert.match(errorBody(res).message, /JSON/);
      }
      assert.equal(await orderCount(), n);
    });

    it('answers a JSON value that is not an object with 400', async () => {
      for (const payload of ['[]', '"order"', '42', 'null', 'true', '[{"products": []}]']) {
        const res = await rawPost(payload, 'application/json');
        assert.equal(res.statusCode, 400, `${payload}: ${res.body}`);
        errorBody(res);
      }
    });

    it('answers an empty body to POST /orders with 400 naming the required fields', async () => {
      const res = await rawPost('', 'application/json');
      assert.equal(res.statusCode, 400);
      errorBody(res);
      const empty = await call(t.app, t.auth, 'POST', '/api/v1/orders', {});
      assertRefused(empty, 'products');
      assertRefused(empty, 'customer_information');
    });

    it('answers a content type other than JSON with 415', async () => {
      const n = await orderCount();
      const json = JSON.stringify(orderBody());
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/html']) {
        const res = await rawPost(json, type);
        assert.equal(res.statusCode, 415, `${type}: ${res.body}`);
        assert.match(errorBody(res).message, /application\/json/);
      }
      assert.equal(await orderCount(), n);
    });

    it('accepts application/json with a charset, and application/json in any case', async () => {
      const a = await rawPost(JSON.stringify(orderBody()), 'application/json; charset=utf-8');
      assert.equal(a.statusCode, 200, a.body);
      const b = await rawPost(JSON.stringify(orderBody()), 'Application/JSON');
      assert.equal(b.statusCode, 200, b.body);
    });

    it('answers a body over 1 MiB with 413, and one just under with a normal answer', async () => {
      const n = await orderCount();
      const big = JSON.stringify(orderBody({ details: 'x'.repeat(1024 * 1024) }));
      const res = await rawPost(big, 'application/json');
      assert.equal(res.statusCode, 413);
      assert.match(errorBody(res).message, /1 MiB/);
      // just under 1 MiB: not a 413, but the schema's limits (custom_data ≤ 64 KiB) still apply
      const near = JSON.stringify(orderBody({ custom_data: 'y'.repeat(1024 * 1024 - 1024) }));
      assert.ok(near.length < 1024 * 1024);
      assertRefused(await rawPost(near, 'application/json'), 'custom_data');
      assert.equal(await orderCount(), n);
    });

    it('refuses deeply nested custom_data without a 5xx', async () => {
      const n = await orderCount();
      const depth = 100_000;
      const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const payload = JSON.stringify(orderBody({ custom_data: 'PLACEHOLDER' })).replace('"PLACEHOLDER"', nested);
      const res = await rawPost(payload, 'application/json');
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${res.statusCode}: ${res.body.slice(0, 300)}`);
      errorBody(res);
      assert.equal(await orderCount(), n);
    });
  });

  describe('fields of POST /orders', () => {
    const cases: [string, Record<string, unknown>, string | RegExp][] = [
      // wrong types
      ['quantity as a string', withProduct({ quantity: '3' }), 'products.0.quantity'],
      ['quantity as a boolean', withProduct({ quantity: true }), 'products.0.quantity'],
      ['quantity as an array', withProduct({ quantity: [3] }), 'products.0.quantity'],
      ['quantity null', withProduct({ quantity: null }), 'products.0.quantity'],
      ['unit_price as a string', withProduct({ unit_price: '9.99' }), 'products.0.unit_price'],
      ['product_name as a number', withProduct({ product_name: 5 }), 'products.0.product_name'],
      ['products as an object', orderBody({ products: { product_code: 'A' } }), 'products'],
      ['products empty', orderBody({ products: [] }), 'products'],
      ['customer_information as a string', orderBody({ customer_information: 'Maija' }), 'customer_information'],
      ['customer_information.city as a number', orderBody({ customer_information: { city: 358 } }), 'customer_information.city'],
      ['external_id as a number', orderBody({ external_id: 77 }), 'external_id'],
      ['details as an object', orderBody({ details: { a: 1 } }), 'details'],
      ['custom_data as a number', orderBody({ custom_data: 5 }), 'custom_data'],
      ['custom_data as a boolean', orderBody({ custom_data: true }), 'custom_data'],
      ['shipping_costs as a string', orderBody({ shipping_costs: '4.90' }), 'shipping_costs'],
      ['currency lower case', orderBody({ currency: 'eur' }), 'currency'],
      ['language too long', orderBody({ language: 'fin' }), 'language'],
      ['payment.status REFUNDED', orderBody({ payment: { status: 'REFUNDED' } }), 'payment.status'],
      ['shipment.parcel_count 0', orderBody({ shipment: { parcel_count: 0 } }), 'shipment.parcel_count'],
      ['version_id fractional', orderBody({ version_id: 1.5 }), 'version_id'],
      // unknown fields (rejected, named)
      ['an unknown top-level field', orderBody({ total: 1 }), 'total'],
      ['an unknown product field', withProduct({ color: 'red' }), 'products.0.color'],
      ['an unknown customer field', orderBody({ customer_information: { age: 30 } }), 'customer_information.age'],
      ['an unknown shipment field', orderBody({ shipment: { carrier: 'posti' } }), 'shipment.carrier'],
      ['an unknown payment field', orderBody({ payment: { amount: 1 } }), 'payment.amount'],
      // quantities
      ['a negative quantity', withProduct({ quantity: -1 }), 'products.0.quantity'],
      ['a zero quantity', withProduct({ quantity: 0 }), 'products.0.quantity'],
      ['a fractional quantity', withProduct({ quantity: 1.5 }), 'products.0.quantity'],
      ['a huge quantity', withProduct({ quantity: 1e12 }), 'products.0.quantity'],
      // money
      ['a unit_price with 3 decimals', withProduct({ unit_price: 1.005 }), 'products.0.unit_price'],
      ['a negative unit_price', withProduct({ unit_price: -1 }), 'products.0.unit_price'],
      ['a huge unit_price', withProduct({ unit_price: 1e20 }), 'products.0.unit_price'],
      ['shipping_costs with 3 decimals', orderBody({ shipping_costs: 4.999 }), 'shipping_costs'],
      ['payment_costs with 3 decimals', orderBody({ payment_costs: 0.001 }), 'payment_costs'],
      ['discount with 3 decimals', orderBody({ discount: 0.125 }), 'discount'],
      ['a vat_rate with 3 decimals', withProduct({ vat_rate: 25.555 }), 'products.0.vat_rate'],
      ['a vat_rate over 100', withProduct({ vat_rate: 101 }), 'products.0.vat_rate'],
      // long strings
      ['a 501-character product_name', withProduct({ product_name: 'n'.repeat(501) }), 'products.0.product_name'],
      ['a 101-character product_code', withProduct({ product_code: 'c'.repeat(101) }), 'products.0.product_code'],
      ['a 5001-character details', orderBody({ details: 'd'.repeat(5001) }), 'details'],
      ['a 201-character external_id', orderBody({ external_id: 'e'.repeat(201) }), 'external_id'],
      ['a 201-character first_name', orderBody({ customer_information: { first_name: 'f'.repeat(201) } }), 'customer_information.first_name'],
      ['a 3-letter country', orderBody({ customer_information: { country: 'FIN' } }), 'customer_information.country'],
      ['501 products', orderBody({ products: Array.from({ length: 501 }, (_, i) => ({ product_code: `P${i}`, product_name: 'p', quantity: 1, unit_price: 1 })) }), 'products'],
      // control characters and lone surrogates
      ['a NUL in product_name', withProduct({ product_name: 'Alpha\u0000' }), 'products.0.product_name'],
      ['an ESC in the city', orderBody({ customer_information: { city: 'Hel\u001bsinki' } }), 'customer_information.city'],
      ['a DEL in details', orderBody({ details: 'a\u007fb' }), 'details'],
      ['a lone high surrogate in details', orderBody({ details: 'broken \ud800 text' }), 'details'],
      ['a lone low surrogate in external_id', orderBody({ external_id: '\udc00' }), 'external_id'],
      ['a NUL inside custom_data', orderBody({ custom_data: { note: ['ok', 'bad\u0000'] } }), /^custom_data/],
      ['a NUL in a custom_data key', orderBody({ custom_data: { 'k\u0000': 1 } }), /^custom_data/],
      ['custom_data over 64 KiB as an object', orderBody({ custom_data: { note: 'z'.repeat(70_000) } }), 'custom_data'],
      ['custom_data over 64 KiB as an array', orderBody({ custom_data: Array.from({ length: 20_000 }, () => 1234) }), 'custom_data'],
    ];
    for (const [what, body, field] of cases) {
      it(`refuses ${what}, naming ${field}, and creates nothing`, async () => {
        const n = await orderCount();
        assertRefused(await call(t.app, t.auth, 'POST', '/api/v1/orders', body), field);
        assert.equal(await orderCount(), n);
      });
    }

    it('reports every wrong field at once', async () => {
      const res = await call(t.app, t.auth, 'POST', '/api/v1/orders', orderBody({ currency: 'eur', language: 'x', products: [{ product_code: '', product_name: 'p', quantity: 0, unit_price: -1 }] }));
      assert.equal(res.statusCode, 400);
      const fields = errorBody(res).errors!.map((e) => e.field);
      for (const f of ['currency', 'language', 'products.0.product_code', 'products.0.quantity', 'products.0.unit_price']) assert.ok(fields.includes(f), `${f} in ${fields}`);
    });

    it('keeps valid unicode exactly: accents, emoji, right-to-left, combining marks, tab and newline', async () => {
      const text = 'Ääkkönen 🛒 שלום e\u0301 tab\there\nline2 \u{1F1EB}\u{1F1EE}';
      const o = await createOrder(t.app, t.auth, { details: text, customer_information: { first_name: 'Zoë', city: '東京' }, products: [{ product_code: 'Ü-1', product_name: text, quantity: 1, unit_price: 1 }] });
      const back = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}?expand=products`)).json().data;
      assert.equal(back.details, text);
      assert.equal(back.products[0].product_name, text);
      assert.equal(back.customer_information.first_name, 'Zoë');
      assert.equal(back.customer_information.city, '東京');
    });

    it('accepts custom_data at the 64 KiB limit, as a string and as an object', async () => {
      const a = await createOrder(t.app, t.auth, { custom_data: 's'.repeat(65_536) });
      assert.equal((a.data.custom_data as string).length, 65_536);
      const obj = { k: 'o'.repeat(65_536 - 8) }; // {"k":"…"} is 65 536 characters
      assert.equal(JSON.stringify(obj).length, 65_536);
      const b = await createOrder(t.app, t.auth, { custom_data: obj });
      assert.deepEqual(b.data.custom_data, obj);
    });

    it('keeps null as null in nullable fields (external_id, details)', async () => {
      const o = await createOrder(t.app, t.auth, { external_id: null, details: null });
      assert.equal(o.data.external_id, null);
      assert.equal(o.data.details, null);
      const back = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}`)).json().data;
      assert.equal(back.external_id, null);
      assert.equal(back.details, null);
    });
  });

  describe('other bodies', () => {
    it('refuses bad PATCH bodies and leaves the order as it was', async () => {
      const before = await stored();
      const bad: [unknown, string][] = [
        [{ status: 'COMPLETED' }, 'status'],
        [{ subtotal: 1 }, 'subtotal'],
        [{ details: 5 }, 'details'],
        [{ details: 'ok', external_id: 'x'.repeat(201) }, 'external_id'],
        [{ customer_information: { city: 'a\u0000' } }, 'customer_information.city'],
        [{ shipping_address: { vat_code: 'FI1' } }, 'shipping_address.vat_code'],
        [{ custom_data: 3 }, 'custom_data'],
        [{ custom_data: { big: 'b'.repeat(70_000) } }, 'custom_data'],
      ];
      for (const [body, field] of bad) assertRefused(await call(t.app, t.auth, 'PATCH', `/api/v1/orders/${orderId}`, body), field);
      assert.deepEqual(await stored(), before);
    });

    it('refuses bad comment bodies and adds no comment', async () => {
      const before = await stored();
      const bad: [unknown, string][] = [
        [{}, 'text'],
        [{ text: '' }, 'text'],
        [{ text: 5 }, 'text'],
        [{ text: 't'.repeat(10_001) }, 'text'],
        [{ text: 'hi', visibility: 'SECRET' }, 'visibility'],
        [{ text: 'hi', visibility: 'public' }, 'visibility'],
        [{ text: 'hi', author: 'me' }, 'author'],
        [{ text: 'bell\u0007' }, 'text'],
        [{ text: '\ud83d' }, 'text'],
      ];
      for (const [body, field] of bad) assertRefused(await call(t.app, t.auth, 'POST', `/api/v1/orders/${orderId}/comments`, body), field);
      assert.deepEqual(await stored(), before);
    });

    it('refuses bad quick-process and complete bodies and changes nothing', async () => {
      const before = await stored();
      const cases: [string, unknown, string][] = [
        [`/api/v1/orders/${orderId}/quick-process`, { send_emails: 'yes' }, 'send_emails'],
        [`/api/v1/orders/${orderId}/quick-process`, { allow_open_cash_on_delivery_payments: 1 }, 'allow_open_cash_on_delivery_payments'],
        [`/api/v1/orders/${orderId}/quick-process`, { tracking_code: 't'.repeat(201) }, 'tracking_code'],
        [`/api/v1/orders/${orderId}/quick-process`, { tracking_code: 'T\u0000' }, 'tracking_code'],
        [`/api/v1/orders/${orderId}/shipments/${shipmentId}/complete`, { tracking_code: 12345 }, 'tracking_code'],
        [`/api/v1/orders/${orderId}/shipments/${shipmentId}/complete`, { carrier: 'x' }, 'carrier'],
      ];
      for (const [url, body, field] of cases) assertRefused(await call(t.app, t.auth, 'POST', url, body), field);
      assert.deepEqual(await stored(), before);
    });
  });

  describe('paths and query strings', () => {
    it('answers non-integer ids with 400 naming the id', async () => {
      const paths: [string, string][] = [
        ['/api/v1/orders/abc', 'id'],
        ['/api/v1/orders/1.5', 'id'],
        ['/api/v1/orders/-1', 'id'],
        ['/api/v1/orders/0', 'id'],
        ['/api/v1/orders/1e3', 'id'],
        ['/api/v1/orders/0x10', 'id'],
        ['/api/v1/orders/%20', 'id'],
        ['/api/v1/orders/12345678901234567890', 'id'],
        [`/api/v1/orders/${orderId}/shipments/abc`, 'sid'],
        [`/api/v1/orders/${orderId}/payments/1.0`, 'pid'],
        ['/api/v0/orders/abc', 'id'],
      ];
      for (const [path, field] of paths) assertRefused(await call(t.app, t.auth, 'GET', path), field);
      assertRefused(await call(t.app, t.auth, 'POST', '/api/v1/orders/abc/cancel'), 'id');
      assertRefused(await call(t.app, t.auth, 'PATCH', '/api/v1/orders/-1', { details: 'x' }), 'id');
      assertRefused(await call(t.app, t.auth, 'POST', `/api/v1/orders/${orderId}/payments/${paymentId}/refund`), 'action');
    });

    it('answers an id above the largest order with 404, not 500', async () => {
      const res = await call(t.app, t.auth, 'GET', '/api/v1/orders/9999999999999999');
      assert.equal(res.statusCode, 404);
      errorBody(res);
    });

    it('answers bad dates in every range filter with 400 naming the parameter', async () => {
      // A date or a time without offset is accepted (in the store's time zone): test/api/date-filters.test.ts.
      const bad = ['yesterday', '2024-13-01T00:00:00Z', '2024-02-30T00:00:00Z', '2024-02-30T10:15:00', '2024-02-30', '1714000000', '2024-05-02T25:00:00Z', '2024-05-02T10:15:00+3', "2024-05-02T10:15:00Z' OR 1=1"];
      for (const field of ['created_at', 'updated_at', 'archived_at', 'shipments_completed_at']) {
        for (const end of ['from', 'to']) {
          for (const value of field === 'created_at' ? bad : bad.slice(0, 2)) {
            assertRefused(await call(t.app, t.auth, 'GET', `/api/v1/orders?${field}-${end}=${q(value)}`), `${field}-${end}`);
          }
        }
      }
    });

    it('answers page_size over 1000 with 400 saying the maximum', async () => {
      const res = await call(t.app, t.auth, 'GET', '/api/v1/orders?page_size=1001');
      assertRefused(res, 'page_size');
      assert.match(errorBody(res).message, /1000/);
      assertRefused(await call(t.app, t.auth, 'GET', '/api/v1/orders?page_size=1.5'), 'page_size');
      assertRefused(await call(t.app, t.auth, 'GET', '/api/v1/orders?page=99999999999'), 'page');
    });

    it('answers an unknown query parameter with 400 naming it', async () => {
      assertRefused(await call(t.app, t.auth, 'GET', '/api/v1/orders?order_ids=1,2'), 'order_ids');
      assertRefused(await call(t.app, t.auth, 'GET', `/api/v1/orders/${orderId}?expnad=products`), 'expnad');
      assertRefused(await call(t.app, t.auth, 'POST', `/api/v1/orders/${orderId}/comments?visibility=PUBLIC`, { text: 'x' }), 'visibility');
    });

    it('answers a very long or odd query value with a 4xx, never a 5xx', async () => {
      const long = 'a'.repeat(10_000);
      for (const url of [`/api/v1/orders?expand=${long}`, `/api/v1/orders?sort=${long}`, `/api/v1/orders?id=${long}`, `/api/v1/orders?cursor=${long}`, `/api/v1/orders?cursor=bm90LWEtY3Vyc29y`, `/api/v1/orders?created_at-from=${long}`, `/api/v1/orders?id=${Array.from({ length: 1001 }, (_, i) => i + 1).join(',')}`, '/api/v1/orders?status=open&status=completed', '/api/v1/orders?page_size=10&page_size=20', `/api/v1/orders?expand=${q('products\u0000')}`]) {
        const res = await call(t.app, t.auth, 'GET', url);
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url.slice(0, 80)}: ${res.statusCode} ${res.body.slice(0, 200)}`);
        errorBody(res);
      }
    });
  });

  describe('property: arbitrary JSON bodies', () => {
    it('never answer POST /orders with a 5xx, and a refused one creates nothing', async () => {
      // Bodies near a valid order are the interesting ones: start from a valid order and replace
      // fields with arbitrary JSON, plus wholly arbitrary JSON values.
      const validKeys = Object.keys(orderBody());
      const allKeys = [...validKeys, 'external_id', 'language', 'currency', 'version_id', 'customer_id', 'shipping_address', 'payment_costs', 'discount', 'details', 'custom_data', 'shipment', 'payment', '__proto__', 'constructor'];
      const json = fc.jsonValue({ maxDepth: 4 });
      const product = fc.record(
        { product_code: fc.oneof(fc.string(), json), product_name: fc.oneof(fc.string(), json), quantity: fc.oneof(fc.integer({ min: -5, max: 200_000 }), fc.double(), json), unit_price: fc.oneof(fc.double({ min: -10, max: 1e8, noNaN: true }), fc.integer(), json), vat_rate: fc.oneof(fc.double({ noNaN: true }), json) },
        { requiredKeys: [] },
      );
      const nearValid = fc
        .tuple(fc.dictionary(fc.constantFrom(...allKeys), json, { maxKeys: 4 }), fc.array(product, { maxLength: 3 }), fc.boolean())
        .map(([changes, products, keepProducts]) => ({ ...orderBody(), ...(keepProducts ? {} : { products }), ...changes }));
      const body = fc.oneof(json, nearValid, nearValid);
      const stringsToo = fc.oneof(body.map((b) => JSON.stringify(b)), fc.string({ unit: 'binary' }));

      let expected = await orderCount();
      await fc.assert(
        fc.asyncProperty(stringsToo, async (payload) => {
          const res = await rawPost(payload === undefined ? 'null' : payload, 'application/json');
          assert.ok(res.statusCode < 500, `5xx for ${payload.slice(0, 300)}: ${res.body.slice(0, 300)}`);
          if (res.statusCode === 200) expected += 1;
          else {
            assert.ok(res.statusCode >= 400, `${res.statusCode}`);
            errorBody(res);
          }
          assert.equal(await orderCount(), expected, `count changed for ${res.statusCode} on ${payload.slice(0, 200)}`);
        }),
        { numRuns: 200 },
      );
    });

    it('never answer GET /orders with a 5xx for arbitrary query strings', async () => {
      const key = fc.constantFrom('page', 'page_size', 'sort', 'expand', 'id', 'status', 'cursor', 'created_at-from', 'updated_at-to', 'archived_at-from', 'x');
      const value = fc.oneof(fc.string(), fc.integer().map(String), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('products,events', 'id-desc', 'updated_at-asc', '1,2,3', '0', '-1', '1e3'));
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(key, value), { maxLength: 5 }), async (pairs) => {
          const qs = pairs.map(([k, v]) => `${q(k)}=${q(v)}`).join('&');
          const res = await call(t.app, t.auth, 'GET', `/api/v1/orders?${qs}`);
          assert.ok(res.statusCode === 200 || (res.statusCode >= 400 && res.statusCode < 500), `${res.statusCode} for ${qs}: ${res.body.slice(0, 200)}`);
          if (res.statusCode !== 200) errorBody(res);
        }),
        { numRuns: 200 },
      );
    });
  });
});
