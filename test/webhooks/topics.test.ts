/**
 * The topic catalogue (SPEC §3): every topic listed with a description, its allowed expands and
 * an example message shaped exactly like a real message body.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ORDER_EXPANDS } from '../../src/orders/expands.js';
import { forEachDialect } from '../helpers/database.js';
import { api, createOrder, PUBLIC_TARGET, startHarness, subscribe, type Harness } from '../helpers/webhooks-app.js';

const SPEC_TOPICS = ['order.created', 'order.updated', 'order.cancelled', 'order.completed', 'order.shipment_completed', 'order.payment_updated', 'order.comment_created'];
// The catalogue's topics (issue #15); their messages are checked in test/catalogue/.
const CATALOGUE_TOPICS = ['product.created', 'product.updated', 'product.deleted', 'stock_item.updated', 'stock_item.low', 'customer.created', 'customer.updated'];
/** Endpoint health (issue #17 §1): about another subscription of the store; no expands. */
const HEALTH_TOPICS = ['subscription.failing', 'subscription.disabled', 'subscription.recovered'];
const ALL_TOPICS = [...SPEC_TOPICS, ...CATALOGUE_TOPICS, ...HEALTH_TOPICS];
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The shape of a JSON value: object keys (sorted) and value kinds, nulls matching anything. */
function sameShape(example: Json, real: Json, path: string): void {
  if (example === null || real === null) return;
  if (Array.isArray(real)) {
    assert.ok(Array.isArray(example), `${path}: example is not an array`);
    if (real.length && example.length) sameShape(example[0]!, real[0]!, `${path}[0]`);
    return;
  }
  assert.equal(typeof example, typeof real, `${path}: ${typeof example} in the example, ${typeof real} in a real message`);
  if (typeof real === 'object') {
    const e = example as Record<string, Json>;
    assert.deepEqual(Object.keys(e).sort(), Object.keys(real).sort(), `${path}: keys differ`);
    for (const key of Object.keys(real)) sameShape(e[key]!, real[key]!, `${path}.${key}`);
  }
}

forEachDialect('webhooks API: topic catalogue', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  after(async () => {
    await h.close();
  });

  test('GET /webhooks/topics lists every SPEC topic with a description and its allowed expands', async () => {
    const res = await api(h, 'GET', '/api/v1/webhooks/topics');
    assert.equal(res.status, 200);
    const names = res.body.data.map((t: { name: string }) => t.name);
    assert.deepEqual([...names].sort(), [...ALL_TOPICS].sort());
    assert.equal(res.body.meta.item_count, ALL_TOPICS.length);
    assert.equal(res.body.meta.next, undefined);
    for (const t of res.body.data) {
      assert.equal(typeof t.description, 'string');
      assert.ok(t.description.length > 10, `${t.name} has a real description`);
      // Every order topic carries the order, so every order expansion is allowed.
      if (t.resource === 'order') assert.deepEqual(t.expands, [...ORDER_EXPANDS], t.name);
      else if (t.resource === 'subscription_health') assert.ok(HEALTH_TOPICS.includes(t.name) && t.expands.length === 0, t.name);
      else assert.ok(CATALOGUE_TOPICS.includes(t.name), `${t.name} carries a ${t.resource}`);
      assert.deepEqual(Object.keys(t.example).sort(), ['created_at', 'data', 'id', 'sequence', 'topic']);
      assert.equal(t.example.topic, t.name);
      assert.match(t.example.id, /^msg_[A-Za-z0-9_-]{27}$/, 'looks like a real message id');
      assert.match(t.example.created_at, ISO_WITH_OFFSET);
    }
    assert.equal(new Set(res.body.data.map((t: { description: string }) => t.description)).size, ALL_TOPICS.length, 'each topic is described in its own words');
    // A query string is refused rather than ignored.
    assert.equal((await api(h, 'GET', '/api/v1/webhooks/topics?topic=x')).status, 400);
  });

  test('each listed topic, with all its expands, can be subscribed', async () => {
    const res = await api(h, 'GET', '/api/v1/webhooks/topics');
    for (const t of res.body.data) {
      const s = await subscribe(h, t.name, `${PUBLIC_TARGET}/all/${t.name}`, t.expands);
      assert.deepEqual(s.expands, t.expands);
    }
  });

  test("each example message has the shape of a real message body rendered with the example's expands", async () => {
    const all = (await api(h, 'GET', '/api/v1/webhooks/topics')).body.data as { name: string; resource: string; example: { data: Record<string, Json> } }[];
    const topics = all.filter((t) => t.resource === 'order');
    assert.deepEqual(topics.map((t) => t.name).sort(), [...SPEC_TOPICS].sort());
    const other = await h.addStore();
    for (const t of topics) {
      const expands = ORDER_EXPANDS.filter((e) => e in t.example.data);
      await subscribe(h, t.name, `${PUBLIC_TARGET}/shape/${t.name}`, expands, other);
    }
    // Make every topic fire once for the other store's order.
    const who = other;
    const orderA = await createOrder(h, { payment: { status: 'PENDING_ACTIVATION' } }, who);
    const pid = (await api(h, 'GET', `/api/v1/orders/${orderA}?expand=payments`, undefined, who)).body.data.payments[0].id;
    assert.equal((await api(h, 'PATCH', `/api/v1/orders/${orderA}`, { details: 'gift wrap' }, who)).status, 200);
    assert.equal((await api(h, 'POST', `/api/v1/orders/${orderA}/comments`, { text: 'hello', visibility: 'PUBLIC' }, who)).status, 200);
    assert.equal((await api(h, 'POST', `/api/v1/orders/${orderA}/payments/${pid}/activate`, undefined, who)).status, 200);
    const sid = (await api(h, 'GET', `/api/v1/orders/${orderA}/shipments`, undefined, who)).body.data[0].id;
    assert.equal((await api(h, 'POST', `/api/v1/orders/${orderA}/shipments/${sid}/complete`, { tracking_code: 'JJFI1' }, who)).status, 200);
    const orderB = await createOrder(h, {}, who);
    assert.equal((await api(h, 'POST', `/api/v1/orders/${orderB}/cancel`, undefined, who)).status, 200);

    const rows = await h.database.kysely.selectFrom('webhook_messages').select(['topic', 'body']).where('store_id', '=', other.storeId).execute();
    for (const t of topics) {
      const real = rows.find((r) => r.topic === t.name);
      assert.ok(real, `a real ${t.name} message was emitted`);
      const body = JSON.parse(real.body) as Json;
      sameShape(t.example as unknown as Json, body, t.name);
      // And the example's values are the kinds the API really uses (e.g. money as numbers).
      assert.equal(typeof t.example.data['total'], 'number');
    }
  });
});
