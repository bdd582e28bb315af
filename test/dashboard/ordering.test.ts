// The dashboard's side of ordered delivery (issue #17 §4): the Ordering choice of the new and edit
// forms, the subscription's ordering fact, and a blocked message's page (its sequence, and the
// message it waits behind).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'node:test';
import { forEachDialect } from '../helpers/database.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { type Browser, startDashboard, textOf, type DashboardTest } from '../helpers/dashboard-app.js';

forEachDialect('dashboard: ordered delivery', (dialect) => {
  let t: DashboardTest;
  let b: Browser;
  let receiver: Receiver;

  beforeEach(async () => {
    t = await startDashboard(dialect);
    receiver = await startReceiver();
    b = await t.signedIn();
  });
  afterEach(async () => {
    await receiver.close();
    await t.close();
  });

  it('sets the ordering in the new form, shows it, changes it in the edit form, and refuses another value', async () => {
    const step2 = await b.get('/subscriptions/new?topic=order.updated');
    assert.match(step2.body, /<legend>Ordering<\/legend>/);
    assert.match(step2.body, /name="ordering" value="none" checked/);
    assert.match(step2.body, /name="ordering" value="per_order"/);
    const bad = await b.post('/subscriptions', { topic: 'order.updated', url: receiver.url, ordering: 'sometimes' });
    assert.equal(bad.statusCode, 400);
    assert.match(textOf(bad.body), /ordering: "sometimes" is not one of none, per_order/);
    const res = await b.post('/subscriptions', { topic: 'order.updated', url: receiver.url, ordering: 'per_order' });
    assert.equal(res.statusCode, 303, res.body.slice(0, 500));
    const uuid = /^\/subscriptions\/([0-9a-f-]{36})$/.exec(String(res.headers.location))![1]!;
    assert.equal((await t.api('GET', `/webhooks/${uuid}`)).body.data.ordering, 'per_order');
    assert.match((await b.get(`/subscriptions/${uuid}`)).body, /data-ordering="per_order"/);

    const edit = await b.get(`/subscriptions/${uuid}/edit`);
    assert.match(edit.body, /name="ordering" value="per_order" checked/);
    const saved = await b.post(`/subscriptions/${uuid}/edit`, { url: receiver.url, ordering: 'none' });
    assert.equal(saved.statusCode, 303, saved.body.slice(0, 500));
    assert.equal((await t.api('GET', `/webhooks/${uuid}`)).body.data.ordering, 'none');
  });

  it('a blocked message shows its sequence and the message it waits behind', async () => {
    const sub = (await t.api('POST', '/webhooks', { topic: 'order.updated', url: receiver.url, ordering: 'per_order' })).body.data;
    const id = await t.createOrder();
    for (const details of ['one', 'two']) assert.equal((await t.api('PATCH', `/orders/${id}`, { details })).status, 200);
    const log = (await t.api('GET', `/webhooks/${sub.uuid}/deliveries`)).body.data as { id: string; status: string; sequence: number }[];
    const head = log.find((d) => d.sequence === 1)!;
    const blocked = log.find((d) => d.sequence === 2)!;
    assert.equal(head.status, 'pending');
    assert.equal(blocked.status, 'blocked');
    const page = await b.get(`/subscriptions/${sub.uuid}/messages/${blocked.id}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /data-sequence="2"/);
    assert.match(page.body, new RegExp(`data-waits-behind="${head.id}"`));
    assert.match(textOf(page.body), /Blocked: the subscription delivers per order/);
    assert.match(textOf(page.body), /1 message of its order ahead of this one/);
    // The list filter knows the state.
    const list = await b.get(`/subscriptions/${sub.uuid}?status=blocked`);
    assert.equal(list.statusCode, 200);
    assert.ok(list.body.includes(blocked.id) && !list.body.includes(head.id));
  });
});
