/**
 * Ordered delivery per order (issue #17 §4) and the per-resource `sequence`, on both databases,
 * against real receivers on 127.0.0.1: an ordered subscription sees each order's messages in
 * `sequence` order although its receiver fails at random, while different orders are in flight at
 * once; a message that fails for good releases the next; concurrent changes and outcomes (two
 * dispatchers) never put two messages of one order in flight; the safety net and the operator
 * actions that remove a chain's head release what waited behind it.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import pino from 'pino';
import { claimDue } from '../../src/delivery/claim.js';
import { DispatcherTimers } from '../../src/delivery/dispatcher-timers.js';
import { recordChainedOutcomesInTransaction } from '../../src/delivery/outcome-batch-pg.js';
import { enqueueMessages, newMessageRow, recordOutcomeBatch } from '../../src/delivery/queue.js';
import { inTransaction } from '../../src/db/transaction.js';
import { orderingKeyOf } from '../../src/webhooks/sequences.js';
import { forEachDialect } from '../helpers/database.js';
import { perTestFixtures, startOwnDispatcher, waitUntil, type Engine } from '../helpers/engine.js';
import type { ReceivedRequest } from '../helpers/receiver.js';
import { sleep } from '../helpers/waiting.js';
import { seededRandom } from '../helpers/seeded-random.js';


interface Envelope {
  id: string;
  topic: string;
  sequence: number;
  data: { id: number };
}

const envelope = (r: ReceivedRequest) => JSON.parse(r.body) as Envelope;

async function subscribe(e: Engine, url: string, topic: string, ordering?: 'none' | 'per_order'): Promise<{ uuid: string; ordering: string }> {
  const res = await e.api('POST', '/webhooks', { topic, url, ...(ordering ? { ordering } : {}) });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data;
}

async function patchOrder(e: Engine, id: number, details: string): Promise<void> {
  const res = await e.api('PATCH', `/orders/${id}`, { details });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** Stored bodies' sequences of a subscription's messages, with their status, oldest first. */
async function stored(e: Engine, uuid: string) {
  return (await e.messages(uuid)).map((m) => ({ id: m.id, status: m.status, orderId: m.order_id, key: m.ordering_key, sequence: m.sequence === null ? null : Number(m.sequence), body: JSON.parse(m.body) as Envelope }));
}

