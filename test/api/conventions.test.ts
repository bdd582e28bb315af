// SPEC §1 conventions: Basic auth and its failures, the plan gate, the per-user and per-address
// limits, tenancy, envelopes, the trailing-slash rule, the error shape, /api/v0.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rotateApiKey } from '../../src/admin/stores.js';
import { basicAuth, call, createOrder, createTestApp, errorBody, type TestApp } from '../helpers/app.js';
import { forEachDialect } from '../helpers/database.js';

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

forEachDialect('API conventions', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect);
  });
  after(async () => {
    await t?.close();
  });

  describe('authentication', () => {
    it('answers 401 with WWW-Authenticate: Basic and the JSON error shape when credentials are missing', async () => {
      const res = await call(t.app, undefined, 'GET', '/api/v1/orders');
      assert.equal(res.statusCode, 401);
      assert.match(String(res.headers['www-authenticate']), /^Basic\b/);
      const body = errorBody(res);
      assert.equal(body.error, 'Unauthorized');
      assert.match(body.message, /Basic/);
    });

    it('answers 401 to a wrong key, an unknown e-mail, a non-Basic scheme and a header with no colon', async () => {
      const cases = [
        basicAuth(t.email, `${t.apiKey}x`),
        basicAuth(t.email, ''),
        basicAuth('nobody@test.example', t.apiKey),
        `Bearer ${t.apiKey}`,
        `Basic ${Buffer.from(`${t.email}${t.apiKey}`).toString('base64')}`,
        'Basic !!!not-base64!!!',
      ];
      for (const authorization of cases) {
        const res = await call(t.app, authorization, 'GET', '/api/v1/orders');
        assert.equal(res.statusCode, 401, authorization);
        assert.match(String(res.headers['www-authenticate']), /^Basic\b/);
        errorBody(res);
      }
    });

    it('accepts the right key, with the e-mail in any case', async () => {
      const ok = await call(t.app, t.auth, 'GET', '/api/v1/orders');
      assert.equal(ok.statusCode, 200);
      const upper = await call(t.app, basicAuth(t.email.toUpperCase(), t.apiKey), 'GET', '/api/v1/orders');
      assert.equal(upper.statusCode, 200);
    });

    it('refuses the old key once it is rotated, and accepts the new one', async () => {
      const u = await t.addUser('shop', 'rotating@test.example');
      assert.equal((await call(t.app, u.auth, 'GET', '/api/v1/orders')).statusCode, 200);
      const rotated = await rotateApiKey(t.database.kysely, u.email);
      assert.equal((await call(t.app, u.auth, 'GET', '/api/v1/orders')).statusCode, 401);
      assert.equal((await call(t.app, basicAuth(u.email, rotated.apiKey), 'GET', '/api/v1/orders')).statusCode, 200);
    });
  });

  describe('plans', () => {
    for (const plan of ['free', 'basic'] as const) {
      it(`answers 403 naming the plan needed to a store on the ${plan} plan`, async () => {
        const u = await t.addStore(`small-${plan}`, plan);
        const res = await call(t.app, u.auth, 'GET', '/api/v1/orders');
        assert.equal(res.statusCode, 403);
        const body = errorBody(res);
        assert.match(body.message, /advanced/i);
        assert.match(body.message, new RegExp(plan));
        // Also for writes, and nothing is written.
        const post = await call(t.app, u.auth, 'POST', '/api/v1/orders', { products: [] });
        assert.equal(post.statusCode, 403);
      });
    }
    for (const plan of ['pro', 'enterprise'] as const) {
      it(`lets a store on the ${plan} plan use the API`, async () => {
        const u = await t.addStore(`big-${plan}`, plan);
        assert.equal((await call(t.app, u.auth, 'GET', '/api/v1/orders')).statusCode, 200);
      });
    }
  });

  describe('tenancy', () => {
    it("answers 404 for another store's order, shipment, payment and comments, and never lists them", async () => {
      const other = await t.addStore('other-tenant');
      const mine = await createOrder(t.app, t.auth);
      const theirs = await createOrder(t.app, other.auth);
      const urls: [string, string, unknown?][] = [
        ['GET', `/api/v1/orders/${theirs.id}`],
        ['GET', `/api/v1/orders/${theirs.id}/shipments`],
        ['GET', `/api/v1/orders/${theirs.id}/shipments/${theirs.shipmentId}`],
        ['GET', `/api/v1/orders/${theirs.id}/payments/${theirs.paymentId}`],
        ['GET', `/api/v1/orders/${theirs.id}/comments`],
        ['PATCH', `/api/v1/orders/${theirs.id}`, { details: 'mine now' }],
        ['POST', `/api/v1/orders/${theirs.id}/cancel`],
        ['POST', `/api/v1/orders/${theirs.id}/quick-process`, {}],
        ['POST', `/api/v1/orders/${theirs.id}/shipments/${theirs.shipmentId}/complete`, {}],
        ['POST', `/api/v1/orders/${theirs.id}/payments/${theirs.paymentId}/mark-as-unpaid`],
        ['POST', `/api/v1/orders/${theirs.id}/comments`, { text: 'hi' }],
        ['GET', `/api/v0/orders/${theirs.id}`],
        // my order, their shipment / payment ids
        ['GET', `/api/v1/orders/${mine.id}/shipments/${theirs.shipmentId}`],
        ['GET', `/api/v1/orders/${mine.id}/payments/${theirs.paymentId}`],
        ['POST', `/api/v1/orders/${mine.id}/shipments/${theirs.shipmentId}/complete`, {}],
        ['POST', `/api/v1/orders/${mine.id}/payments/${theirs.paymentId}/mark-as-unpaid`],
      ];
      for (const [method, url, payload] of urls) {
        const res = await call(t.app, t.auth, method as 'GET', url, payload);
        assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
        assert.match(errorBody(res).message, /not found/i);
      }
      // Unchanged for its owner.
      const still = await call(t.app, other.auth, 'GET', `/api/v1/orders/${theirs.id}?expand=shipments,payments,comments`);
      const order = still.json().data;
      assert.equal(order.status, 'OPEN');
      assert.equal(order.details, null);
      assert.equal(order.shipments[0].status, 'OPEN');
      assert.equal(order.payments[0].status, 'PAID');
      assert.deepEqual(order.comments, []);

      const list = await call(t.app, t.auth, 'GET', `/api/v1/orders?id=${mine.id},${theirs.id}&page_size=1000`);
      assert.deepEqual(list.json().data.map((o: { id: number }) => o.id), [mine.id]);
      const all = (await call(t.app, t.auth, 'GET', '/api/v1/orders?page_size=1000')).json().data as { id: number }[];
      assert.ok(!all.some((o) => o.id === theirs.id));
    });
  });

  describe('envelopes and formats', () => {
    it('wraps one object in {data} and a list in {data, meta}', async () => {
      const o = await createOrder(t.app, t.auth);
      const one = await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}`);
      assert.equal(one.statusCode, 200);
      assert.match(String(one.headers['content-type']), /^application\/json/);
      assert.deepEqual(Object.keys(one.json()), ['data']);
      assert.equal(one.json().data.id, o.id);
      const list = await call(t.app, t.auth, 'GET', '/api/v1/orders');
      assert.deepEqual(Object.keys(list.json()).sort(), ['data', 'meta']);
      const meta = list.json().meta;
      for (const k of ['page', 'page_size', 'page_count', 'item_count']) assert.equal(typeof meta[k], 'number', k);
      assert.equal(meta.page, 1);
      assert.equal(meta.page_size, 50);
    });

    it('shows timestamps as ISO-8601 with offset and money as numbers with two decimals', async () => {
      const o = await createOrder(t.app, t.auth, { products: [{ product_code: 'A', product_name: 'A', quantity: 3, unit_price: 0.1 }], shipping_costs: 0.2 });
      const data = (await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}?expand=products,shipments,payments`)).json().data;
      for (const v of [data.created_at, data.updated_at, data.products[0].created_at, data.shipments[0].created_at, data.payments[0].updated_at]) {
        assert.match(v, ISO_WITH_OFFSET);
      }
      assert.equal(data.archived_at, null);
      // 3 × 0.10 + 0.20: cents arithmetic, not float (0.30000000000000004 + 0.2).
      assert.equal(data.subtotal, 0.3);
      assert.equal(data.total, 0.5);
      assert.equal(data.payments[0].amount, 0.5);
      assert.equal(typeof data.total, 'number');
    });

    it('echoes a request id header, and a safe X-Request-Id from the client', async () => {
      const res = await call(t.app, t.auth, 'GET', '/api/v1/orders', undefined, { 'x-request-id': 'abc-123' });
      assert.equal(res.headers['x-request-id'], 'abc-123');
      const generated = await call(t.app, t.auth, 'GET', '/api/v1/orders', undefined, { 'x-request-id': 'bad id\twith spaces' });
      assert.notEqual(generated.headers['x-request-id'], 'bad id\twith spaces');
      assert.ok(String(generated.headers['x-request-id']).length > 0);
    });
  });

  describe('paths', () => {
    it('answers a trailing slash with 404 saying to drop it, authenticated or not', async () => {
      for (const [auth, url] of [[t.auth, '/api/v1/orders/'], [undefined, '/api/v1/orders/'], [t.auth, '/api/v0/orders/1/'], [t.auth, '/api/v1/orders/?page=2']] as const) {
        const res = await call(t.app, auth, 'GET', url);
        assert.equal(res.statusCode, 404, url);
        const body = errorBody(res);
        assert.match(body.message, /trailing slash/i);
        assert.match(body.message, new RegExp(url.split('?')[0]!.replace(/\/$/, '').replace(/\//g, '\\/') + ' '));
      }
    });

    it('answers an unknown endpoint with a JSON 404, and an unknown method likewise', async () => {
      const res = await call(t.app, t.auth, 'GET', '/api/v1/nothing-here');
      assert.equal(res.statusCode, 404);
      assert.match(errorBody(res).message, /\/api\/v1\/nothing-here/);
      const del = await call(t.app, t.auth, 'DELETE', '/api/v1/orders/1');
      assert.equal(del.statusCode, 404);
      errorBody(del);
    });

    it('serves the orders endpoints under /api/v0 with the same answers', async () => {
      const o = await createOrder(t.app, t.auth, {}, '/api/v0');
      const v0 = await call(t.app, t.auth, 'GET', `/api/v0/orders/${o.id}?expand=products`);
      const v1 = await call(t.app, t.auth, 'GET', `/api/v1/orders/${o.id}?expand=products`);
      assert.equal(v0.statusCode, 200);
      assert.deepEqual(v0.json(), v1.json());
      const list = await call(t.app, t.auth, 'GET', `/api/v0/orders?id=${o.id}`);
      assert.equal(list.json().data[0].id, o.id);
      const comment = await call(t.app, t.auth, 'POST', `/api/v0/orders/${o.id}/comments`, { text: 'via v0' });
      assert.equal(comment.statusCode, 200);
      const cancel = await call(t.app, t.auth, 'POST', `/api/v0/orders/${o.id}/cancel`);
      assert.equal(cancel.json().data.status, 'CANCELLED');
      assert.equal((await call(t.app, undefined, 'GET', '/api/v0/orders')).statusCode, 401);
    });
  });
});

forEachDialect('API limits', (dialect) => {
  describe('failed logins per client address', () => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp(dialect, { authFailuresPerMinute: 3 });
    });
    after(async () => {
      await t?.close();
    });

    it('answers 429 with Retry-After once the address has failed too often, even with the right key', async () => {
      const wrong = basicAuth(t.email, 'wrong-key');
      for (let i = 0; i < 3; i++) assert.equal((await call(t.app, wrong, 'GET', '/api/v1/orders')).statusCode, 401);
      const blocked = await call(t.app, wrong, 'GET', '/api/v1/orders');
      assert.equal(blocked.statusCode, 429);
      const retryAfter = Number(blocked.headers['retry-after']);
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, String(blocked.headers['retry-after']));
      errorBody(blocked);
      const right = await call(t.app, t.auth, 'GET', '/api/v1/orders');
      assert.equal(right.statusCode, 429);
      // Another address is not blocked.
      const elsewhere = await t.app.inject({ method: 'GET', url: '/api/v1/orders', headers: { authorization: t.auth }, remoteAddress: '192.0.2.7' });
      assert.equal(elsewhere.statusCode, 200);
    });

    it('does not count successful logins as failures', async () => {
      const addr = '192.0.2.99';
      for (let i = 0; i < 10; i++) {
        const res = await t.app.inject({ method: 'GET', url: '/api/v1/orders', headers: { authorization: t.auth }, remoteAddress: addr });
        assert.equal(res.statusCode, 200);
      }
    });
  });

  describe('per-user rate limit', () => {
    let t: TestApp;
    before(async () => {
      // a slow refill (one token per 20 s), so a slow machine cannot refill the bucket mid-test
      t = await createTestApp(dialect, { rateLimitPerSecond: 0.05, rateLimitBurst: 3 });
    });
    after(async () => {
      await t?.close();
    });

    it('answers 429 with Retry-After once the burst is spent, per API user', async () => {
      const statuses: number[] = [];
      let limited;
      for (let i = 0; i < 5; i++) {
        const res = await call(t.app, t.auth, 'GET', '/api/v1/orders');
        statuses.push(res.statusCode);
        if (res.statusCode === 429) limited ??= res;
      }
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      assert.ok(limited);
      const retryAfter = Number(limited.headers['retry-after']);
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 20, String(limited.headers['retry-after']));
      assert.match(errorBody(limited).message, new RegExp(t.email.replace('.', '\\.')));
      // Another user has their own bucket.
      const other = await t.addStore('second-user-store');
      assert.equal((await call(t.app, other.auth, 'GET', '/api/v1/orders')).statusCode, 200);
    });
  });
});
