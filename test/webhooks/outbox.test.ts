/**
 * The transactional outbox (SPEC §4, ARCHITECTURE invariant 1): each order change emits exactly
 * its topics, as one stored message per matching active subscription, in the same transaction as
 * the change; the body is `{id, topic, created_at, data}` with data equal to
 * `GET /orders/{id}?expand=<the subscription's expands>` at that moment. A change that fails or is
 * refused leaves no message.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { ORDER_EXPANDS } from '../../src/orders/expands.js';
import type { MessageRow } from '../../src/db/schema.js';
import type { OrderEventSink } from '../../src/orders/events.js';
import { isoTime } from '../../src/time.js';
import { forEachDialect } from '../helpers/database.js';
import { api, createOrder, PUBLIC_TARGET, startHarness, subscribe, type ApiResponse, type Credentials, type Harness } from '../helpers/webhooks-app.js';

/** One subscription per topic, each with different expands, so bodies differ per subscription. */
const EXPANDS_BY_TOPIC: Record<string, string[]> = {
  'order.created': ['products', 'shipments', 'payments'],
  'order.updated': [...ORDER_EXPANDS],
  'order.cancelled': [],
  'order.completed': ['shipments'],
  'order.shipment_completed': ['shipments', 'events'],
  'order.payment_updated': ['payments', 'tax_summary'],
  'order.comment_created': ['comments'],
};

async function storeMessages(h: Harness, storeId: number, afterId = 0): Promise<MessageRow[]> {
  return h.database.kysely.selectFrom('webhook_messages').selectAll().where('store_id', '=', storeId).where('id', '>', afterId).orderBy('id').execute();
}

async function lastMessageId(h: Harness): Promise<number> {
  const row = await h.database.kysely.selectFrom('webhook_messages').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(row?.id ?? 0);
}