forEachDialect('ordered delivery per order', (dialect) => {
  const f = perTestFixtures();

  it('an ordered subscription gets each order in sequence despite random failures, orders in parallel; an unordered one gets everything too', async () => {
    const random = seededRandom(17);
    let inFlight = 0;
    let maxInFlight = 0;
    /** orders with a request in flight right now, and the most seen at once. */
    const ordersInFlight = new Map<number, number>();
    let maxOrdersInFlight = 0;
    const delivered: Envelope[] = [];
    const ordered = await f.receiver(async (_req, raw) => {
      const body = JSON.parse(raw.toString('utf8')) as Envelope;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      ordersInFlight.set(body.data.id, (ordersInFlight.get(body.data.id) ?? 0) + 1);
      maxOrdersInFlight = Math.max(maxOrdersInFlight, ordersInFlight.size);
      await sleep(5 + Math.floor(random() * 15));
      const fail = random() < 0.4;
      inFlight--;
      const left = ordersInFlight.get(body.data.id)! - 1;
      if (left === 0) ordersInFlight.delete(body.data.id);
      else ordersInFlight.set(body.data.id, left);
      if (!fail) delivered.push(body);
      return fail ? { status: 500, body: 'random failure' } : { status: 200 };
    });
    const unordered = await f.receiver(() => (random() < 0.4 ? { status: 500 } : { status: 200 }));
    const e = await f.engine(dialect, { config: { retryBaseMs: 2 } });
    const inOrder = await subscribe(e, ordered.url, 'order.updated', 'per_order');
    assert.equal(inOrder.ordering, 'per_order');
    const anyOrder = await subscribe(e, unordered.url, 'order.updated');
    assert.equal(anyOrder.ordering, 'none');

    const ORDERS = 10;
    const UPDATES = 5;
    const ids: number[] = [];
    for (let i = 0; i < ORDERS; i++) ids.push(await e.createOrder(`order ${i}`));
    // Interleaved: round r updates every order once, several requests at a time.
    for (let r = 0; r < UPDATES; r++) await Promise.all(ids.map((id) => patchOrder(e, id, `round ${r}`)));
    const total = ORDERS * UPDATES;

    await waitUntil('every message delivered to both receivers', async () => {
      const a = await stored(e, inOrder.uuid);
      const b = await stored(e, anyOrder.uuid);
      return a.length === total && b.length === total && [...a, ...b].every((m) => m.status === 'delivered');
    }, 60_000, 50);

    // Every request the ordered receiver saw, failed or not, follows each order's sequence.
    const perOrder = new Map<number, number[]>();
    for (const body of ordered.requests.map(envelope)) perOrder.set(body.data.id, [...(perOrder.get(body.data.id) ?? []), body.sequence]);
    for (const [id, seqs] of perOrder) {
      for (let k = 1; k < seqs.length; k++) assert.ok(seqs[k]! >= seqs[k - 1]!, `order ${id}: request ${seqs[k]} after ${seqs[k - 1]} (${seqs.join(',')})`);
    }
    // Each order's successful deliveries: exactly 1..UPDATES, in that order, once each.
    const okPerOrder = new Map<number, number[]>();
    for (const body of delivered) okPerOrder.set(body.data.id, [...(okPerOrder.get(body.data.id) ?? []), body.sequence]);
    assert.equal(okPerOrder.size, ORDERS);
    for (const [id, seqs] of okPerOrder) assert.deepEqual(seqs, Array.from({ length: UPDATES }, (_, k) => k + 1), `order ${id}`);
    assert.ok(ordered.requests.length > total, 'some requests failed and were retried (the receiver failed at random)');
    // Different orders were in flight together: ordering is per order, not per subscription.
    assert.ok(maxOrdersInFlight > 1, `orders in flight at once: ${maxOrdersInFlight}`);
    assert.ok(maxInFlight > 1);

    // The unordered subscription got every message once it succeeded, whatever the order.
    const gotUnordered = new Set(unordered.requests.map((r) => envelope(r).id));
    assert.equal(gotUnordered.size, total);
    // Nothing is blocked or keyed for the unordered subscription.
    assert.ok((await stored(e, anyOrder.uuid)).every((m) => m.key === null));
  });

  it("one receiver's per_order subscriptions of different topics share each order's chain: order.created before its order.updated; another receiver is not held up", async () => {
    const random = seededRandom(29);
    const ordersNow = new Set<number>();
    let overlap = 0;
    const shared = await f.receiver(async (_req, raw) => {
      const body = JSON.parse(raw.toString('utf8')) as Envelope;
      if (ordersNow.has(body.data.id)) overlap++;
      ordersNow.add(body.data.id);
      await sleep(2 + Math.floor(random() * 8));
      ordersNow.delete(body.data.id);
      return random() < 0.5 ? { status: 500, body: 'random failure' } : { status: 200 };
    });
    const other = await f.receiver();
    const e = await f.engine(dialect, { config: { retryBaseMs: 2 } });
    const created = await subscribe(e, `${shared.url}/hooks`, 'order.created', 'per_order');
    const updated = await subscribe(e, `${shared.url}/hooks`, 'order.updated', 'per_order');
    const elsewhere = await subscribe(e, other.url, 'order.updated', 'per_order');

    const ORDERS = 6;
    const ids: number[] = [];
    for (let i = 0; i < ORDERS; i++) {
      const id = await e.createOrder(`order ${i}`);
      ids.push(id);
      // Updated at once, while its order.created may still be failing at the shared receiver.
      for (const n of [1, 2]) await patchOrder(e, id, `update ${n}`);
    }
    // The other receiver gets its updates without waiting for the shared receiver's retries.
    await other.waitFor(ORDERS * 2, 20_000);
    await waitUntil('every message delivered to the shared receiver', async () => {
      const all = [...(await stored(e, created.uuid)), ...(await stored(e, updated.uuid))];
      return all.length === ORDERS * 3 && all.every((m) => m.status === 'delivered');
    }, 60_000, 50);

    // Every request the shared receiver saw, failed or not, follows each order's sequence across both topics.
    const perOrder = new Map<number, string[]>();
    for (const body of shared.requests.map(envelope)) perOrder.set(body.data.id, [...(perOrder.get(body.data.id) ?? []), `${body.sequence}:${body.topic}`]);
    for (const id of ids) {
      const seen = perOrder.get(id)!;
      const seqs = seen.map((x) => Number(x.split(':')[0]));
      for (let k = 1; k < seqs.length; k++) assert.ok(seqs[k]! >= seqs[k - 1]!, `order ${id}: ${seen.join(', ')}`);
      assert.equal(seen[0], '1:order.created', `order ${id} starts with its order.created: ${seen.join(', ')}`);
    }
    assert.equal(overlap, 0, 'never two requests about one order at once');
    assert.ok(shared.requests.length > ORDERS * 3, 'the shared receiver failed at random, so some were retried');
    // The key names the receiver: the other receiver's chain is its own.
    const [mine] = await stored(e, updated.uuid);
    const [theirs] = await stored(e, elsewhere.uuid);
    assert.notEqual(mine!.key, theirs!.key);
    assert.equal(mine!.key, orderingKeyOf(e.storeId, `${shared.url}/hooks`, 'order', mine!.orderId!));
  });

  it('a message that fails for good releases the next one of its order', async () => {
    const receiver = await f.receiver((_req, raw) => ((JSON.parse(raw.toString('utf8')) as Envelope).sequence === 1 ? { status: 500, body: 'never' } : { status: 200 }));
    const e = await f.engine(dialect, { dispatcher: false, config: { retryBaseMs: 2 } });
    const sub = await subscribe(e, receiver.url, 'order.updated', 'per_order');
    const id = await e.createOrder();
    for (const n of [1, 2, 3]) await patchOrder(e, id, `update ${n}`);
    const before = await stored(e, sub.uuid);
    const key = orderingKeyOf(e.storeId, receiver.url, 'order', id);
    assert.deepEqual(before.map((m) => [m.status, m.sequence, m.body.sequence, m.key]), [
      ['pending', 1, 1, key],
      ['blocked', 2, 2, key],
      ['blocked', 3, 3, key],
    ]);
    assert.ok(before.slice(1).every((m) => m.status === 'blocked'));
    // The head may try twice only.
    await e.database.kysely.updateTable('webhook_messages').set({ max_attempts: 2 }).where('id', '=', before[0]!.id).execute();
    const errors: unknown[] = [];
    const own = startOwnDispatcher(e, { retryBaseMs: 2, errors });
    f.cleanups.push(() => own.close());
    own.dispatcher.start();
    await waitUntil('the chain to finish', async () => {
      const rows = await stored(e, sub.uuid);
      return rows.every((m) => m.status === 'delivered' || m.status === 'failed') ? rows : null;
    }, 20_000);
    const after = await stored(e, sub.uuid);
    assert.deepEqual(after.map((m) => m.status), ['failed', 'delivered', 'delivered']);
    assert.deepEqual(receiver.requests.map((r) => envelope(r).sequence), [1, 1, 2, 3]);
    assert.deepEqual(errors, []);
  });

  it('concurrent changes and outcomes with two dispatchers: nothing lost, never two messages of one order in flight', async () => {
    const random = seededRandom(4);
    const receiver = await f.receiver(async () => {
      await sleep(Math.floor(random() * 8));
      return random() < 0.2 ? { status: 503 } : { status: 200 };
    });
    const e = await f.engine(dialect, { dispatcher: false, config: { retryBaseMs: 2 } });
    const sub = await subscribe(e, receiver.url, 'order.updated', 'per_order');
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push(await e.createOrder(`race ${i}`));
    const errors: unknown[] = [];
    const a = startOwnDispatcher(e, { retryBaseMs: 2, errors, maxInFlightPerSubscription: 8 });
    const b = startOwnDispatcher(e, { retryBaseMs: 2, errors, maxInFlightPerSubscription: 8 });
    f.cleanups.push(() => a.close(), () => b.close());
    a.dispatcher.start();
    b.dispatcher.start();

    // While changes and outcomes race, no order ever has two messages pending (in flight or due) or held.
    let checking = true;
    const violations: string[] = [];
    const watcher = (async () => {
      while (checking) {
        const rows = await e.database.kysely
          .selectFrom('webhook_messages')
          .select(['ordering_key', (eb) => eb.fn.countAll<number>().as('n')])
          .where('subscription_uuid', '=', sub.uuid)
          .where('status', 'in', ['pending', 'held'])
          .groupBy('ordering_key')
          .execute();
        for (const r of rows) if (Number(r.n) > 1) violations.push(`${r.ordering_key}: ${r.n}`);
        await sleep(2);
      }
    })();
    const UPDATES = 12;
    for (let r = 0; r < UPDATES; r++) await Promise.all(ids.map((id) => patchOrder(e, id, `race ${r}`)));
    await waitUntil('every message delivered', async () => {
      const rows = await stored(e, sub.uuid);
      return rows.length === ids.length * UPDATES && rows.every((m) => m.status === 'delivered');
    }, 60_000, 50);
    checking = false;
    await watcher;
    assert.deepEqual(violations, []);
    const delivered = receiver.requests.map(envelope);
    for (const id of ids) {
      const seqs = delivered.filter((m) => m.data.id === id).map((m) => m.sequence);
      for (let k = 1; k < seqs.length; k++) assert.ok(seqs[k]! >= seqs[k - 1]!, `order ${id}: ${seqs.join(',')}`);
      assert.deepEqual([...new Set(seqs)], Array.from({ length: UPDATES }, (_, k) => k + 1), `order ${id}`);
    }
    assert.deepEqual(errors, []);
  });

  // Both outcome paths: the general one (recordOutcomeBatch: SQLite, resend, 410 batches) and the
  // dispatcher's on PostgreSQL (the one-statement batch inside the chain lock).
  const writers = {
    recordOutcomeBatch,
    recordChainedOutcomesInTransaction,
  };
  if (dialect === 'postgres') for (const [writerName, write] of Object.entries(writers)) {
    it(`an enqueue still open when its chain head finishes: the outcome waits for it (chain lock), then promotes it (${writerName})`, async () => {
      const e = await f.engine(dialect, { dispatcher: false });
      const receiver = await f.receiver();
      const sub = await subscribe(e, receiver.url, 'order.updated', 'per_order');
      const id = await e.createOrder();
      await patchOrder(e, id, 'head');
      const [head] = (await claimDue(e.database, { workerId: 'w', now: Date.now(), leaseMs: 60_000, limit: 10, kind: 'first', perLane: 10, room: new Map() })).messages;
      assert.ok(head && head.ordering_key === orderingKeyOf(e.storeId, receiver.url, 'order', id));
      // An enqueue of the same chain, its transaction left open: it sees the head unfinished.
      let commit!: () => void;
      const open = new Promise<void>((resolve) => (commit = resolve));
      let inserted!: () => void;
      const enqueued = new Promise<void>((resolve) => (inserted = resolve));
      const enqueue = e.database.kysely.transaction().execute(async (trx) => {
        const now = Date.now();
        await enqueueMessages(trx, [newMessageRow({ messageId: 'msg_race', storeId: e.storeId, subscriptionUuid: sub.uuid, topic: 'order.updated', orderId: id, body: '{}', createdAt: now, dueAt: now, orderingKey: head.ordering_key })]);
        inserted();
        await open;
      });
      await enqueued;
      // The head's outcome, meanwhile: without the lock it would find nothing blocked (uncommitted) and promote nothing.
      const at = Date.now();
      const outcome = inTransaction(e.database, (tx) =>
        write(tx.db, 'w', [
          { attempt: { rowId: head.id, storeId: head.store_id, subscriptionUuid: head.subscription_uuid, orderingKey: head.ordering_key, attemptNumber: 1, startedAt: at, durationMs: 1, statusCode: 200, errorClass: null, errorMessage: null, responseBody: null }, outcome: { kind: 'delivered', at } },
        ]),
      );
      // Give the outcome time to reach the lock before the enqueue commits (not an assertion: the end state is).
      await Promise.race([outcome, sleep(300)]);
      commit();
      await enqueue;
      const result = await outcome;
      assert.deepEqual(result, { held: [true], promoted: 1 });
      const rows = await stored(e, sub.uuid);
      assert.deepEqual(rows.map((m) => m.status), ['delivered', 'pending'], 'the message enqueued behind the head is due, not stranded');
    });
  }

  it('the safety net promotes a chain whose head vanished; discarding a held head releases the next at once', async () => {
    const e = await f.engine(dialect, { dispatcher: false });
    const receiver = await f.receiver();
    const sub = await subscribe(e, receiver.url, 'order.updated', 'per_order');
    const id = await e.createOrder();
    for (const n of [1, 2]) await patchOrder(e, id, `update ${n}`);
    let rows = await stored(e, sub.uuid);
    assert.deepEqual(rows.map((m) => m.status), ['pending', 'blocked']);
    // The head goes without an outcome (as retention pruning an old held head would).
    await e.database.kysely.deleteFrom('webhook_messages').where('id', '=', rows[0]!.id).execute();
    const timers = new DispatcherTimers({ database: e.database, workerId: 'test', leaseMs: 1000, retentionDays: 30, log: pino({ level: 'silent' }), held: () => [], onDue: () => undefined });
    await timers.prune();
    rows = await stored(e, sub.uuid);
    assert.deepEqual(rows.map((m) => [m.status, m.sequence]), [['pending', 2]]);
    const lane = await e.database.kysely.selectFrom('delivery_lanes').selectAll().where('subscription_uuid', '=', sub.uuid).executeTakeFirstOrThrow();
    assert.ok(lane.next_first_at !== null && Number(lane.next_first_at) <= Date.now(), 'its lane says it is due');

    // Disabled: the head is held, the next blocked behind it. Discarding held messages up to a
    // moment between them removes the head and makes the next the held head at once.
    const disabled = await e.api('PATCH', `/webhooks/${sub.uuid}`, { status: 'disabled' });
    assert.equal(disabled.status, 200);
    await patchOrder(e, id, 'update 3');
    const cut = Date.now();
    await sleep(5);
    await patchOrder(e, id, 'update 4');
    rows = await stored(e, sub.uuid);
    assert.deepEqual(rows.map((m) => [m.status, m.sequence]), [['held', 2], ['blocked', 3], ['blocked', 4]]);
    const dry = await e.api('POST', `/webhooks/${sub.uuid}/held/discard`, { until: new Date(cut).toISOString(), dry_run: true });
    assert.equal(dry.body.data.count, 2);
    const discarded = await e.api('POST', `/webhooks/${sub.uuid}/held/discard`, { until: new Date(cut).toISOString() });
    assert.equal(discarded.body.data.count, 2);
    rows = await stored(e, sub.uuid);
    assert.deepEqual(rows.map((m) => [m.status, m.sequence]), [['held', 4]]);
    // Enabling sends it.
    await e.api('PATCH', `/webhooks/${sub.uuid}`, { status: 'active' });
    rows = await stored(e, sub.uuid);
    assert.deepEqual(rows.map((m) => [m.status, m.sequence]), [['pending', 4]]);
  });

  it('ordering is validated, shown, and turning it off releases what waited', async () => {
    const e = await f.engine(dialect, { dispatcher: false });
    const receiver = await f.receiver();
    for (const bad of ['sometimes', 'PER_ORDER', 1, null]) {
      const res = await e.api('POST', '/webhooks', { topic: 'order.updated', url: receiver.url, ordering: bad });
      assert.equal(res.status, 400, `ordering ${JSON.stringify(bad)}`);
      assert.match(JSON.stringify(res.body), /ordering/, 'the error names the field');
    }
    const sub = await subscribe(e, receiver.url, 'order.updated', 'per_order');
    const badPatch = await e.api('PATCH', `/webhooks/${sub.uuid}`, { ordering: 'strict' });
    assert.equal(badPatch.status, 400);
    assert.match(JSON.stringify(badPatch.body), /ordering/);
    assert.equal((await e.api('GET', `/webhooks/${sub.uuid}`)).body.data.ordering, 'per_order');
    assert.ok((await e.api('GET', '/webhooks')).body.data.every((s: { ordering: string }) => s.ordering === 'per_order'));

    const id = await e.createOrder();
    for (const n of [1, 2, 3]) await patchOrder(e, id, `update ${n}`);
    assert.deepEqual((await stored(e, sub.uuid)).map((m) => m.status), ['pending', 'blocked', 'blocked']);
    const deliveries = await e.api('GET', `/webhooks/${sub.uuid}/deliveries?status=blocked`);
    assert.equal(deliveries.status, 200);
    assert.deepEqual(deliveries.body.data.map((d: { sequence: number }) => d.sequence).sort(), [2, 3]);

    const off = await e.api('PATCH', `/webhooks/${sub.uuid}`, { ordering: 'none' });
    assert.equal(off.status, 200);
    assert.equal(off.body.data.ordering, 'none');
    const rows = await stored(e, sub.uuid);
    assert.deepEqual(rows.map((m) => [m.status, m.key]), [['pending', null], ['pending', null], ['pending', null]]);
    // New messages are not keyed any more.
    await patchOrder(e, id, 'update 4');
    assert.deepEqual((await stored(e, sub.uuid)).map((m) => m.status), ['pending', 'pending', 'pending', 'pending']);
    // Back on: new messages wait for each other again (the released ones have left the chain).
    await e.api('PATCH', `/webhooks/${sub.uuid}`, { ordering: 'per_order' });
    for (const n of [5, 6]) await patchOrder(e, id, `update ${n}`);
    assert.deepEqual((await stored(e, sub.uuid)).slice(4).map((m) => [m.status, m.sequence]), [['pending', 5], ['blocked', 6]]);
  });

  it('sequence counts per order across topics, in the order a change lists them, and per product', async () => {
    const e = await f.engine(dialect, { dispatcher: false });
    const receiver = await f.receiver();
    const subs = new Map<string, string>();
    for (const topic of ['order.created', 'order.updated', 'order.cancelled', 'product.created', 'product.updated', 'stock_item.updated']) subs.set(topic, (await subscribe(e, receiver.url, topic)).uuid);
    // A second subscription to one topic: every subscription's message of an event shares its number.
    const second = await subscribe(e, `${receiver.url}?second`, 'order.updated', 'per_order');
    const first = await e.createOrder('first');
    const other = await e.createOrder('other');
    await patchOrder(e, first, 'changed');
    assert.equal((await e.api('POST', `/orders/${first}/cancel`, {})).status, 200);

    const all = (await e.database.kysely.selectFrom('webhook_messages').select(['topic', 'order_id', 'sequence', 'body', 'subscription_uuid']).orderBy('id').execute()).map((m) => ({ ...m, body: JSON.parse(m.body) as Envelope }));
    for (const m of all) assert.equal(m.body.sequence, Number(m.sequence), 'the column shows what the body carries');
    const ofFirst = all.filter((m) => m.order_id === first && m.subscription_uuid !== second.uuid).map((m) => [m.topic, m.body.sequence]);
    // cancel lists order.cancelled before order.updated (test/webhooks/outbox.test.ts).
    assert.deepEqual(ofFirst, [['order.created', 1], ['order.updated', 2], ['order.cancelled', 3], ['order.updated', 4]]);
    assert.deepEqual(all.filter((m) => m.order_id === other).map((m) => [m.topic, m.body.sequence]), [['order.created', 1]]);
    assert.deepEqual(all.filter((m) => m.subscription_uuid === second.uuid).map((m) => m.body.sequence), [2, 4]);

    const product = (code: string) => ({ product_code: code, name: `Product ${code}`, price: 12.9, vat_rate: 14 });
    const p1 = (await e.api('POST', '/products', product('SEQ-1'))).body.data.id as number;
    const p2 = (await e.api('POST', '/products', product('SEQ-2'))).body.data.id as number;
    for (const name of ['a', 'b']) assert.equal((await e.api('PATCH', `/products/${p1}`, { name })).status, 200);
    const products = (await e.database.kysely.selectFrom('webhook_messages').select(['topic', 'body']).where('topic', 'like', 'product.%').orderBy('id').execute()).map((m) => JSON.parse(m.body) as Envelope);
    assert.deepEqual(products.filter((m) => m.data.id === p1).map((m) => [m.topic, m.sequence]), [['product.created', 1], ['product.updated', 2], ['product.updated', 3]]);
    assert.deepEqual(products.filter((m) => m.data.id === p2).map((m) => [m.topic, m.sequence]), [['product.created', 1]]);

    // Stock items count on their own, apart from their product's numbers.
    const stockOf = async (code: string) =>
      (await e.database.kysely.selectFrom('webhook_messages').select(['body', 'sequence']).where('topic', '=', 'stock_item.updated').orderBy('id').execute())
        .map((m) => ({ body: JSON.parse(m.body) as Envelope & { data: { product_code: string } }, sequence: Number(m.sequence) }))
        .filter((m) => m.body.data.product_code === code)
        .map((m) => [m.body.sequence, m.sequence]);
    const before = (await stockOf('SEQ-1')).length;
    for (const quantity of [5, 4]) assert.equal((await e.api('PATCH', '/stock/SEQ-1', { quantity })).status, 200);
    assert.deepEqual((await stockOf('SEQ-1')).slice(before), [[before + 1, before + 1], [before + 2, before + 2]]);

    // The test message carries sequence 0: it is about no resource; the delivery log says the same.
    const test = await e.api('POST', `/webhooks/${subs.get('order.created')}/test`);
    assert.equal(test.status, 200);
    assert.equal(envelope(receiver.requests.at(-1)!).sequence, 0);
    const logged = await e.api('GET', `/webhooks/${subs.get('order.created')}/deliveries/${envelope(receiver.requests.at(-1)!).id}`);
    assert.equal(logged.body.data.sequence, 0);
  });
});
