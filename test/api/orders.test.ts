// Orders API (SPEC §2): create with server-side totals, read with expansions, list with filters,
// sorting and paging, change, cancel and quick-process, with every 409.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createOrder, createTestApp, errorBody, orderBody, type TestApp } from '../helpers/app.js';
import { forEachDialect } from '../helpers/database.js';

const EXPANDS = ['products', 'shipments', 'payments', 'comments', 'events', 'tax_summary'] as const;
const iso = (ms: number) => new Date(ms).toISOString();
const q = (value: string) => encodeURIComponent(value);
const ids = (res: { json(): { data: { id: number }[] } }) => res.json().data.map((o) => o.id);
/** a `meta.next` URL as a path for inject. */
const pathOf = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

forEachDialect('orders API', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect);
  });
  after(async () => {
    await t?.close();
  });

  describe('POST /orders', () => {
    it('computes totals from integer cents: 3 × 19.99 + 1 × 10.00 + shipping + payment costs − discount', async () => {
      const res = await call(t.app, t.auth, 'POST', '/api/v1/orders', orderBody({
        external_id: 'EXT-1',
        language: 'en',
        currency: 'EUR',
        products: [
          { product_code: 'A', product_name: 'Alpha', quantity: 3, unit_price: 19.99, vat_rate: 25.5 },
          { product_code: 'B', product_name: 'Beta', quantity: 1, unit_price: 10, vat_rate: 14 },
        ],
        shipping_costs: 5.9,
        payment_costs: 1.5,
        discount: 7.77,
        details: 'leave at the door',
        custom_data: { erp: { id: 42 } },
        shipment: { tracking_code: 'JJFI1', parcel_count: 2, weight: 1.25 },
        payment: { reference: 'REF-9' },
      }));
      assert.equal(res.statusCode, 200, res.body);
      const o = res.json().data;
      assert.equal(o.subtotal, 69.97);
      assert.equal(o.shipping_costs, 5.9);
      assert.equal(o.payment_costs, 1.5);
      assert.equal(o.discount, 7.77);
      assert.equal(o.total, 69.6);
      assert.equal(o.status, 'OPEN');
      assert.equal(o.external_id, 'EXT-1');
      assert.equal(o.language, 'en');
      assert.equal(o.currency, 'EUR');
      assert.equal(o.details, 'leave at the door');
      assert.deepEqual(o.custom_data, { erp: { id: 42 } });
      assert.equal(o.products.length, 2);
      assert.deepEqual(o.products.map((p: { total: number; unit_price: number; quantity: number; vat_rate: number }) => [p.quantity, p.unit_price, p.total, p.vat_rate]), [[3, 19.99, 59.97, 25.5], [1, 10, 10, 14]]);
      // one OPEN shipment holding every product, one payment for the total
      assert.equal(o.shipments.length, 1);
      const s = o.shipments[0];
      assert.deepEqual([s.status, s.tracking_code, s.parcel_count, s.weight, s.completed_at], ['OPEN', 'JJFI1', 2, 1.25, null]);
      assert.ok(o.products.every((p: { shipment_id: number }) => p.shipment_id === s.id));
      assert.equal(o.payments.length, 1);
      const p = o.payments[0];
      assert.deepEqual([p.amount, p.currency, p.status, p.is_paid, p.reference], [69.6, 'EUR', 'PAID', true, 'REF-9']);

      const tax = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}?expand=tax_summary`)).json().data.tax_summary;
      // Prices include VAT: net = round(gross / (1 + rate)).
      assert.deepEqual(tax.subtotal, [
        { tax_rate: 14, total: 10, total_tax: 1.23, total_without_tax: 8.77 },
        { tax_rate: 25.5, total: 59.97, total_tax: 12.19, total_without_tax: 47.78 },
      ]);
      assert.deepEqual(tax.discount, [{ tax_rate: 25.5, total: 7.77, total_tax: 1.58, total_without_tax: 6.19 }]);
      const sumTotal = tax.total.reduce((sum: number, l: { total: number }) => sum + Math.round(l.total * 100), 0);
      assert.equal(sumTotal, 6960);
    });

    it('copies the customer address to the shipping address unless one is given', async () => {
      const same = await createOrder(t.app, t.auth, { customer_information: { first_name: 'A', city: 'Turku', vat_code: 'FI123' } });
      assert.equal(same.data.different_shipping_address, false);
      assert.equal(same.data.shipping_address.city, 'Turku');
      assert.equal(same.data.shipping_address.vat_code, undefined);
      assert.equal(same.data.customer_information.vat_code, 'FI123');
      const other = await createOrder(t.app, t.auth, { shipping_address: { first_name: 'B', city: 'Oulu' } });
      assert.equal(other.data.different_shipping_address, true);
      assert.equal(other.data.shipping_address.city, 'Oulu');
      assert.equal(other.data.customer_information.city, 'Helsinki');
    });

    it('creates the payment with the status asked for (OPEN for cash on delivery)', async () => {
      for (const status of ['OPEN', 'PENDING_ACTIVATION', 'PAID'] as const) {
        const o = await createOrder(t.app, t.auth, { payment: { status } });
        assert.equal(o.data.payments[0].status, status);
        assert.equal(o.data.payments[0].is_paid, status === 'PAID');
      }
    });

    it('refuses a discount larger than the order (total below zero) and writes nothing', async () => {
      const before = (await call(t.app, t.auth, 'GET', '/api/v1/orders?page_size=1')).json().meta.item_count;
      const res = await call(t.app, t.auth, 'POST', '/api/v1/orders', orderBody({ discount: 1000 }));
      assert.equal(res.statusCode, 400);
      assert.ok(errorBody(res).errors?.some((e) => e.field === 'discount'));
      const after = (await call(t.app, t.auth, 'GET', '/api/v1/orders?page_size=1')).json().meta.item_count;
      assert.equal(after, before);
    });

    it('records an order_created event', async () => {
      const o = await createOrder(t.app, t.auth);
      const events = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}?expand=events`)).json().data.events;
      assert.deepEqual(events.map((e: { code: string }) => e.code), ['order_created']);
    });
  });

  describe('GET /orders/{id} and expand', () => {
    let id: number;
    before(async () => {
      id = (await createOrder(t.app, t.auth)).id;
      await call(t.app, t.auth, 'POST', `/api/v1/orders/${id}/comments`, { text: 'a comment' });
    });

    it('returns no expansions unless asked', async () => {
      const o = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${id}`)).json().data;
      for (const e of EXPANDS) assert.equal(o[e], undefined, e);
      for (const f of ['id', 'created_at', 'updated_at', 'archived_at', 'external_id', 'version_id', 'language', 'customer_id', 'customer_information', 'shipping_address', 'different_shipping_address', 'subtotal', 'shipping_costs', 'payment_costs', 'discount', 'total', 'status', 'details', 'custom_data']) {
        assert.ok(f in o, `missing field ${f}`);
      }
    });

    for (const expand of EXPANDS) {
      it(`expand=${expand} adds ${expand} and nothing else (on one order and on the list)`, async () => {
        for (const url of [`/api/v1/orders/${id}?expand=${expand}`, `/api/v1/orders?id=${id}&expand=${expand}`]) {
          const res = await call(t.app, t.auth, 'GET', url);
          assert.equal(res.statusCode, 200, res.body);
          const body = res.json().data;
          const o = Array.isArray(body) ? body[0] : body;
          assert.ok(o[expand] !== undefined, `${url}: no ${expand}`);
          for (const e of EXPANDS) if (e !== expand) assert.equal(o[e], undefined, `${url}: unasked ${e}`);
          if (expand === 'tax_summary') assert.deepEqual(Object.keys(o.tax_summary).sort(), ['discount', 'payment_costs', 'shipping_costs', 'subtotal', 'total']);
          else assert.ok(Array.isArray(o[expand]) && o[expand].length > 0, `${expand} is empty`);
        }
      });
    }

    it('accepts every expansion at once, with spaces and repeats', async () => {
      const o = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${id}?expand=${q(EXPANDS.join(', ') + ',products')}`)).json().data;
      for (const e of EXPANDS) assert.ok(o[e] !== undefined, e);
    });

    it('answers an unknown expand with 400 naming the allowed values', async () => {
      for (const url of [`/api/v1/orders/${id}?expand=products,customer`, '/api/v1/orders?expand=lines', `/api/v0/orders/${id}?expand=PRODUCTS`]) {
        const res = await call(t.app, t.auth, 'GET', url);
        assert.equal(res.statusCode, 400, url);
        const body = errorBody(res);
        assert.ok(body.errors?.some((e) => e.field === 'expand'), res.body);
        for (const allowed of EXPANDS) assert.match(body.message, new RegExp(allowed));
      }
    });

    it('answers an order that does not exist with 404', async () => {
      const res = await call(t.app, t.auth, 'GET', '/api/v1/orders/999999');
      assert.equal(res.statusCode, 404);
      assert.match(errorBody(res).message, /999999/);
    });
  });

  describe('GET /orders filters, sorting and paging', () => {
    let s: TestApp['addStore'] extends (...a: never[]) => Promise<infer U> ? U : never;
    const base = Date.parse('2024-03-01T12:00:00Z');
    const made: number[] = [];
    before(async () => {
      // a store of its own, so the other tests' orders do not disturb the counts
      s = await t.addStore('listing');
      for (let i = 0; i < 6; i++) made.push((await createOrder(t.app, s.auth, { external_id: `L${i}` })).id);
      // created_at: base + i min; updated_at reversed; archived_at / shipments_completed_at on some
      for (let i = 0; i < made.length; i++) {
        await t.database.kysely
          .updateTable('orders')
          .set({
            created_at: base + i * 60_000,
            updated_at: base + (made.length - i) * 3_600_000,
            archived_at: i % 2 === 0 ? base + i * 1000 : null,
            shipments_completed_at: i >= 3 ? base + i * 10_000 : null,
            status: i === 1 ? 'CANCELLED' : i >= 4 ? 'COMPLETED' : 'OPEN',
          })
          .where('id', '=', made[i]!)
          .execute();
      }
    });

    it('lists in id order by default', async () => {
      const res = await call(t.app, s.auth, 'GET', '/api/v1/orders');
      assert.deepEqual(ids(res), made);
      assert.equal(res.json().meta.item_count, 6);
      assert.equal(res.json().meta.next, undefined);
    });

    it('filters created_at-from/-to inclusively at both ends', async () => {
      const res = await call(t.app, s.auth, 'GET', `/api/v1/orders?created_at-from=${q(iso(base + 60_000))}&created_at-to=${q(iso(base + 180_000))}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(ids(res), made.slice(1, 4));
      assert.equal(res.json().meta.item_count, 3);
      // one millisecond inside excludes the boundary order
      const narrower = await call(t.app, s.auth, 'GET', `/api/v1/orders?created_at-from=${q(iso(base + 60_001))}&created_at-to=${q(iso(base + 179_999))}`);
      assert.deepEqual(ids(narrower), made.slice(2, 3));
      // only -from, only -to
      assert.deepEqual(ids(await call(t.app, s.auth, 'GET', `/api/v1/orders?created_at-from=${q(iso(base + 240_000))}`)), made.slice(4));
      assert.deepEqual(ids(await call(t.app, s.auth, 'GET', `/api/v1/orders?created_at-to=${q(iso(base))}`)), made.slice(0, 1));
    });

    it('reads offsets in the filter: +03:00, Z, and an unencoded + (a space)', async () => {
      const at = base + 120_000; // 2024-03-01T12:02:00Z
      for (const value of ['2024-03-01T15:02:00+03:00', '2024-03-01T12:02:00Z', '2024-03-01T12:02:00.000+00:00', '2024-03-01T08:02:00-04:00']) {
        const res = await call(t.app, s.auth, 'GET', `/api/v1/orders?created_at-from=${q(value)}&created_at-to=${q(value)}`);
        assert.deepEqual(ids(res), [made[2]], value);
      }
      const raw = await call(t.app, s.auth, 'GET', '/api/v1/orders?created_at-from=2024-03-01T15:02:00+03:00&created_at-to=2024-03-01T15:02:00+03:00');
      assert.deepEqual(ids(raw), [made[2]]);
      assert.equal(iso(at), '2024-03-01T12:02:00.000Z');
    });

    it('filters updated_at, archived_at and shipments_completed_at inclusively', async () => {
      // updated_at of order i is base + (6 - i) h
      const upd = await call(t.app, s.auth, 'GET', `/api/v1/orders?updated_at-from=${q(iso(base + 2 * 3_600_000))}&updated_at-to=${q(iso(base + 4 * 3_600_000))}`);
      assert.deepEqual(ids(upd), made.slice(2, 5));
      // archived_at set on orders 0, 2, 4 (base + i s)
      const arch = await call(t.app, s.auth, 'GET', `/api/v1/orders?archived_at-from=${q(iso(base))}&archived_at-to=${q(iso(base + 2000))}`);
      assert.deepEqual(ids(arch), [made[0], made[2]]);
      // shipments_completed_at on orders 3, 4, 5 (base + i × 10 s); null never matches a range
      const ship = await call(t.app, s.auth, 'GET', `/api/v1/orders?shipments_completed_at-from=${q(iso(base + 40_000))}`);
      assert.deepEqual(ids(ship), made.slice(4));
      const shipTo = await call(t.app, s.auth, 'GET', `/api/v1/orders?shipments_completed_at-to=${q(iso(base + 30_000))}`);
      assert.deepEqual(ids(shipTo), [made[3]]);
    });

    it('filters by status and combines filters', async () => {
      assert.deepEqual(ids(await call(t.app, s.auth, 'GET', '/api/v1/orders?status=open')), [made[0], made[2], made[3]]);
      assert.deepEqual(ids(await call(t.app, s.auth, 'GET', '/api/v1/orders?status=cancelled')), [made[1]]);
      assert.deepEqual(ids(await call(t.app, s.auth, 'GET', '/api/v1/orders?status=completed')), made.slice(4));
      const both = await call(t.app, s.auth, 'GET', `/api/v1/orders?status=open&created_at-from=${q(iso(base + 60_000))}`);
      assert.deepEqual(ids(both), [made[2], made[3]]);
      const bad = await call(t.app, s.auth, 'GET', '/api/v1/orders?status=shipped');
      assert.equal(bad.statusCode, 400);
      assert.ok(errorBody(bad).errors?.some((e) => e.field === 'status'));
    });

    it('filters several orders by id=1,2,3, ignoring ids of other stores and unknown ids', async () => {
      const res = await call(t.app, s.auth, 'GET', `/api/v1/orders?id=${made[4]},${made[0]},${made[2]},999999`);
      assert.deepEqual(ids(res), [made[0], made[2], made[4]]);
      const one = await call(t.app, s.auth, 'GET', `/api/v1/orders?id=${made[3]}`);
      assert.deepEqual(ids(one), [made[3]]);
      for (const bad of ['1,x', '1,,2', '-1', '1.5', '0']) {
        const res2 = await call(t.app, s.auth, 'GET', `/api/v1/orders?id=${q(bad)}`);
        assert.equal(res2.statusCode, 400, bad);
        assert.ok(errorBody(res2).errors?.some((e) => e.field === 'id'), res2.body);
      }
    });

    it('sorts by id, created_at and updated_at, ascending and descending', async () => {
      assert.deepEqual(ids(await call(t.app, s.auth, 'GET', '/api/v1/orders?sort=id-desc')), [...made].reverse());
      assert.deepEqual(ids(await call(t.app, s.auth, 'GET', '/api/v1/orders?sort=id-asc')), made);
      assert.deepEqual(ids(await call(t.app, s.auth, 'GET', '/api/v1/orders?sort=created_at-desc')), [...made].reverse());
      assert.deepEqual(ids(await call(t.app, s.auth, 'GET', '/api/v1/orders?sort=created_at-asc')), made);
      // updated_at runs the other way round from id
      assert.deepEqual(ids(await call(t.app, s.auth, 'GET', '/api/v1/orders?sort=updated_at-asc')), [...made].reverse());
      assert.deepEqual(ids(await call(t.app, s.auth, 'GET', '/api/v1/orders?sort=updated_at-desc')), made);
      for (const bad of ['total-asc', 'id', 'id-up', 'created_at-ASC']) {
        const res = await call(t.app, s.auth, 'GET', `/api/v1/orders?sort=${bad}`);
        assert.equal(res.statusCode, 400, bad);
        const body = errorBody(res);
        assert.ok(body.errors?.some((e) => e.field === 'sort'));
        assert.match(body.message, /updated_at-asc/);
      }
    });

    it('pages with page and page_size; meta.next only when another page exists', async () => {
      const seen: number[] = [];
      for (let page = 1; page <= 3; page++) {
        const res = await call(t.app, s.auth, 'GET', `/api/v1/orders?page_size=2&page=${page}`);
        const meta = res.json().meta;
        assert.deepEqual([meta.page, meta.page_size, meta.page_count, meta.item_count], [page, 2, 3, 6]);
        assert.equal('next' in meta, page < 3, `page ${page}: ${JSON.stringify(meta)}`);
        seen.push(...ids(res));
      }
      assert.deepEqual(seen, made);
      const beyond = await call(t.app, s.auth, 'GET', '/api/v1/orders?page_size=2&page=4');
      assert.deepEqual(ids(beyond), []);
      assert.equal('next' in beyond.json().meta, false);
      const exact = await call(t.app, s.auth, 'GET', '/api/v1/orders?page_size=6');
      assert.equal('next' in exact.json().meta, false);
      const oneShort = await call(t.app, s.auth, 'GET', '/api/v1/orders?page_size=5');
      assert.equal('next' in oneShort.json().meta, true);
      // an empty store
      const empty = await t.addStore('empty-store');
      const none = await call(t.app, empty.auth, 'GET', '/api/v1/orders');
      assert.deepEqual(none.json().data, []);
      assert.equal(none.json().meta.item_count, 0);
      assert.equal('next' in none.json().meta, false);
    });

    it('follows meta.next to the end with filters, sort and expand kept', async () => {
      let url: string | undefined = `/api/v1/orders?page_size=2&sort=created_at-desc&status=open&expand=products`;
      const seen: number[] = [];
      let requests = 0;
      while (url) {
        const res = await call(t.app, s.auth, 'GET', url);
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json();
        for (const o of body.data) assert.ok(Array.isArray(o.products));
        seen.push(...body.data.map((o: { id: number }) => o.id));
        url = body.meta.next ? pathOf(body.meta.next) : undefined;
        if (url) {
          assert.match(url, /page_size=2/);
          assert.match(url, /sort=created_at-desc/);
        }
        assert.ok(++requests <= 5);
      }
      assert.deepEqual(seen, [made[3], made[2], made[0]]);
    });

    it('answers page_size over 1000, page_size 0 and page 0 with 400 naming the field', async () => {
      for (const [param, field] of [['page_size=1001', 'page_size'], ['page_size=0', 'page_size'], ['page=0', 'page'], ['page=-1', 'page'], ['page_size=ten', 'page_size']] as const) {
        const res = await call(t.app, s.auth, 'GET', `/api/v1/orders?${param}`);
        assert.equal(res.statusCode, 400, param);
        assert.ok(errorBody(res).errors?.some((e) => e.field === field), res.body);
      }
      assert.equal((await call(t.app, s.auth, 'GET', '/api/v1/orders?page_size=1000')).statusCode, 200);
    });
  });

  describe('PATCH /orders/{id}', () => {
    it('changes external_id, details, custom_data and addresses, bumps updated_at and records an event', async () => {
      const o = await createOrder(t.app, t.auth);
      await t.database.kysely.updateTable('orders').set({ updated_at: 1_000 }).where('id', '=', o.id).execute();
      const res = await call(t.app, t.auth, 'PATCH', `/api/v1/orders/${o.id}`, {
        external_id: 'ERP-77',
        details: null,
        custom_data: ['a', 1],
        customer_information: { phone: '+358401234567' },
        shipping_address: { city: 'Tampere' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const d = res.json().data;
      assert.equal(d.external_id, 'ERP-77');
      assert.equal(d.details, null);
      assert.deepEqual(d.custom_data, ['a', 1]);
      assert.equal(d.customer_information.phone, '+358401234567');
      assert.equal(d.customer_information.first_name, 'Maija', 'a partial address keeps the other fields');
      assert.equal(d.shipping_address.city, 'Tampere');
      assert.equal(d.different_shipping_address, true);
      assert.ok(Date.parse(d.updated_at) > 1_000);
      const events = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}?expand=events`)).json().data.events;
      assert.deepEqual(events.map((e: { code: string }) => e.code), ['order_created', 'order_updated']);
      // totals cannot be patched
      const totals = await call(t.app, t.auth, 'PATCH', `/api/v1/orders/${o.id}`, { total: 1 });
      assert.equal(totals.statusCode, 400);
      assert.ok(errorBody(totals).errors?.some((e) => e.field === 'total'));
    });

    it('answers an empty patch with 400 and an unknown order with 404', async () => {
      const o = await createOrder(t.app, t.auth);
      const res = await call(t.app, t.auth, 'PATCH', `/api/v1/orders/${o.id}`, {});
      assert.equal(res.statusCode, 400);
      errorBody(res);
      const missing = await call(t.app, t.auth, 'PATCH', '/api/v1/orders/999999', { details: 'x' });
      assert.equal(missing.statusCode, 404);
    });
  });

  describe('POST /orders/{id}/cancel', () => {
    it('cancels an OPEN order, cancels its open payment, and answers 409 to a second cancel', async () => {
      const o = await createOrder(t.app, t.auth, { payment: { status: 'OPEN' } });
      const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/cancel`);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().data.status, 'CANCELLED');
      const p = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}/payments/${o.paymentId}`)).json().data;
      assert.equal(p.status, 'CANCELLED');
      const again = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/cancel`);
      assert.equal(again.statusCode, 409);
      assert.match(errorBody(again).message, /already CANCELLED/);
    });

    it('keeps a PAID payment (for a refund) when cancelling, and accepts an empty JSON body', async () => {
      const o = await createOrder(t.app, t.auth);
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/orders/${o.id}/cancel`, headers: { authorization: t.auth, 'content-type': 'application/json' }, payload: '' });
      assert.equal(res.statusCode, 200, res.body);
      const p = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}/payments/${o.paymentId}`)).json().data;
      assert.equal(p.status, 'PAID');
    });

    it('answers 409 to cancelling a COMPLETED order, and changes nothing', async () => {
      const o = await createOrder(t.app, t.auth);
      assert.equal((await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/quick-process`, {})).statusCode, 200);
      const before = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}?expand=events`)).json().data;
      const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/cancel`);
      assert.equal(res.statusCode, 409);
      const body = errorBody(res);
      assert.equal(body.error, 'Conflict');
      assert.match(body.message, /COMPLETED/);
      const afterwards = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}?expand=events`)).json().data;
      assert.deepEqual(afterwards, before);
    });
  });

  describe('POST /orders/{id}/quick-process', () => {
    it('completes every shipment, marks the order COMPLETED and archived, with the tracking code', async () => {
      const o = await createOrder(t.app, t.auth);
      const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/quick-process`, { tracking_code: 'TRACK-1', send_emails: false });
      assert.equal(res.statusCode, 200, res.body);
      const d = res.json().data;
      assert.equal(d.status, 'COMPLETED');
      assert.ok(d.archived_at);
      assert.ok(d.shipments_completed_at);
      assert.ok(d.shipments.every((s: { status: string; tracking_code: string; completed_at: string }) => s.status === 'COMPLETED' && s.tracking_code === 'TRACK-1' && s.completed_at));
      const archived = await call(t.app, t.auth, 'GET', `/api/v1/orders?id=${o.id}&archived_at-from=${q(d.archived_at)}&archived_at-to=${q(d.archived_at)}&status=completed`);
      assert.deepEqual(ids(archived), [o.id]);
    });

    it('accepts no body at all', async () => {
      const o = await createOrder(t.app, t.auth);
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/orders/${o.id}/quick-process`, headers: { authorization: t.auth } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().data.status, 'COMPLETED');
    });

    it('answers 409 for an OPEN payment unless allow_open_cash_on_delivery_payments is true', async () => {
      const o = await createOrder(t.app, t.auth, { payment: { status: 'OPEN' } });
      for (const body of [{}, { allow_open_cash_on_delivery_payments: false }]) {
        const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/quick-process`, body);
        assert.equal(res.statusCode, 409);
        assert.match(errorBody(res).message, /allow_open_cash_on_delivery_payments/);
      }
      const still = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}?expand=shipments`)).json().data;
      assert.equal(still.status, 'OPEN');
      assert.equal(still.shipments[0].status, 'OPEN');
      const ok = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/quick-process`, { allow_open_cash_on_delivery_payments: true });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().data.status, 'COMPLETED');
      assert.equal(ok.json().data.payments[0].status, 'OPEN', 'a cash-on-delivery payment stays OPEN');
    });

    it('activates a PENDING_ACTIVATION payment', async () => {
      const o = await createOrder(t.app, t.auth, { payment: { status: 'PENDING_ACTIVATION' } });
      const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/quick-process`, {});
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().data.payments[0].status, 'PAID');
    });

    it('answers 409 for a CANCELLED payment, a CANCELLED order and an already COMPLETED order', async () => {
      const a = await createOrder(t.app, t.auth, { payment: { status: 'OPEN' } });
      assert.equal((await call(t.app, t.auth, 'POST', `/api/v1/orders/${a.id}/payments/${a.paymentId}/mark-as-cancelled`)).statusCode, 200);
      const r1 = await call(t.app, t.auth, 'POST', `/api/v1/orders/${a.id}/quick-process`, { allow_open_cash_on_delivery_payments: true });
      assert.equal(r1.statusCode, 409);
      assert.match(errorBody(r1).message, /CANCELLED/);

      const b = await createOrder(t.app, t.auth);
      await call(t.app, t.auth, 'POST', `/api/v1/orders/${b.id}/cancel`);
      const r2 = await call(t.app, t.auth, 'POST', `/api/v1/orders/${b.id}/quick-process`, {});
      assert.equal(r2.statusCode, 409);
      assert.match(errorBody(r2).message, /CANCELLED/);

      const c = await createOrder(t.app, t.auth);
      assert.equal((await call(t.app, t.auth, 'POST', `/api/v1/orders/${c.id}/quick-process`, {})).statusCode, 200);
      const r3 = await call(t.app, t.auth, 'POST', `/api/v1/orders/${c.id}/quick-process`, {});
      assert.equal(r3.statusCode, 409);
      assert.match(errorBody(r3).message, /COMPLETED/);
    });

    it('answers 409 for an order with more than one payment', async () => {
      const o = await createOrder(t.app, t.auth);
      const now = Date.now();
      await t.database.kysely.insertInto('payments').values({ store_id: t.storeId, order_id: o.id, created_at: now, updated_at: now, payment_method_id: null, amount_cents: 100, currency: 'EUR', status: 'PAID', reference: 'second' }).execute();
      const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/quick-process`, {});
      assert.equal(res.statusCode, 409);
      assert.match(errorBody(res).message, /2 payments/);
    });

    it('answers an unknown body field with 400', async () => {
      const o = await createOrder(t.app, t.auth);
      const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/quick-process`, { send_email: true });
      assert.equal(res.statusCode, 400);
      assert.ok(errorBody(res).errors?.some((e) => e.field === 'send_email'));
      assert.equal((await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}`)).json().data.status, 'OPEN');
    });
  });
});
