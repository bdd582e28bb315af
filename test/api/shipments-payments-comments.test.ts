// Shipments, payments and comments of an order (SPEC §2): reads, state changes, and every 409.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createOrder, createTestApp, errorBody, type TestApp } from '../helpers/app.js';
import { forEachDialect } from '../helpers/database.js';

type Status = 'OPEN' | 'PENDING_ACTIVATION' | 'PAID' | 'REFUNDED' | 'CANCELLED';

forEachDialect('shipments, payments and comments', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect);
  });
  after(async () => {
    await t?.close();
  });

  const order = async (id: number) => (await call(t.app, t.auth, 'GET', `/api/v1/orders/${id}?expand=shipments,payments,comments,events`)).json().data;
  /** A second OPEN shipment, written straight to the database (the API creates one per order). */
  const addShipment = async (orderId: number) => {
    const now = Date.now();
    const row = await t.database.kysely
      .insertInto('shipments')
      .values({ store_id: t.storeId, order_id: orderId, created_at: now, updated_at: now, completed_at: null, status: 'OPEN', tracking_code: null, shipping_method_id: null, parcel_count: 1, weight_g: 0 })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  };
  const setPayment = (id: number, status: Status) => t.database.kysely.updateTable('payments').set({ status }).where('id', '=', id).execute();

  describe('shipments', () => {
    it('lists an order\'s shipments in {data, meta} and reads one', async () => {
      const o = await createOrder(t.app, t.auth, { shipment: { tracking_code: 'T-1', parcel_count: 3, weight: 0.5 } });
      const list = await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}/shipments`);
      assert.equal(list.statusCode, 200);
      const body = list.json();
      assert.equal(body.data.length, 1);
      assert.equal(body.meta.item_count, 1);
      assert.equal('next' in body.meta, false);
      const one = await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}/shipments/${o.shipmentId}`);
      assert.equal(one.statusCode, 200);
      assert.deepEqual(one.json().data, body.data[0]);
      const s = one.json().data;
      assert.deepEqual([s.id, s.order_id, s.status, s.tracking_code, s.parcel_count, s.weight, s.completed_at], [o.shipmentId, o.id, 'OPEN', 'T-1', 3, 0.5, null]);
      assert.equal((await call(t.app, t.auth, 'GET', `/api/v0/orders/${o.id}/shipments/${o.shipmentId}`)).statusCode, 200);
    });

    it('answers 404 for a shipment of another order of the same store, and for an unknown one', async () => {
      const a = await createOrder(t.app, t.auth);
      const b = await createOrder(t.app, t.auth);
      for (const url of [`/api/v1/orders/${a.id}/shipments/${b.shipmentId}`, `/api/v1/orders/${a.id}/shipments/999999`, '/api/v1/orders/999999/shipments']) {
        const res = await call(t.app, t.auth, 'GET', url);
        assert.equal(res.statusCode, 404, url);
        errorBody(res);
      }
      const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${a.id}/shipments/${b.shipmentId}/complete`, {});
      assert.equal(res.statusCode, 404);
      assert.equal((await order(b.id)).shipments[0].status, 'OPEN');
    });

    it('completes a shipment with a tracking code; the order completes with its last shipment', async () => {
      const o = await createOrder(t.app, t.auth);
      const second = await addShipment(o.id);
      const first = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/shipments/${o.shipmentId}/complete`, { tracking_code: 'JJFI-1' });
      assert.equal(first.statusCode, 200, first.body);
      const s = first.json().data;
      assert.equal(s.status, 'COMPLETED');
      assert.equal(s.tracking_code, 'JJFI-1');
      assert.ok(s.completed_at);
      let d = await order(o.id);
      assert.equal(d.status, 'OPEN', 'one shipment is still open');
      assert.equal(d.shipments_completed_at, null);
      // no body at all is fine too
      const last = await t.app.inject({ method: 'POST', url: `/api/v1/orders/${o.id}/shipments/${second}/complete`, headers: { authorization: t.auth } });
      assert.equal(last.statusCode, 200, last.body);
      assert.equal(last.json().data.tracking_code, null);
      d = await order(o.id);
      assert.equal(d.status, 'COMPLETED');
      assert.ok(d.shipments_completed_at);
      assert.equal(d.archived_at, null, 'completing shipments does not archive');
      assert.deepEqual(d.events.map((e: { code: string }) => e.code), ['order_created', 'shipment_completed', 'shipment_completed']);
    });

    it('answers 409 to completing a shipment twice, and changes nothing', async () => {
      const o = await createOrder(t.app, t.auth);
      assert.equal((await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/shipments/${o.shipmentId}/complete`, { tracking_code: 'A' })).statusCode, 200);
      const before = await order(o.id);
      const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/shipments/${o.shipmentId}/complete`, { tracking_code: 'B' });
      assert.equal(res.statusCode, 409);
      assert.match(errorBody(res).message, /already COMPLETED/);
      assert.deepEqual(await order(o.id), before);
    });

    it('answers 409 to completing a shipment of a CANCELLED order, and changes nothing', async () => {
      const o = await createOrder(t.app, t.auth);
      assert.equal((await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/cancel`)).statusCode, 200);
      const before = await order(o.id);
      const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/shipments/${o.shipmentId}/complete`, { tracking_code: 'X' });
      assert.equal(res.statusCode, 409);
      const body = errorBody(res);
      assert.equal(body.error, 'Conflict');
      assert.match(body.message, /CANCELLED/);
      assert.deepEqual(await order(o.id), before);
      assert.equal(before.shipments[0].status, 'OPEN');
    });

    it('answers 409 to cancelling an order whose shipments are all COMPLETED', async () => {
      const o = await createOrder(t.app, t.auth);
      await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/shipments/${o.shipmentId}/complete`, {});
      const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/cancel`);
      assert.equal(res.statusCode, 409);
      assert.match(errorBody(res).message, /COMPLETED/);
      assert.equal((await order(o.id)).status, 'COMPLETED');
    });
  });

  describe('payments', () => {
    it('reads one payment; 404 for a payment of another order and for an unknown one', async () => {
      const o = await createOrder(t.app, t.auth, { payment: { reference: 'R-1' } });
      const res = await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}/payments/${o.paymentId}`);
      assert.equal(res.statusCode, 200);
      const p = res.json().data;
      assert.deepEqual([p.id, p.order_id, p.status, p.is_paid, p.reference, p.amount, p.currency], [o.paymentId, o.id, 'PAID', true, 'R-1', o.data.total, 'EUR']);
      const other = await createOrder(t.app, t.auth);
      for (const url of [`/api/v1/orders/${o.id}/payments/${other.paymentId}`, `/api/v1/orders/${o.id}/payments/999999`]) {
        const r = await call(t.app, t.auth, 'GET', url);
        assert.equal(r.statusCode, 404, url);
        errorBody(r);
      }
      const r = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/payments/${other.paymentId}/mark-as-unpaid`);
      assert.equal(r.statusCode, 404);
      assert.equal((await order(other.id)).payments[0].status, 'PAID');
    });

    // [from, action, expected status or 409]
    const table: [Status, string, Status | 409][] = [
      ['OPEN', 'mark-as-paid', 'PAID'],
      ['PENDING_ACTIVATION', 'mark-as-paid', 'PAID'],
      ['CANCELLED', 'mark-as-paid', 409],
      ['REFUNDED', 'mark-as-paid', 409],
      ['PAID', 'mark-as-unpaid', 'OPEN'],
      ['PENDING_ACTIVATION', 'mark-as-unpaid', 'OPEN'],
      ['CANCELLED', 'mark-as-unpaid', 409],
      ['REFUNDED', 'mark-as-unpaid', 409],
      ['OPEN', 'mark-as-cancelled', 'CANCELLED'],
      ['PENDING_ACTIVATION', 'mark-as-cancelled', 'CANCELLED'],
      ['PAID', 'mark-as-cancelled', 409],
      ['REFUNDED', 'mark-as-cancelled', 409],
      ['PENDING_ACTIVATION', 'activate', 'PAID'],
      ['OPEN', 'activate', 409],
      ['PAID', 'activate', 409],
      ['CANCELLED', 'activate', 409],
    ];
    for (const [from, action, expected] of table) {
      it(`${action} on a ${from} payment ${expected === 409 ? 'answers 409 and changes nothing' : `makes it ${expected}`}`, async () => {
        const o = await createOrder(t.app, t.auth);
        await setPayment(o.paymentId, from);
        const before = await order(o.id);
        const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/payments/${o.paymentId}/${action}`);
        if (expected === 409) {
          assert.equal(res.statusCode, 409, res.body);
          const body = errorBody(res);
          assert.match(body.message, new RegExp(`is ${from}`));
          assert.deepEqual(await order(o.id), before);
        } else {
          assert.equal(res.statusCode, 200, res.body);
          const p = res.json().data;
          assert.equal(p.status, expected);
          assert.equal(p.is_paid, expected === 'PAID');
          const after = await order(o.id);
          assert.equal(after.payments[0].status, expected);
          assert.equal(after.events.at(-1).code, 'payment_updated');
          assert.deepEqual(after.events.at(-1).data, { payment_id: o.paymentId, from, to: expected });
        }
      });
    }

    it('treats a change to the state the payment is already in as a no-op (200, no event)', async () => {
      const o = await createOrder(t.app, t.auth);
      const before = await order(o.id);
      const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/payments/${o.paymentId}/mark-as-paid`);
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().data.status, 'PAID');
      assert.deepEqual(await order(o.id), before);
    });

    it('answers 409 to marking a payment of a CANCELLED order paid', async () => {
      const o = await createOrder(t.app, t.auth, { payment: { status: 'OPEN' } });
      await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/cancel`);
      // the cancel cancelled the open payment; force it back to OPEN to test the order rule
      await setPayment(o.paymentId, 'OPEN');
      const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/payments/${o.paymentId}/mark-as-paid`);
      assert.equal(res.statusCode, 409);
      assert.match(errorBody(res).message, /CANCELLED/);
      const ok = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/payments/${o.paymentId}/mark-as-cancelled`);
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.json().data.status, 'CANCELLED');
    });

    it('walks PENDING_ACTIVATION → activate → mark-as-unpaid → mark-as-paid under /api/v0 too', async () => {
      const o = await createOrder(t.app, t.auth, { payment: { status: 'PENDING_ACTIVATION' } });
      const steps: [string, Status][] = [['activate', 'PAID'], ['mark-as-unpaid', 'OPEN'], ['mark-as-paid', 'PAID']];
      for (const [action, status] of steps) {
        const res = await call(t.app, t.auth, 'POST', `/api/v0/orders/${o.id}/payments/${o.paymentId}/${action}`);
        assert.equal(res.statusCode, 200, `${action}: ${res.body}`);
        assert.equal(res.json().data.status, status);
      }
      assert.equal((await order(o.id)).events.filter((e: { code: string }) => e.code === 'payment_updated').length, 3);
    });

    it('bumps the order\'s updated_at on a payment change', async () => {
      const o = await createOrder(t.app, t.auth);
      await t.database.kysely.updateTable('orders').set({ updated_at: 1_000 }).where('id', '=', o.id).execute();
      await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/payments/${o.paymentId}/mark-as-unpaid`);
      assert.ok(Date.parse((await order(o.id)).updated_at) > 1_000);
    });
  });

  describe('comments', () => {
    it('adds PUBLIC and PRIVATE (default) comments by the API user and lists them', async () => {
      const o = await createOrder(t.app, t.auth);
      await t.database.kysely.updateTable('orders').set({ updated_at: 1_000 }).where('id', '=', o.id).execute();
      const pub = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/comments`, { text: 'Shipped today', visibility: 'PUBLIC' });
      assert.equal(pub.statusCode, 200, pub.body);
      const c = pub.json().data;
      assert.deepEqual([c.order_id, c.text, c.visibility, c.user_id], [o.id, 'Shipped today', 'PUBLIC', t.userId]);
      assert.ok(Number.isInteger(c.id));
      const priv = await call(t.app, t.auth, 'POST', `/api/v1/orders/${o.id}/comments`, { text: 'note to self\nsecond line' });
      assert.equal(priv.json().data.visibility, 'PRIVATE');
      const list = await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}/comments`);
      assert.equal(list.statusCode, 200);
      assert.deepEqual(list.json().data.map((x: { text: string }) => x.text), ['Shipped today', 'note to self\nsecond line']);
      assert.equal(list.json().meta.item_count, 2);
      const d = await order(o.id);
      assert.equal(d.comments.length, 2);
      assert.ok(Date.parse(d.updated_at) > 1_000);
      assert.deepEqual(d.events.map((e: { code: string }) => e.code), ['order_created', 'comment_created', 'comment_created']);
    });

    it('answers an empty comment list with data [] and item_count 0', async () => {
      const o = await createOrder(t.app, t.auth);
      const list = await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}/comments`);
      assert.deepEqual(list.json().data, []);
      assert.equal(list.json().meta.item_count, 0);
      assert.equal('next' in list.json().meta, false);
    });

    it('comments on cancelled and completed orders too', async () => {
      const a = await createOrder(t.app, t.auth);
      await call(t.app, t.auth, 'POST', `/api/v1/orders/${a.id}/cancel`);
      assert.equal((await call(t.app, t.auth, 'POST', `/api/v1/orders/${a.id}/comments`, { text: 'refund sent' })).statusCode, 200);
      const b = await createOrder(t.app, t.auth);
      await call(t.app, t.auth, 'POST', `/api/v1/orders/${b.id}/quick-process`, {});
      assert.equal((await call(t.app, t.auth, 'POST', `/api/v1/orders/${b.id}/comments`, { text: 'thanks' })).statusCode, 200);
    });

    it('answers 404 for comments on an unknown order', async () => {
      assert.equal((await call(t.app, t.auth, 'POST', '/api/v1/orders/999999/comments', { text: 'x' })).statusCode, 404);
      assert.equal((await call(t.app, t.auth, 'GET', '/api/v1/orders/999999/comments')).statusCode, 404);
    });
  });
});
