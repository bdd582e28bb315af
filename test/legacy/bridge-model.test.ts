// What old XML integrations send and read: `process?action=deliver&tracking_code=…` stores the code
// on the shipments it completes (seen in the JSON API and JSON webhooks), and the method elements
// and the shipping/payment rows carry the store's method names — in get, changes and the automatic POST.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { setPostUrl } from '../../src/legacy/settings.js';
import { LEGACY_ORDER_XML_TOPIC } from '../../src/webhooks/topics.js';
import { forEachDialect } from '../helpers/database.js';
import { createLegacyApp, makeOrder, type LegacyTestApp } from '../helpers/legacy-app.js';
import { child, childrenNamed, parseXml, textAt, type XmlTree } from '../helpers/xml-reader.js';

const PUBLIC_TARGET = 'http://93.184.216.34';

forEachDialect('legacy bridge: tracking codes and method names', (dialect) => {
  let t: LegacyTestApp;
  before(async () => {
    t = await createLegacyApp(dialect);
  });
  after(async () => {
    await t?.close();
  });

  const json = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
    const res = await t.app.inject({ method, url, headers: { authorization: t.auth }, ...(body ? { payload: body as object } : {}) });
    assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json().data;
  };

  const methodsOf = (order: XmlTree) => {
    const rows = childrenNamed(child(order, 'Products'), 'Product');
    const row = (attr: string) => rows.find((p) => child(p, 'ProductID').attrs[attr] !== undefined);
    return {
      shipping: textAt(order, 'ShippingMethod'),
      shippingId: child(order, 'ShippingMethod').attrs['id'],
      payment: textAt(order, 'PaymentMethod'),
      paymentId: child(order, 'PaymentMethod').attrs['id'],
      shippingRow: row('ShippingID') ? textAt(row('ShippingID')!, 'ProductName') : undefined,
      paymentRow: row('PaymentID') ? textAt(row('PaymentID')!, 'ProductName') : undefined,
    };
  };
  const EXPECTED = { shipping: 'Matkahuolto Lähellä-paketti', shippingId: '2', payment: 'Lasku', paymentId: '1', shippingRow: 'Matkahuolto Lähellä-paketti', paymentRow: 'Lasku' };

  it('stores deliver\'s tracking_code on the shipment it completes, visible in the API and the JSON webhooks', async () => {
    const sub = await json('POST', '/api/v1/webhooks', { topic: 'order.shipment_completed', url: PUBLIC_TARGET, expands: ['shipments'] });
    const id = await makeOrder(t);
    const res = await t.legacy('POST', 'process', { action: 'deliver', order: String(id), tracking_code: 'JJFI65432100000001', send_email: '1', key: t.key! });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(parseXml(res.body).name, 'success');

    const shipments = await json('GET', `/api/v1/orders/${id}/shipments`);
    assert.deepEqual(shipments.map((s: { status: string; tracking_code: string }) => [s.status, s.tracking_code]), [['COMPLETED', 'JJFI65432100000001']]);
    const row = await t.database.kysely.selectFrom('webhook_messages').select('body').where('subscription_uuid', '=', sub.uuid).where('order_id', '=', id).executeTakeFirstOrThrow();
    assert.equal(JSON.parse(row.body).data.shipments[0].tracking_code, 'JJFI65432100000001');
    const events = (await json('GET', `/api/v1/orders/${id}?expand=events`)).events;
    assert.ok(events.some((e: { code: string; data: { tracking_code?: string } | null }) => e.code === 'shipment_completed' && e.data?.tracking_code === 'JJFI65432100000001'));
  });

  it('delivers without a tracking code as before, and refuses one with control characters', async () => {
    const id = await makeOrder(t);
    const bad = await t.legacy('POST', 'process', { action: 'deliver', order: String(id), tracking_code: 'JJ\u0007FI', key: t.key! });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /tracking_code/);
    const ok = await t.legacy('POST', 'process', { action: 'deliver', order: String(id), tracking_code: '', key: t.key! });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual((await json('GET', `/api/v1/orders/${id}/shipments`)).map((s: { tracking_code: string | null }) => s.tracking_code), [null]);
  });

  it("names the order's shipping and payment methods in get and changes", async () => {
    const id = await makeOrder(t, { shipping_method_id: 2, payment_method_id: 1 });
    const got = child(parseXml((await t.legacy('GET', `get?order=${id}&key=${t.key}`)).body), 'Order');
    assert.deepEqual(methodsOf(got), EXPECTED);
    const changes = await t.legacy('GET', `changes?order_ids=${id}&key=${t.key}`);
    assert.equal(changes.statusCode, 200, changes.body);
    assert.deepEqual(methodsOf(child(parseXml(changes.body), 'Order')), EXPECTED);
  });

  it("an id the store has no method for leaves the element empty (no made-up name)", async () => {
    const id = await makeOrder(t, { shipping_method_id: 42, payment_method_id: 43 });
    const got = methodsOf(child(parseXml((await t.legacy('GET', `get?order=${id}&key=${t.key}`)).body), 'Order'));
    assert.deepEqual(got, { shipping: '', shippingId: '42', payment: '', paymentId: '43', shippingRow: 'Shipping', paymentRow: 'Payment' });
  });

  it('names the methods in the automatic POST too', async () => {
    await setPostUrl(t.database, { guard: t.guard, httpsOnly: false, maxSubscriptions: 100 }, t.storeName, PUBLIC_TARGET);
    const id = await makeOrder(t, { shipping_method_id: 2, payment_method_id: 1 });
    const row = await t.database.kysely.selectFrom('webhook_messages').select('body').where('topic', '=', LEGACY_ORDER_XML_TOPIC).where('order_id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(methodsOf(child(parseXml(row.body), 'Order')), EXPECTED);
  });
});
