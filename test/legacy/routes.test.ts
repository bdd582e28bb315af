// The /webhooks/* actions through the HTTP layer: what old clients send and read, and every kind of
// bad input answered with a well-formed XML <error> and a fitting status — never HTML, JSON or 500.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { updateStore } from '../../src/admin/stores.js';
import { disableLegacy, issueLegacyKey } from '../../src/legacy/settings.js';
import { cancelOrder } from '../../src/orders/service.js';
import { forEachDialect } from '../helpers/database.js';
import { createLegacyApp, makeOrder, type LegacyTestApp } from '../helpers/legacy-app.js';
import { child, childrenNamed, parseXml, textAt } from '../helpers/xml-reader.js';

/** Asserts a legacy error answer and returns its message. */
function xmlError(res: LightMyRequestResponse, status: number): string {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers['content-type'], 'application/xml; charset=utf-8');
  assert.ok(res.body.includes('<error>'), 'old clients grep for the literal <error>');
  assert.ok(!/<!doctype|<html/i.test(res.body));
  const doc = parseXml(res.body);
  assert.equal(doc.name, 'error');
  assert.equal(doc.children.length, 0);
  assert.ok(doc.text.length > 10, `a readable message: ${doc.text}`);
  return doc.text;
}

function xmlOk(res: LightMyRequestResponse) {
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'application/xml; charset=utf-8');
  return parseXml(res.body);
}