async function count(h: Harness, table: 'orders' | 'shipments' | 'payments' | 'order_events' | 'comments' | 'webhook_messages' | 'order_products', storeId: number): Promise<number> {
  const row = await h.database.kysely.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('store_id', '=', storeId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Checks every message against the order as the API shows it right now with that subscription's
 * expands, and the envelope against the row. Call it right after the change.
 */
async function assertBodiesMatchApi(h: Harness, rows: MessageRow[], who: Credentials): Promise<void> {
  for (const row of rows) {
    const sub = await h.database.kysely.selectFrom('webhook_subscriptions').select(['expands', 'topic', 'status']).where('uuid', '=', row.subscription_uuid).executeTakeFirstOrThrow();
    assert.equal(sub.topic, row.topic);
    assert.equal(row.status === 'held' ? 'disabled' : 'active', sub.status, 'held exactly when its subscription is disabled');
    const expands = JSON.parse(sub.expands) as string[];
    const body = JSON.parse(row.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['created_at', 'data', 'id', 'sequence', 'topic']);
    assert.equal(body['id'], row.message_id, 'body id is the message id (webhook-id)');
    assert.match(row.message_id, /^msg_[A-Za-z0-9_-]{27}$/);
    assert.equal(body['topic'], row.topic);
    assert.equal(body['created_at'], isoTime(row.created_at));
    const query = expands.length ? `?expand=${expands.join(',')}` : '';
    const current = await api(h, 'GET', `/api/v1/orders/${row.order_id}${query}`, undefined, who);
    assert.equal(current.status, 200);
    assert.deepEqual(body['data'], current.body.data, `${row.topic} body with expands [${expands.join(',')}]`);
    const data = body['data'] as Record<string, unknown>;
    // A nested expand (products.return_reasons) brings its parent key too.
    const asked = (key: string) => expands.some((e) => e === key || e.startsWith(`${key}.`));
    for (const e of ORDER_EXPANDS.filter((x) => !x.includes('.'))) assert.equal(e in data, asked(e), `${row.topic}: ${e} present iff expanded`);
    // The event time is the change's time: the order's updated_at.
    assert.equal(data['updated_at'], body['created_at']);
    assert.equal(row.attempt_count, 0);
    // Due at once, or held (no due time) for a disabled subscription.
    assert.equal(row.next_attempt_at, row.status === 'held' ? null : row.created_at, 'due at once');
    assert.equal(row.store_id, who.storeId);
  }
}

forEachDialect('outbox: the topics each order change emits', (dialect) => {
  let h: Harness;
  let subs: Map<string, string>;
  let wakes = 0;
  before(async () => {
    h = await startHarness(dialect);
    h.outbox.onWake(() => void (wakes += 1));
  });
  beforeEach(async () => {
    // Every test in a store of its own, subscribed once to each topic.
    Object.assign(h, await h.addStore());
    subs = new Map();
    for (const [topic, expands] of Object.entries(EXPANDS_BY_TOPIC)) {
      subs.set((await subscribe(h, topic, `${PUBLIC_TARGET}/${topic}`, expands)).uuid, topic);
    }
  });
  after(async () => {
    await h.close();
  });

  /** Runs `change` and answers with its HTTP status and the topics of the messages it stored (sorted). */
  async function emitted(change: () => Promise<ApiResponse | number>): Promise<{ status: number; topics: string[] }> {
    const baseline = await lastMessageId(h);
    const wakesBefore = wakes;
    const res = await change();
    const status = typeof res === 'number' ? 200 : res.status;
    const rows = await storeMessages(h, h.storeId, baseline);
    await assertBodiesMatchApi(h, rows, h);
    for (const row of rows) assert.equal(subs.get(row.subscription_uuid), row.topic, 'delivered to the subscription of its topic');
    assert.equal(new Set(rows.map((r) => r.subscription_uuid)).size, rows.length, 'one message per subscription per change');
    assert.equal(wakes - wakesBefore, rows.length ? 1 : 0, 'the dispatcher is woken once after a commit that added messages');
    return { status, topics: rows.map((r) => r.topic).sort() };
  }

  const post = (path: string, body?: unknown) => () => api(h, 'POST', `/api/v1/orders/${path}`, body);
  const patch = (id: number, body: unknown) => () => api(h, 'PATCH', `/api/v1/orders/${id}`, body);
  const firstShipment = async (id: number) => (await api(h, 'GET', `/api/v1/orders/${id}/shipments`)).body.data[0].id as number;
  const firstPayment = async (id: number) => (await api(h, 'GET', `/api/v1/orders/${id}?expand=payments`)).body.data.payments[0].id as number;
  const addShipment = async (id: number) => {
    const now = Date.now();
    await h.database.kysely
      .insertInto('shipments')
      .values({ store_id: h.storeId, order_id: id, created_at: now, updated_at: now, completed_at: null, status: 'OPEN', tracking_code: null, shipping_method_id: null, parcel_count: 1, weight_g: 500 })
      .execute();
  };

  test('create → order.created', async () => {
    assert.deepEqual(await emitted(() => createOrder(h)), { status: 200, topics: ['order.created'] });
    // Also through the /api/v0 copy of the orders API.
    assert.deepEqual(await emitted(() => api(h, 'POST', '/api/v0/orders', { customer_information: { first_name: 'B' }, products: [{ product_code: 'z', product_name: 'Z', quantity: 1, unit_price: 2 }] })), { status: 200, topics: ['order.created'] });
  });

  test('PATCH → order.updated', async () => {
    const id = await createOrder(h);
    assert.deepEqual(await emitted(patch(id, { details: 'leave at the door' })), { status: 200, topics: ['order.updated'] });
    assert.deepEqual(await emitted(patch(id, { shipping_address: { city: 'Espoo' }, custom_data: { erp: 42 } })), { status: 200, topics: ['order.updated'] });
    assert.deepEqual(await emitted(patch(id, { external_id: 'ERP-1' })), { status: 200, topics: ['order.updated'] });
  });

  test('cancel → order.cancelled + order.updated', async () => {
    const id = await createOrder(h);
    assert.deepEqual(await emitted(post(`${id}/cancel`)), { status: 200, topics: ['order.cancelled', 'order.updated'] });
  });

  test('cancel with an OPEN payment → order.cancelled + order.payment_updated + order.updated', async () => {
    const id = await createOrder(h, { payment: { status: 'OPEN' } });
    assert.deepEqual(await emitted(post(`${id}/cancel`)), { status: 200, topics: ['order.cancelled', 'order.payment_updated', 'order.updated'] });
  });

  test('complete the only shipment → order.shipment_completed + order.updated + order.completed', async () => {
    const id = await createOrder(h);
    const sid = await firstShipment(id);
    assert.deepEqual(await emitted(post(`${id}/shipments/${sid}/complete`, { tracking_code: 'JJFI123' })), { status: 200, topics: ['order.completed', 'order.shipment_completed', 'order.updated'] });
  });

  test('with two shipments: order.completed only when the last one completes', async () => {
    const id = await createOrder(h);
    await addShipment(id);
    const shipments = (await api(h, 'GET', `/api/v1/orders/${id}/shipments`)).body.data as { id: number }[];
    assert.equal(shipments.length, 2);
    assert.deepEqual(await emitted(post(`${id}/shipments/${shipments[1]!.id}/complete`)), { status: 200, topics: ['order.shipment_completed', 'order.updated'] });
    assert.deepEqual(await emitted(post(`${id}/shipments/${shipments[0]!.id}/complete`)), { status: 200, topics: ['order.completed', 'order.shipment_completed', 'order.updated'] });
  });

  test('quick-process → order.shipment_completed + order.completed + order.updated (+ payment_updated when it activates the payment)', async () => {
    const paid = await createOrder(h);
    assert.deepEqual(await emitted(post(`${paid}/quick-process`, { tracking_code: 'T1', send_emails: false })), { status: 200, topics: ['order.completed', 'order.shipment_completed', 'order.updated'] });
    const pending = await createOrder(h, { payment: { status: 'PENDING_ACTIVATION' } });
    assert.deepEqual(await emitted(post(`${pending}/quick-process`)), { status: 200, topics: ['order.completed', 'order.payment_updated', 'order.shipment_completed', 'order.updated'] });
    const cod = await createOrder(h, { payment: { status: 'OPEN' } });
    assert.deepEqual(await emitted(post(`${cod}/quick-process`, { allow_open_cash_on_delivery_payments: true })), { status: 200, topics: ['order.completed', 'order.shipment_completed', 'order.updated'] });
  });

  test('payment changes → order.payment_updated + order.updated; none when the state does not change', async () => {
    const id = await createOrder(h, { payment: { status: 'OPEN' } });
    const pid = await firstPayment(id);
    const pay = (action: string) => post(`${id}/payments/${pid}/${action}`);
    const changed = { status: 200, topics: ['order.payment_updated', 'order.updated'] };
    assert.deepEqual(await emitted(pay('mark-as-paid')), changed); // OPEN → PAID
    const updatedAt = (await api(h, 'GET', `/api/v1/orders/${id}`)).body.data.updated_at;
    assert.deepEqual(await emitted(pay('mark-as-paid')), { status: 200, topics: [] }); // PAID → PAID
    assert.equal((await api(h, 'GET', `/api/v1/orders/${id}`)).body.data.updated_at, updatedAt, 'a no-op does not touch the order');
    assert.deepEqual(await emitted(pay('mark-as-unpaid')), changed); // PAID → OPEN
    assert.deepEqual(await emitted(pay('mark-as-unpaid')), { status: 200, topics: [] }); // OPEN → OPEN
    assert.deepEqual(await emitted(pay('mark-as-cancelled')), changed); // OPEN → CANCELLED
    assert.deepEqual(await emitted(pay('mark-as-cancelled')), { status: 200, topics: [] });

    const pending = await createOrder(h, { payment: { status: 'PENDING_ACTIVATION' } });
    const ppid = await firstPayment(pending);
    assert.deepEqual(await emitted(post(`${pending}/payments/${ppid}/activate`)), changed); // PENDING_ACTIVATION → PAID
  });

  test('comment → order.comment_created + order.updated', async () => {
    const id = await createOrder(h);
    assert.deepEqual(await emitted(post(`${id}/comments`, { text: 'Called the customer', visibility: 'PRIVATE' })), { status: 200, topics: ['order.comment_created', 'order.updated'] });
    assert.deepEqual(await emitted(post(`${id}/comments`, { text: 'Thanks!', visibility: 'PUBLIC' })), { status: 200, topics: ['order.comment_created', 'order.updated'] });
  });

  test('reads emit nothing', async () => {
    const id = await createOrder(h);
    const sid = await firstShipment(id);
    const pid = await firstPayment(id);
    for (const path of [`/api/v1/orders/${id}?expand=${ORDER_EXPANDS.join(',')}`, '/api/v1/orders', `/api/v1/orders/${id}/shipments`, `/api/v1/orders/${id}/shipments/${sid}`, `/api/v1/orders/${id}/payments/${pid}`, `/api/v1/orders/${id}/comments`, '/api/v0/orders']) {
      assert.deepEqual(await emitted(() => api(h, 'GET', path)), { status: 200, topics: [] }, path);
    }
  });

  test('a refused change (409), a bad request (400) or a missing order (404) leaves no message', async () => {
    const completed = await createOrder(h);
    await quick(completed);
    const cancelled = await createOrder(h, { payment: { status: 'OPEN' } });
    assert.equal((await api(h, 'POST', `/api/v1/orders/${cancelled}/cancel`)).status, 200);
    const open = await createOrder(h);
    const unpaid = await createOrder(h, { payment: { status: 'OPEN' } });
    const cases: [string, () => Promise<ApiResponse>, number][] = [
      ['cancel a completed order', post(`${completed}/cancel`), 409],
      ['cancel a cancelled order', post(`${cancelled}/cancel`), 409],
      ['complete a shipment of a cancelled order', post(`${cancelled}/shipments/${await firstShipment(cancelled)}/complete`), 409],
      ['complete a completed shipment', post(`${completed}/shipments/${await firstShipment(completed)}/complete`), 409],
      ['quick-process a cancelled order', post(`${cancelled}/quick-process`), 409],
      ['quick-process a completed order', post(`${completed}/quick-process`), 409],
      ['activate a PAID payment', post(`${open}/payments/${await firstPayment(open)}/activate`), 409],
      ['mark a cancelled order paid', post(`${cancelled}/payments/${await firstPayment(cancelled)}/mark-as-paid`), 409],
      ['quick-process an OPEN (unpaid) payment without allow_open_cash_on_delivery_payments', post(`${unpaid}/quick-process`), 409],
      ['PATCH with an unknown field', patch(open, { status: 'COMPLETED' }), 400],
      ['PATCH with nothing', patch(open, {}), 400],
      ['comment without text', post(`${open}/comments`, { visibility: 'PUBLIC' }), 400],
      ['create without products', () => api(h, 'POST', '/api/v1/orders', { customer_information: {}, products: [] }), 400],
      ['create with three-decimal price', () => api(h, 'POST', '/api/v1/orders', { customer_information: {}, products: [{ product_code: 'a', product_name: 'A', quantity: 1, unit_price: 1.005 }] }), 400],
      ['PATCH a missing order', patch(999_999, { details: 'x' }), 404],
      ['complete a missing shipment', post(`${open}/shipments/999999/complete`), 404],
      ['pay a missing payment', post(`${open}/payments/999999/mark-as-paid`), 404],
    ];
    for (const [name, change, status] of cases) {
      const result = await emitted(change);
      assert.deepEqual(result, { status, topics: [] }, name);
    }
  });

  test("another store's order cannot be changed, and its change emits nothing here", async () => {
    const mine = await createOrder(h);
    const other = await h.addStore();
    const res = await api(h, 'PATCH', `/api/v1/orders/${mine}`, { details: 'hijack' }, other);
    assert.equal(res.status, 404);
    const baseline = await lastMessageId(h);
    await createOrder(h, {}, other);
    assert.equal((await storeMessages(h, h.storeId, baseline)).length, 0, "my subscriptions get nothing from the other store's order");
  });

  async function quick(id: number): Promise<void> {
    const res = await api(h, 'POST', `/api/v1/orders/${id}/quick-process`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
});

forEachDialect('outbox: who gets a message', (dialect) => {
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  beforeEach(async () => {
    Object.assign(h, await h.addStore());
  });
  after(async () => {
    await h.close();
  });

  test('one message per matching subscription, each rendered with its own expands; a disabled one gets its message held; deleted, other topics and other stores get none', async () => {
    const plain = await subscribe(h, 'order.updated', `${PUBLIC_TARGET}/plain`);
    const full = await subscribe(h, 'order.updated', `${PUBLIC_TARGET}/full`, [...ORDER_EXPANDS]);
    const some = await subscribe(h, 'order.updated', `${PUBLIC_TARGET}/some`, ['events', 'comments']);
    const disabled = await subscribe(h, 'order.updated', `${PUBLIC_TARGET}/disabled`, ['products']);
    assert.equal((await api(h, 'PATCH', `/api/v1/webhooks/${disabled.uuid}`, { status: 'disabled' })).status, 200);
    const deleted = await subscribe(h, 'order.updated', `${PUBLIC_TARGET}/deleted`);
    assert.equal((await api(h, 'DELETE', `/api/v1/webhooks/${deleted.uuid}`)).status, 204);
    await subscribe(h, 'order.cancelled', `${PUBLIC_TARGET}/cancelled`);
    const other = await h.addStore();
    const otherSub = await subscribe(h, 'order.updated', `${PUBLIC_TARGET}/plain`, [], other);

    const id = await createOrder(h);
    assert.equal((await api(h, 'POST', `/api/v1/orders/${id}/comments`, { text: 'first', visibility: 'PUBLIC' })).status, 200);
    const baseline = await lastMessageId(h);
    assert.equal((await api(h, 'PATCH', `/api/v1/orders/${id}`, { details: 'x' })).status, 200);
    const all = await storeMessages(h, h.storeId, baseline);
    assert.deepEqual(all.map((r) => r.subscription_uuid).sort(), [plain.uuid, full.uuid, some.uuid, disabled.uuid].sort());
    // The disabled subscription's message is kept, held (not sent) until it is enabled again.
    assert.deepEqual(all.map((r) => [r.subscription_uuid === disabled.uuid, r.status, r.next_attempt_at === null]).filter(([d]) => d), [[true, 'held', true]]);
    const rows = all.filter((r) => r.subscription_uuid !== disabled.uuid);
    assert.ok(rows.every((r) => r.status === 'pending'));
    assert.ok(all.every((r) => r.topic === 'order.updated'));
    await assertBodiesMatchApi(h, all, h);
    // Each message has its own id; the bodies differ only where the expands do.
    assert.equal(new Set(all.map((r) => r.message_id)).size, 4);
    const byUuid = new Map(rows.map((r) => [r.subscription_uuid, JSON.parse(r.body) as { data: Record<string, unknown> }]));
    assert.deepEqual(Object.keys(byUuid.get(some.uuid)!.data).filter((k) => (ORDER_EXPANDS as readonly string[]).includes(k)).sort(), ['comments', 'events']);
    const events = byUuid.get(full.uuid)!.data['events'] as { code: string }[];
    assert.equal(events.at(-1)!.code, 'order_updated', 'the events expansion already holds this change');
    assert.equal((byUuid.get(some.uuid)!.data['comments'] as unknown[]).length, 1);
    const { events: _e, comments: _c, ...restSome } = byUuid.get(some.uuid)!.data;
    const { products: _p, shipments: _s, payments: _pay, comments: _c2, events: _e2, tax_summary: _t, ...restFull } = byUuid.get(full.uuid)!.data;
    assert.deepEqual(restSome, byUuid.get(plain.uuid)!.data);
    assert.deepEqual(restFull, byUuid.get(plain.uuid)!.data);
    assert.equal((await storeMessages(h, other.storeId)).filter((r) => r.subscription_uuid === otherSub.uuid).length, 0);

    // Enabling the disabled one again: its held messages become pending, and it gets the next change too.
    const heldBefore = (await storeMessages(h, h.storeId)).filter((r) => r.subscription_uuid === disabled.uuid);
    assert.ok(heldBefore.length >= 1 && heldBefore.every((r) => r.status === 'held'));
    assert.equal((await api(h, 'PATCH', `/api/v1/webhooks/${disabled.uuid}`, { status: 'active' })).status, 200);
    const baseline2 = await lastMessageId(h);
    assert.equal((await api(h, 'PATCH', `/api/v1/orders/${id}`, { details: 'y' })).status, 200);
    const rows2 = await storeMessages(h, h.storeId, baseline2);
    assert.deepEqual(rows2.map((r) => r.subscription_uuid).sort(), [plain.uuid, full.uuid, some.uuid, disabled.uuid].sort());
    await assertBodiesMatchApi(h, rows2, h);
    const disabledAfter = (await storeMessages(h, h.storeId)).filter((r) => r.subscription_uuid === disabled.uuid);
    assert.equal(disabledAfter.length, heldBefore.length + 1);
    assert.ok(disabledAfter.every((r) => r.status === 'pending' && r.next_attempt_at !== null), 'none is held any more');
  });

  test('a change with no matching subscription stores nothing and wakes nobody', async () => {
    let wakes = 0;
    h.outbox.onWake(() => void (wakes += 1));
    await subscribe(h, 'order.cancelled', `${PUBLIC_TARGET}/c`);
    const id = await createOrder(h);
    assert.equal((await api(h, 'PATCH', `/api/v1/orders/${id}`, { details: 'x' })).status, 200);
    assert.equal(await count(h, 'webhook_messages', h.storeId), 0);
    assert.equal(wakes, 0);
    assert.equal((await api(h, 'POST', `/api/v1/orders/${id}/cancel`)).status, 200);
    assert.equal(await count(h, 'webhook_messages', h.storeId), 1);
    assert.equal(wakes, 1);
  });

  test('a change with many subscriptions stores them all in its one transaction', async () => {
    const uuids = new Set<string>();
    for (let i = 0; i < 40; i++) uuids.add((await subscribe(h, i % 2 ? 'order.created' : 'order.updated', `${PUBLIC_TARGET}/many/${i}`, i % 3 ? [] : ['products'])).uuid);
    await createOrder(h);
    const rows = await storeMessages(h, h.storeId);
    assert.equal(rows.length, 20);
    assert.ok(rows.every((r) => r.topic === 'order.created' && uuids.has(r.subscription_uuid)));
    assert.equal(new Set(rows.map((r) => r.created_at)).size, 1, 'one event time for all');
    await assertBodiesMatchApi(h, rows, h);
  });
});

forEachDialect('outbox: a change whose transaction fails leaves no trace', (dialect) => {
  let h: Harness;
  let failAfterWrite = false;
  /** messages the outbox had written inside the failing transaction, seen from inside it. */
  let writtenBeforeFailure = -1;
  let wakes = 0;
  before(async () => {
    h = await startHarness(dialect, {
      sink: (outbox): OrderEventSink => ({
        publishResources: (tx, events, at) => outbox.publishResources(tx, events, at),
        async publish(tx, agg, topics, at) {
          await outbox.publish(tx, agg, topics, at);
          if (!failAfterWrite) return;
          const n = await tx.db.selectFrom('webhook_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('store_id', '=', agg.order.store_id).where('order_id', '=', agg.order.id).executeTakeFirstOrThrow();
          writtenBeforeFailure = Number(n.n);
          throw new Error('simulated failure after the outbox wrote');
        },
      }),
    });
    h.outbox.onWake(() => void (wakes += 1));
  });
  beforeEach(async () => {
    Object.assign(h, await h.addStore());
    failAfterWrite = false;
    writtenBeforeFailure = -1;
    wakes = 0;
  });
  after(async () => {
    await h.close();
  });

  test('a failed create: no order, no parts, no event, no message', async () => {
    await subscribe(h, 'order.created', `${PUBLIC_TARGET}/created`, ['products']);
    await subscribe(h, 'order.created', `${PUBLIC_TARGET}/created2`);
    failAfterWrite = true;
    const res = await api(h, 'POST', '/api/v1/orders', { customer_information: { first_name: 'X' }, products: [{ product_code: 'a', product_name: 'A', quantity: 1, unit_price: 1 }] });
    assert.equal(res.status, 500);
    assert.equal(res.body.code, 500);
    assert.doesNotMatch(JSON.stringify(res.body), /simulated|at .*\.ts/, 'no internals in the answer');
    assert.equal(writtenBeforeFailure, 2, 'the outbox had written both messages before the failure');
    for (const table of ['orders', 'order_products', 'shipments', 'payments', 'order_events', 'webhook_messages'] as const) {
      assert.equal(await count(h, table, h.storeId), 0, `${table} is empty after the rollback`);
    }
    assert.equal(wakes, 0, 'a rolled-back change never wakes the dispatcher');
    assert.equal((await api(h, 'GET', '/api/v1/orders')).body.meta.item_count, 0);

    // The same request succeeds once the failure is gone: the rollback left nothing in the way.
    failAfterWrite = false;
    const ok = await api(h, 'POST', '/api/v1/orders', { customer_information: { first_name: 'X' }, products: [{ product_code: 'a', product_name: 'A', quantity: 1, unit_price: 1 }] });
    assert.equal(ok.status, 200);
    assert.equal(await count(h, 'webhook_messages', h.storeId), 2);
    assert.equal(wakes, 1);
  });

  test('a failed update, cancel, payment change or comment: the order is as before and no message exists', async () => {
    for (const topic of ['order.updated', 'order.cancelled', 'order.payment_updated', 'order.comment_created', 'order.shipment_completed', 'order.completed']) {
      await subscribe(h, topic, `${PUBLIC_TARGET}/${topic}`, [...ORDER_EXPANDS]);
    }
    const id = await createOrder(h, { payment: { status: 'OPEN' } });
    const pid = (await api(h, 'GET', `/api/v1/orders/${id}?expand=payments`)).body.data.payments[0].id;
    const sid = (await api(h, 'GET', `/api/v1/orders/${id}/shipments`)).body.data[0].id;
    const snapshot = async () => (await api(h, 'GET', `/api/v1/orders/${id}?expand=${ORDER_EXPANDS.join(',')}`)).body.data;
    const before = await snapshot();
    const messagesBefore = await count(h, 'webhook_messages', h.storeId);
    assert.equal(messagesBefore, 0);
    failAfterWrite = true;
    const changes: [string, () => Promise<ApiResponse>][] = [
      ['PATCH', () => api(h, 'PATCH', `/api/v1/orders/${id}`, { details: 'changed', shipping_address: { city: 'Turku' } })],
      ['cancel', () => api(h, 'POST', `/api/v1/orders/${id}/cancel`)],
      ['mark-as-paid', () => api(h, 'POST', `/api/v1/orders/${id}/payments/${pid}/mark-as-paid`)],
      ['comment', () => api(h, 'POST', `/api/v1/orders/${id}/comments`, { text: 'lost', visibility: 'PUBLIC' })],
      ['complete shipment', () => api(h, 'POST', `/api/v1/orders/${id}/shipments/${sid}/complete`, { tracking_code: 'LOST' })],
      ['quick-process', () => api(h, 'POST', `/api/v1/orders/${id}/quick-process`, { allow_open_cash_on_delivery_payments: true })],
    ];
    for (const [name, change] of changes) {
      writtenBeforeFailure = -1;
      const res = await change();
      assert.equal(res.status, 500, name);
      assert.ok(writtenBeforeFailure > 0, `${name}: the outbox wrote ${writtenBeforeFailure} message(s) before the failure`);
      assert.deepEqual(await snapshot(), before, `${name}: the order, its parts and its events are unchanged`);
      assert.equal(await count(h, 'webhook_messages', h.storeId), 0, `${name}: no message survived`);
      assert.equal(await count(h, 'comments', h.storeId), 0, `${name}: no comment`);
    }
    assert.equal(wakes, 0);
  });
});