forEachDialect('legacy /webhooks actions', (dialect) => {
  let t: LegacyTestApp;
  let key: string;
  before(async () => {
    t = await createLegacyApp(dialect);
    key = t.key!;
  });
  after(async () => t?.close());

  const topicsOf = async (orderId: number) =>
    (await t.database.kysely.selectFrom('webhook_messages').select('topic').where('order_id', '=', orderId).where('topic', 'like', 'order.%').orderBy('id').execute()).map((r) => r.topic);

  describe('get', () => {
    it('answers one order as <Orders><Order>, by GET, HEAD or POST, with the key in the query or the form', async () => {
      const id = await makeOrder(t);
      const doc = xmlOk(await t.legacy('GET', `get?order=${id}&key=${key}`));
      assert.equal(doc.name, 'Orders');
      const orders = childrenNamed(doc, 'Order');
      assert.equal(orders.length, 1);
      assert.equal(textAt(orders[0]!, 'OrderNumber'), String(id));
      assert.equal(xmlOk(await t.legacy('POST', 'get', { order: String(id), key })).children.length, 1);
      const head = await t.app.inject({ method: 'HEAD', url: `/webhooks/get?order=${id}&key=${key}` });
      assert.equal(head.statusCode, 200);
      assert.equal(head.body, '');
    });

    it('refuses a missing, non-numeric or unknown order', async () => {
      assert.match(xmlError(await t.legacy('GET', `get?key=${key}`), 400), /order parameter is missing/);
      for (const bad of ['abc', '-1', '0', '1.5', '1e3', '0x10', '99999999999999999999', '%00', '%3Cscript%3E']) {
        assert.match(xmlError(await t.legacy('GET', `get?order=${bad}&key=${key}`), 400), /order number/, bad);
      }
      assert.match(xmlError(await t.legacy('GET', `get?order=987654&key=${key}`), 404), /Order 987654 was not found/);
    });

    it("never shows another store's order", async () => {
      const id = await makeOrder(t);
      const { createStore } = await import('../../src/admin/stores.js');
      await createStore(t.database.kysely, { name: 'other', plan: 'pro' });
      const other = (await issueLegacyKey(t.database, 'other', { rotate: false })).key!;
      assert.match(xmlError(await t.legacy('GET', `get?order=${id}&key=${other}`), 404), /not found/);
      const page = xmlOk(await t.legacy('GET', `changes?ts=1&key=${other}`));
      assert.deepEqual(childrenNamed(page, 'Order'), []);
      const ids = xmlOk(await t.legacy('GET', `changes?order_ids=${id}&key=${other}`));
      assert.deepEqual(childrenNamed(ids, 'Order'), []);
    });
  });

  describe('changes', () => {
    it('answers orders by order_ids, sorted and once each, unknown ids left out', async () => {
      const a = await makeOrder(t);
      const b = await makeOrder(t);
      const doc = xmlOk(await t.legacy('GET', `changes?order_ids=${b},${a},%20${b},987654&key=${key}`));
      assert.deepEqual(childrenNamed(doc, 'Order').map((o) => Number(textAt(o, 'OrderNumber'))), [a, b]);
      assert.match(doc.attrs['time_to'] ?? '', /^\d{10}$/);
    });

    it('accepts ts, updated_after_ts, update_after_ts and created_after_ts', async () => {
      for (const name of ['ts', 'updated_after_ts', 'update_after_ts', 'created_after_ts']) {
        const doc = xmlOk(await t.legacy('GET', `changes?${name}=1&key=${key}`));
        assert.equal(doc.name, 'Orders');
        assert.ok(Number(doc.attrs['time_to']) >= Math.floor(Date.now() / 1000) - 2, name);
      }
      const future = Math.floor(Date.now() / 1000) + 3600;
      const doc = xmlOk(await t.legacy('GET', `changes?ts=${future}&key=${key}`));
      assert.equal(doc.attrs['time_to'], String(future - 1), 'a future ts: nothing, and time_to + 1 asks the same again');
    });

    it('refuses malformed timestamps and ambiguous calls', async () => {
      for (const bad of ['abc', '-1', '1.5', '', '%20', '1650000000abc', '999999999999', '0x10', '１２３']) {
        assert.match(xmlError(await t.legacy('GET', `changes?ts=${bad}&key=${key}`), 400), /unix timestamp in whole seconds/, bad);
      }
      assert.match(xmlError(await t.legacy('GET', `changes?key=${key}`), 400), /changes needs ts=/);
      assert.match(xmlError(await t.legacy('GET', `changes?ts=1&created_after_ts=1&key=${key}`), 400), /one timestamp parameter/);
      assert.match(xmlError(await t.legacy('GET', `changes?ts=1&order_ids=1&key=${key}`), 400), /either order_ids or a timestamp/);
      assert.match(xmlError(await t.legacy('GET', `changes?ts=1&ts=2&key=${key}`), 400), /given twice/);
    });

    it('refuses non-numeric and huge order_ids lists', async () => {
      for (const bad of ['1,x', '1,,2', 'a', '1;2', '-3', '1.0']) {
        assert.match(xmlError(await t.legacy('GET', `changes?order_ids=${bad}&key=${key}`), 400), /order numbers separated by commas/, bad);
      }
      const many = Array.from({ length: 501 }, (_, i) => i + 1).join(',');
      assert.match(xmlError(await t.legacy('POST', 'changes', { order_ids: many, key }), 400), /lists 501 orders; at most 500/);
      const huge = `${'1,'.repeat(150_000)}1`;
      assert.match(xmlError(await t.legacy('POST', 'changes', { order_ids: huge, key }), 400), /at most 500/);
      const tooBig = `${'12345678,'.repeat(130_000)}1`;
      assert.match(xmlError(await t.legacy('POST', 'changes', { order_ids: tooBig, key }), 413), /larger than 1 MiB/);
    });
  });

  describe('process', () => {
    before(async () => {
      // A JSON subscriber, to see which JSON webhooks the legacy actions cause.
      for (const topic of ['order.shipment_completed', 'order.completed', 'order.updated', 'order.comment_created']) {
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: { authorization: t.auth }, payload: { topic, url: 'http://127.0.0.1:9/json' } });
        assert.equal(res.statusCode, 200, res.body);
      }
    });

    it('deliver completes the shipments through the order service: the same JSON webhooks as the new API', async () => {
      const legacyOrder = await makeOrder(t);
      const apiOrder = await makeOrder(t);
      const doc = xmlOk(await t.legacy('POST', 'process', { key, action: 'deliver', order: String(legacyOrder), send_email: '1' }));
      assert.equal(doc.name, 'success');
      assert.equal(doc.attrs['status'], 'Shipped');
      const shipment = await t.database.kysely.selectFrom('shipments').select('id').where('order_id', '=', apiOrder).executeTakeFirstOrThrow();
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/orders/${apiOrder}/shipments/${shipment.id}/complete`, headers: { authorization: t.auth } });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(await topicsOf(legacyOrder), await topicsOf(apiOrder));
      assert.deepEqual(await topicsOf(legacyOrder), ['order.shipment_completed', 'order.updated', 'order.completed']);
      const order = xmlOk(await t.legacy('GET', `get?order=${legacyOrder}&key=${key}`));
      assert.equal(textAt(child(order, 'Order'), 'OrderStatus'), 'Shipped');
      // Again: nothing left to do, nothing emitted.
      const again = xmlOk(await t.legacy('POST', 'process', { key, action: 'deliver', order: String(legacyOrder) }));
      assert.match(again.text, /already delivered/);
      assert.equal((await topicsOf(legacyOrder)).length, 3);
    });

    it('deliver refuses a cancelled order and checks send_email', async () => {
      const id = await makeOrder(t);
      assert.match(xmlError(await t.legacy('POST', 'process', { key, action: 'deliver', order: String(id), send_email: 'maybe' }), 400), /send_email parameter must be 1 or 0/);
      await cancelOrder(t.ctx(), id);
      assert.match(xmlError(await t.legacy('POST', 'process', { key, action: 'deliver', order: String(id) }), 409), /cancelled/);
    });

    it('add_comment adds a public or private comment and emits order.comment_created', async () => {
      const id = await makeOrder(t);
      const pub = xmlOk(await t.legacy('POST', 'process', { key, action: 'add_comment', order: String(id), message: 'Tilauksesi on toimitettu. <Seuranta> & "koodi"', public_message: '1' }));
      assert.equal(pub.attrs['visibility'], 'public');
      xmlOk(await t.legacy('POST', 'process', { key, action: 'add_comment', order: String(id), message: 'internal note' }));
      const comments = await t.database.kysely.selectFrom('comments').select(['visibility', 'text', 'user_id']).where('order_id', '=', id).orderBy('id').execute();
      assert.deepEqual(comments, [
        { visibility: 'PUBLIC', text: 'Tilauksesi on toimitettu. <Seuranta> & "koodi"', user_id: null },
        { visibility: 'PRIVATE', text: 'internal note', user_id: null },
      ]);
      assert.deepEqual((await topicsOf(id)).filter((x) => x === 'order.comment_created').length, 2);
    });

    it('reads multipart/form-data (PHP cURL with an array), Latin-1 forms and JSON', async () => {
      const id = await makeOrder(t);
      const boundary = '------------------------d74496d66958873e';
      const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
      const multipart = `${part('action', 'add_comment')}${part('message', 'Toimitettu äsken')}${part('order', String(id))}${part('public_message', '1')}${part('key', key)}--${boundary}--\r\n`;
      xmlOk(await t.app.inject({ method: 'POST', url: '/webhooks/process', payload: multipart, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }));
      const latin = Buffer.concat([Buffer.from(`key=${key}&action=add_comment&order=${id}&message=`), Buffer.from([0xe4, 0x69, 0x74, 0x69]), Buffer.from('+%E4%F6')]);
      xmlOk(await t.app.inject({ method: 'POST', url: '/webhooks/process', payload: latin, headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
      xmlOk(await t.app.inject({ method: 'POST', url: '/webhooks/process', payload: JSON.stringify({ key, action: 'add_comment', order: id, message: 'json' }), headers: { 'content-type': 'application/json' } }));
      xmlOk(await t.app.inject({ method: 'POST', url: `/webhooks/process?key=${key}`, payload: `action=add_comment&order=${id}&message=no+content+type` }));
      const texts = (await t.database.kysely.selectFrom('comments').select('text').where('order_id', '=', id).orderBy('id').execute()).map((c) => c.text);
      assert.deepEqual(texts, ['Toimitettu äsken', 'äiti äö', 'json', 'no content type']);
    });

    it('refuses bad process calls with XML errors', async () => {
      const id = String(await makeOrder(t));
      assert.match(xmlError(await t.legacy('POST', 'process', { key, order: id }), 400), /process needs action=deliver/);
      assert.match(xmlError(await t.legacy('POST', 'process', { key, order: id, action: 'refund' }), 404), /Unknown process action "refund"/);
      assert.match(xmlError(await t.legacy('POST', 'process', { key, action: 'deliver', order: 'x' }), 400), /order number/);
      assert.match(xmlError(await t.legacy('POST', 'process', { key, action: 'add_comment', order: '987654', message: 'm' }), 404), /Order 987654 was not found/);
      assert.match(xmlError(await t.legacy('POST', 'process', { key, action: 'add_comment', order: id }), 400), /message parameter is missing/);
      assert.match(xmlError(await t.legacy('POST', 'process', { key, action: 'add_comment', order: id, message: '   ' }), 400), /missing or empty/);
      for (const ch of ['\u0000', '\u0001', '\u001B', '\u007F', '\uFFFF']) {
        assert.match(xmlError(await t.legacy('POST', 'process', { key, action: 'add_comment', order: id, message: `a${ch}b` }), 400), /control or invalid character U\+/, JSON.stringify(ch));
      }
      assert.match(xmlError(await t.legacy('POST', 'process', { key, action: 'add_comment', order: id, message: 'x'.repeat(10_001) }), 400), /at most 10000/);
      assert.match(xmlError(await t.legacy('POST', 'process', { key, action: 'add_comment', order: id, message: 'm', public_message: 'yes please' }), 400), /public_message parameter must be 1 or 0/);
      assert.match(xmlError(await t.legacy('GET', `process?key=${key}&action=deliver&order=${id}`), 405), /use POST/);
      assert.match(xmlError(await t.app.inject({ method: 'POST', url: '/webhooks/process', payload: '<x/>', headers: { 'content-type': 'application/xml' } }), 415), /form fields/);
      assert.match(xmlError(await t.app.inject({ method: 'POST', url: '/webhooks/process', payload: '{"key": [1]}', headers: { 'content-type': 'application/json' } }), 400), /must be a string/);
      assert.match(xmlError(await t.app.inject({ method: 'POST', url: '/webhooks/process', payload: '{bad', headers: { 'content-type': 'application/json' } }), 400), /not valid JSON/);
      assert.match(xmlError(await t.app.inject({ method: 'POST', url: '/webhooks/process', payload: '--x\r\nnonsense', headers: { 'content-type': 'multipart/form-data; boundary=x' } }), 400), /malformed/);
      assert.match(xmlError(await t.app.inject({ method: 'POST', url: `/webhooks/process?order=${id}`, payload: `order=${Number(id) + 1}&key=${key}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 400), /given twice/);
    });
  });

  describe('authentication and errors', () => {
    it('needs the right key; answers 401 with a challenge, never HTML', async () => {
      const missing = await t.legacy('GET', 'get?order=1');
      assert.match(xmlError(missing, 401), /Missing key/);
      assert.match(String(missing.headers['www-authenticate']), /^Key /);
      assert.match(xmlError(await t.legacy('GET', 'get?order=1&key=0123456789abcdef0123456789abcdef01234567'), 401), /Wrong key/);
      assert.match(xmlError(await t.legacy('GET', `get?order=1&key=${'k'.repeat(5000)}`), 401), /Wrong key/);
      assert.match(xmlError(await t.legacy('POST', 'process', { key: 'nope', action: 'deliver', order: '1' }), 401), /Wrong key/);
    });

    it('refuses a disabled extension and the free plan with 403', async () => {
      await disableLegacy(t.database, 'shop');
      assert.match(xmlError(await t.legacy('GET', `get?order=1&key=${key}`), 403), /not enabled/);
      const again = await issueLegacyKey(t.database, 'shop', { rotate: false });
      assert.equal(again.key, null, 'enabling again keeps the key');
      await updateStore(t.database.kysely, 'shop', { plan: 'free' });
      assert.match(xmlError(await t.legacy('GET', `get?order=1&key=${key}`), 403), /not available on the free plan/);
      await updateStore(t.database.kysely, 'shop', { plan: 'advanced' });
      xmlOk(await t.legacy('GET', `changes?order_ids=1&key=${key}`));
    });

    it('answers unknown actions 404 and other methods 405, escaping what it echoes', async () => {
      assert.match(xmlError(await t.legacy('GET', `frobnicate?key=${key}`), 404), /Unknown action "frobnicate"/);
      assert.match(xmlError(await t.legacy('GET', 'constructor'), 404), /Unknown action/);
      assert.match(xmlError(await t.legacy('GET', '__proto__'), 404), /Unknown action/);
      const echoed = xmlError(await t.legacy('GET', `${encodeURIComponent('<b>&"\'\u0001')}?key=${key}`), 404);
      assert.match(echoed, /Unknown action "<b>&\\"'\\u0001"/);
      assert.match(xmlError(await t.legacy('GET', 'get/'), 404), /trailing slash/);
      assert.match(xmlError(await t.legacy('GET', 'get/extra'), 404), /No Webhooks action/);
      assert.match(xmlError(await t.app.inject({ method: 'GET', url: '/webhooks' }), 404), /the actions are/);
      const put = await t.app.inject({ method: 'PUT', url: '/webhooks/changes' });
      assert.match(xmlError(put, 405), /PUT is not allowed/);
      assert.equal(put.headers['allow'], 'GET, HEAD, POST');
      assert.match(xmlError(await t.app.inject({ method: 'DELETE', url: '/webhooks/send' }), 405), /use GET, POST/);
    });

    it('writes well-formed XML for stored text that needs escaping, dropping what XML forbids', async () => {
      const id = await makeOrder(t, { details: 'x' });
      // Straight into the database: data from before the API's text guard, or another writer.
      // (NUL and lone surrogates cannot be stored at all: PostgreSQL refuses them, SQLite mangles them.)
      await t.database.kysely.updateTable('orders').set({ details: 'a<b>&"c" \'d\' ]]> \u0001\u001F\uFFFE\uFFFF e\r\nf', customer_information: JSON.stringify({ first_name: '<script>alert(1)</script>', last_name: 'Ö&Ä', email: '"q"@x' }) }).where('id', '=', id).execute();
      await t.database.kysely.updateTable('order_products').set({ product_name: 'P\u0008<&>' }).where('order_id', '=', id).execute();
      for (const res of [await t.legacy('GET', `get?order=${id}&key=${key}`), await t.legacy('GET', `changes?order_ids=${id}&key=${key}`)]) {
        const order = child(xmlOk(res), 'Order');
        assert.equal(textAt(order, 'Comments'), 'a<b>&"c" \'d\' ]]>  e\r\nf');
        assert.equal(textAt(order, 'CustomerInformation', 'FirstName'), '<script>alert(1)</script>');
        assert.equal(textAt(order, 'CustomerInformation', 'LastName'), 'Ö&Ä');
        assert.equal(textAt(childrenNamed(child(order, 'Products'), 'Product')[0]!, 'ProductName'), 'P<&>');
      }
    });
  });

  describe('the internal subscription of the automatic POST', () => {
    it('is hidden from GET /api/v1/webhooks and cannot be created through the API', async () => {
      const { setPostUrl } = await import('../../src/legacy/settings.js');
      await setPostUrl(t.database, { guard: t.guard, httpsOnly: false, maxSubscriptions: 100 }, 'shop', 'http://127.0.0.1:9/legacy');
      const list = await t.app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: { authorization: t.auth } });
      assert.equal(list.statusCode, 200, list.body);
      const body = list.json() as { data: { topic: string }[]; meta: { item_count: number } };
      assert.ok(body.data.every((s) => s.topic !== 'legacy.order_xml'));
      assert.equal(body.meta.item_count, body.data.length);
      const create = await t.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: { authorization: t.auth }, payload: { topic: 'legacy.order_xml', url: 'http://127.0.0.1:9/x' } });
      assert.equal(create.statusCode, 400, create.body);
      const topics = await t.app.inject({ method: 'GET', url: '/api/v1/webhooks/topics', headers: { authorization: t.auth } });
      assert.ok(!topics.body.includes('legacy.order_xml'));
    });
  });
});

describe('legacy /webhooks: too many wrong keys', () => {
  let t: LegacyTestApp;
  before(async () => {
    t = await createLegacyApp('sqlite', { config: { authFailuresPerMinute: 3 } });
  });
  after(async () => t?.close());

  it('blocks an address after too many wrong keys (429 with Retry-After)', async () => {
    for (let i = 0; i < 3; i++) xmlError(await t.legacy('GET', 'get?order=1&key=wrong'), 401);
    const blocked = await t.legacy('GET', `get?order=1&key=${t.key}`);
    assert.match(xmlError(blocked, 429), /Too many wrong keys/);
    assert.ok(Number(blocked.headers['retry-after']) > 0);
  });
});
