/**
 * The delivery log and recovery endpoints (SPEC §3): list (newest first, filters), detail with
 * attempts, resend (same webhook-id, a new attempt), recover a window (dry run, then requeue), and
 * `POST /webhooks/{uuid}/test` answering with the attempt's outcome. Real receivers on 127.0.0.1,
 * opened to the network guard with the operator allow-list.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { MessageStatus } from '../../src/db/schema.js';
import { lowerLanesFromQueue } from '../../src/delivery/lanes.js';
import { enqueueMessages } from '../../src/delivery/queue.js';
import { whsecFromUuid } from '../../src/delivery/signer.js';
import { renderMessageBody } from '../../src/webhooks/outbox.js';
import { forEachDialect } from '../helpers/database.js';
import { startReceiver, type ReceivedRequest, type Receiver, type ReceiverReply } from '../helpers/receiver.js';
import { api, createOrder, startHarness, subscribe, type Harness } from '../helpers/webhooks-app.js';

const LOOPBACK = '127.0.0.0/8,::1/128';
const T0 = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;

/** A port nothing listens on: bound by the OS, then released. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Verifies a received request the way a receiver would, with the official library. */
function assertSigned(req: ReceivedRequest, uuid: string): void {
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
  assert.doesNotThrow(() => new Webhook(whsecFromUuid(uuid)).verify(req.body, headers), 'verifies with standardwebhooks and whsec_ + base64(uuid)');
  assert.ok(!JSON.stringify(req.headers).includes(uuid), 'the subscription uuid is never sent');
  assert.ok(!req.body.includes(uuid), 'nor in the body');
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

forEachDialect('webhooks API: delivery log, resend, recover, test', (dialect) => {
  let h: Harness;
  let receiver: Receiver;
  let reply: ReceiverReply;
  before(async () => {
    h = await startHarness(dialect, { config: { allowTargets: LOOPBACK, retryBaseMs: 60_000 } });
    receiver = await startReceiver(() => reply);
  });
  beforeEach(async () => {
    Object.assign(h, await h.addStore());
    h.requeued.count = 0;
    reply = { status: 200, body: 'ok' };
    receiver.requests.length = 0;
  });
  after(async () => {
    await receiver.close();
    await h.close();
  });

  const rowOf = (messageId: string) => h.database.kysely.selectFrom('webhook_messages').selectAll().where('message_id', '=', messageId).executeTakeFirstOrThrow();

  /** Queues a message as the outbox would have (its lane too), in any state, at any time. */
  async function insertMessage(uuid: string, status: MessageStatus, createdAt: number, attempts = status === 'pending' ? 0 : 16): Promise<string> {
    const messageId = `msg_${Math.random().toString(36).slice(2).padEnd(27, '0').slice(0, 27)}`;
    await enqueueMessages(h.database.kysely, [
      {
        message_id: messageId,
        store_id: h.storeId,
        subscription_uuid: uuid,
        topic: 'order.created',
        order_id: null,
        body: renderMessageBody(messageId, 'order.created', createdAt, { id: 1 }, 1),
        status,
        attempt_count: attempts,
        created_at: createdAt,
        next_attempt_at: status === 'pending' ? createdAt : null,
        last_attempt_at: attempts ? createdAt + 60_000 : null,
        delivered_at: status === 'delivered' ? createdAt + 60_000 : null,
        locked_by: null,
        locked_until: null,
      },
    ]);
    return messageId;
  }

  test('the log lists messages newest first, paged, filtered by status and created_at', async () => {
    const sub = await subscribe(h, 'order.created', receiver.url);
    const noise = await subscribe(h, 'order.created', `${receiver.url}?other`);
    const orders = [await createOrder(h), await createOrder(h), await createOrder(h)];
    const rows = await h.database.kysely.selectFrom('webhook_messages').selectAll().where('subscription_uuid', '=', sub.uuid).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => r.order_id), orders);
    // Spread them over known times: T0, T0+1h, T0+2h (earlier than queued: their lane follows).
    for (const [i, r] of rows.entries()) {
      await h.database.kysely.updateTable('webhook_messages').set({ created_at: T0 + i * HOUR, next_attempt_at: T0 + i * HOUR }).where('id', '=', r.id).execute();
    }
    await lowerLanesFromQueue(h.database.kysely, [sub.uuid]);
    const ids = rows.map((r) => r.message_id);
    const list = async (query = '') => {
      const res = await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}/deliveries${query}`);
      assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
      return res.body;
    };

    const all = await list();
    assert.deepEqual(all.data.map((d: { id: string }) => d.id), [ids[2], ids[1], ids[0]], 'newest first');
    assert.deepEqual(all.meta, { page: 1, page_size: 50, page_count: 1, item_count: 3 });
    const first = all.data[2];
    assert.deepEqual(first, {
      id: ids[0],
      subscription_uuid: sub.uuid,
      topic: 'order.created',
      order_id: orders[0],
      sequence: 1,
      status: 'pending',
      attempt_count: 0,
      created_at: '2026-03-01T12:00:00.000+00:00',
      next_attempt_at: '2026-03-01T12:00:00.000+00:00',
      last_attempt_at: null,
      delivered_at: null,
    });

    const page1 = await list('?page_size=2');
    assert.deepEqual(page1.data.map((d: { id: string }) => d.id), [ids[2], ids[1]]);
    assert.ok(page1.meta.next);
    const page2 = await list('?page_size=2&page=2');
    assert.deepEqual(page2.data.map((d: { id: string }) => d.id), [ids[0]]);
    assert.equal(page2.meta.next, undefined);

    const enc = encodeURIComponent;
    const window: [string, (string | undefined)[]][] = [
      [`?created_at-from=${enc('2026-03-01T13:00:00Z')}`, [ids[2], ids[1]]],
      [`?created_at-to=${enc('2026-03-01T13:00:00Z')}`, [ids[1], ids[0]]],
      [`?created_at-from=${enc('2026-03-01T13:00:00Z')}&created_at-to=${enc('2026-03-01T13:00:00Z')}`, [ids[1]]],
      [`?created_at-from=${enc('2026-03-01T15:00:00+02:00')}&created_at-to=${enc('2026-03-01T16:00:00+03:00')}`, [ids[1]]],
      [`?created_at-from=${enc('2026-03-01T13:00:00.001Z')}`, [ids[2]]],
      [`?created_at-to=${enc('2026-03-01T11:59:59Z')}`, []],
    ];
    for (const [query, expected] of window) {
      assert.deepEqual((await list(query)).data.map((d: { id: string }) => d.id), expected, query);
    }

    assert.equal((await list('?status=pending')).meta.item_count, 3);
    assert.equal((await list('?status=delivered')).meta.item_count, 0);
    // Deliver the middle one: the filters follow.
    const resend = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/deliveries/${ids[1]}/resend`);
    assert.equal(resend.status, 200);
    assert.deepEqual((await list('?status=delivered')).data.map((d: { id: string }) => d.id), [ids[1]]);
    assert.deepEqual((await list('?status=pending')).data.map((d: { id: string }) => d.id), [ids[2], ids[0]]);
    assert.deepEqual((await list(`?status=pending&created_at-to=${enc('2026-03-01T13:30:00Z')}`)).data.map((d: { id: string }) => d.id), [ids[0]]);
    assert.equal((await list('?status=failed')).meta.item_count, 0);

    for (const bad of ['?status=lost', '?created_at-from=yesterday', `?created_at-to=${enc('2026-02-30T13:00:00')}`, '?page=0', '?sort=id-asc']) {
      const res = await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}/deliveries${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.code, 400);
    }
    // Each subscription sees only its own messages.
    const other = await api(h, 'GET', `/api/v1/webhooks/${noise.uuid}/deliveries`);
    assert.equal(other.body.meta.item_count, 3);
    assert.ok(other.body.data.every((d: { id: string; subscription_uuid: string }) => !ids.includes(d.id) && d.subscription_uuid === noise.uuid));
  });

  test('detail shows the stored body and every attempt; resend sends the same bytes under the same webhook-id', async () => {
    const sub = await subscribe(h, 'order.created', receiver.url, ['products']);
    await createOrder(h);
    const row = (await h.database.kysely.selectFrom('webhook_messages').selectAll().where('subscription_uuid', '=', sub.uuid).executeTakeFirstOrThrow());
    const path = `/api/v1/webhooks/${sub.uuid}/deliveries/${row.message_id}`;

    const fresh = await api(h, 'GET', path);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.body.data.id, row.message_id);
    assert.equal(fresh.body.data.body, row.body);
    assert.deepEqual(fresh.body.data.attempts, []);

    const first = await api(h, 'POST', `${path}/resend`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.data.delivery.id, row.message_id);
    assert.equal(first.body.data.delivery.status, 'delivered');
    assert.equal(first.body.data.delivery.attempt_count, 1);
    assert.equal(first.body.data.delivery.next_attempt_at, null);
    assert.ok(first.body.data.delivery.delivered_at);
    assert.equal(first.body.data.attempt.attempt, 1);
    assert.equal(first.body.data.attempt.status_code, 200);
    assert.equal(first.body.data.attempt.error_class, null);
    assert.equal(first.body.data.attempt.response_body, 'ok');
    assert.ok(first.body.data.attempt.duration_ms >= 0);
    assert.equal(receiver.requests.length, 1);
    const r1 = receiver.requests[0]!;
    assert.equal(r1.method, 'POST');
    assert.equal(r1.headers['webhook-id'], row.message_id);
    assert.equal(r1.headers['webhook-topic'], 'order.created');
    assert.equal(r1.headers['webhook-attempt'], '1');
    assert.equal(r1.headers['content-type'], 'application/json');
    assert.match(String(r1.headers['user-agent']), /^storehook\//);
    assert.equal(r1.body, row.body, 'the stored bytes are the bytes sent');
    assertSigned(r1, sub.uuid);

    reply = { status: 200, body: 'again' };
    const second = await api(h, 'POST', `${path}/resend`);
    assert.equal(second.status, 200);
    assert.equal(second.body.data.attempt.attempt, 2);
    assert.equal(second.body.data.delivery.attempt_count, 2);
    assert.equal(receiver.requests.length, 2);
    const r2 = receiver.requests[1]!;
    assert.equal(r2.headers['webhook-id'], row.message_id, 'the same webhook-id: the receiver can deduplicate');
    assert.equal(r2.headers['webhook-attempt'], '2');
    assert.equal(r2.body, r1.body);
    assertSigned(r2, sub.uuid);

    reply = { status: 500, headers: { 'content-type': 'text/plain' }, body: 'database down' };
    const failing = await api(h, 'POST', `${path}/resend`);
    assert.equal(failing.status, 200, 'the resend request itself worked; the outcome says the delivery failed');
    assert.equal(failing.body.data.attempt.attempt, 3);
    assert.equal(failing.body.data.attempt.status_code, 500);
    assert.equal(failing.body.data.attempt.error_class, 'http_status');
    assert.equal(failing.body.data.attempt.response_body, 'database down');
    assert.equal(failing.body.data.delivery.status, 'pending', 'a failed resend is retried on the schedule');
    const next = Date.parse(failing.body.data.delivery.next_attempt_at as string);
    const started = Date.parse(failing.body.data.attempt.started_at as string);
    assert.ok(next >= started + 60_000 && next <= started + 60_000 + 5_000, 'the first retry, retryBaseMs after the attempt');
    assert.equal(h.requeued.count, 1, 'the dispatcher is told about the scheduled retry');

    const detail = await api(h, 'GET', path);
    assert.equal(detail.status, 200);
    assert.deepEqual(detail.body.data.attempts.map((a: { attempt: number; status_code: number }) => [a.attempt, a.status_code]), [[1, 200], [2, 200], [3, 500]]);
    assert.equal(detail.body.data.attempts[1].response_body, 'again');
    for (const a of detail.body.data.attempts) {
      assert.match(a.started_at, /\+00:00$/);
      assert.equal(typeof a.duration_ms, 'number');
    }
    assert.equal(detail.body.data.status, 'pending');
    assert.equal(detail.body.data.body, row.body, 'the body never changes');
  });

  test('resend and detail: unknown, foreign or busy messages', async () => {
    const sub = await subscribe(h, 'order.created', receiver.url);
    const other = await subscribe(h, 'order.updated', receiver.url);
    const id = await createOrder(h);
    assert.equal((await api(h, 'PATCH', `/api/v1/orders/${id}`, { details: 'x' })).status, 200);
    const mine = (await h.database.kysely.selectFrom('webhook_messages').select('message_id').where('subscription_uuid', '=', sub.uuid).executeTakeFirstOrThrow()).message_id;
    const theirs = (await h.database.kysely.selectFrom('webhook_messages').select('message_id').where('subscription_uuid', '=', other.uuid).executeTakeFirstOrThrow()).message_id;

    for (const [method, path] of [['GET', ''], ['POST', '/resend']] as const) {
      assert.equal((await api(h, method, `/api/v1/webhooks/${sub.uuid}/deliveries/msg_nope${path}`)).status, 404);
      const foreign = await api(h, method, `/api/v1/webhooks/${sub.uuid}/deliveries/${theirs}${path}`);
      assert.equal(foreign.status, 404, 'a message of another subscription is not found through this one');
    }
    const stranger = await h.addStore();
    assert.equal((await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}/deliveries/${mine}`, undefined, stranger)).status, 404);
    assert.equal((await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/deliveries/${mine}/resend`, undefined, stranger)).status, 404);
    assert.equal(receiver.requests.length, 0, 'nothing was sent for any of these');

    // A message another worker holds a live lease on is not sent twice.
    await h.database.kysely.updateTable('webhook_messages').set({ locked_by: 'worker-x', locked_until: Date.now() + 60_000 }).where('message_id', '=', mine).execute();
    const busy = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/deliveries/${mine}/resend`);
    assert.equal(busy.status, 409);
    assert.match(busy.body.message, new RegExp(mine));
    assert.equal(receiver.requests.length, 0);
    assert.equal((await rowOf(mine)).locked_by, 'worker-x', 'the holder keeps its lease');
  });

  test('recover counts the failed messages of a window (dry run), then requeues exactly those', async () => {
    const sub = await subscribe(h, 'order.created', receiver.url);
    const other = await subscribe(h, 'order.updated', receiver.url);
    const early = await insertMessage(sub.uuid, 'failed', T0);
    const inA = await insertMessage(sub.uuid, 'failed', T0 + HOUR);
    const inB = await insertMessage(sub.uuid, 'failed', T0 + 2 * HOUR);
    const delivered = await insertMessage(sub.uuid, 'delivered', T0 + HOUR, 1);
    const pending = await insertMessage(sub.uuid, 'pending', T0 + HOUR);
    const foreign = await insertMessage(other.uuid, 'failed', T0 + HOUR);
    const path = `/api/v1/webhooks/${sub.uuid}/recover`;
    const window = { since: '2026-03-01T12:30:00Z', until: '2026-03-01T14:00:00Z' };

    const dry = await api(h, 'POST', path, { ...window, dry_run: true });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.deepEqual(dry.body.data, { count: 2, dry_run: true, since: '2026-03-01T12:30:00.000+00:00', until: '2026-03-01T14:00:00.000+00:00' });
    for (const m of [early, inA, inB, foreign]) assert.equal((await rowOf(m)).status, 'failed', 'a dry run changes nothing');
    assert.equal(h.requeued.count, 0);
    // Without until the window runs to now; the bounds are inclusive.
    assert.equal((await api(h, 'POST', path, { since: '2026-03-01T12:00:00Z', dry_run: true })).body.data.count, 3);
    assert.equal((await api(h, 'POST', path, { since: '2026-03-01T13:00:00Z', until: '2026-03-01T13:00:00Z', dry_run: true })).body.data.count, 1);
    // Offsets are honoured: 15:00+03:00 is T0, 16:00+02:00 is T0+2h.
    assert.equal((await api(h, 'POST', path, { since: '2026-03-01T15:00:00+03:00', until: '2026-03-01T16:00:00+02:00', dry_run: true })).body.data.count, 3);

    const before = Date.now();
    const real = await api(h, 'POST', path, window);
    assert.equal(real.status, 200);
    assert.equal(real.body.data.count, 2);
    assert.equal(real.body.data.dry_run, false);
    for (const m of [inA, inB]) {
      const row = await rowOf(m);
      assert.equal(row.status, 'pending', 'requeued');
      assert.ok(row.next_attempt_at !== null && row.next_attempt_at >= before - 1 && row.next_attempt_at <= Date.now(), 'due now');
      assert.equal(row.schedule_base, 16, 'a fresh retry schedule counts from here');
      assert.equal(row.attempt_count, 16, 'the history is kept');
    }
    assert.equal((await rowOf(early)).status, 'failed', 'outside the window');
    assert.equal((await rowOf(foreign)).status, 'failed', "another subscription's message");
    assert.equal((await rowOf(delivered)).status, 'delivered');
    assert.equal((await rowOf(pending)).status, 'pending');
    assert.equal(h.requeued.count, 1, 'the dispatcher is woken');
    const list = await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}/deliveries?status=failed`);
    assert.deepEqual(list.body.data.map((d: { id: string }) => d.id), [early]);

    const again = await api(h, 'POST', path, window);
    assert.equal(again.body.data.count, 0, 'nothing failed is left in the window');
    assert.equal(h.requeued.count, 1, 'nothing to wake for');

    const cases: [unknown, RegExp][] = [
      [{ since: '2026-03-01T14:00:00Z', until: '2026-03-01T12:00:00Z' }, /since.*after until/],
      [{ since: 'last week' }, /since/],
      [{ since: '2026-02-30T12:00:00' }, /since/],
      [{ until: '2026-03-01T12:00:00Z' }, /since is required/],
      [{ since: '' }, /since.*required/],
      [{ since: '', dry_run: true }, /since.*required/],
      [{ since: '2026-03-01T12:00:00Z', dry_run: 'yes' }, /dry_run/],
      [{ since: '2026-03-01T12:00:00Z', limit: 5 }, /limit is not a known field/],
    ];
    for (const [body, message] of cases) {
      const res = await api(h, 'POST', path, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.message, message, JSON.stringify(body));
    }
  });

  test('POST /test sends a signed webhook.test message now and answers with the outcome', async () => {
    const sub = await subscribe(h, 'order.shipment_completed', receiver.url, ['shipments']);
    const res = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/test`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { delivery, attempt } = res.body.data;
    assert.equal(delivery.topic, 'webhook.test');
    assert.equal(delivery.status, 'delivered');
    assert.equal(delivery.order_id, null);
    assert.equal(delivery.attempt_count, 1);
    assert.equal(delivery.subscription_uuid, sub.uuid);
    assert.equal(attempt.attempt, 1);
    assert.equal(attempt.status_code, 200);
    assert.equal(attempt.error_class, null);
    assert.equal(attempt.response_body, 'ok');

    assert.equal(receiver.requests.length, 1);
    const req = receiver.requests[0]!;
    assert.equal(req.headers['webhook-topic'], 'webhook.test');
    assert.equal(req.headers['webhook-id'], delivery.id);
    assertSigned(req, sub.uuid);
    const body = JSON.parse(req.body);
    assert.deepEqual(Object.keys(body).sort(), ['created_at', 'data', 'id', 'sequence', 'topic']);
    assert.equal(body.id, delivery.id);
    assert.equal(body.topic, 'webhook.test');
    assert.equal(body.created_at, delivery.created_at);
    assert.deepEqual(body.data.subscription, { topic: 'order.shipment_completed', url: receiver.url, expands: ['shipments'] });

    // It is in the log like any message.
    const log = await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}/deliveries`);
    assert.deepEqual(log.body.data.map((d: { id: string }) => d.id), [delivery.id]);
    const detail = await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}/deliveries/${delivery.id}`);
    assert.equal(detail.body.data.body, req.body);
    assert.equal(detail.body.data.attempts.length, 1);
  });

  test('POST /test reports a failing receiver: status code, error class and body, and is not retried', async () => {
    const sub = await subscribe(h, 'order.created', receiver.url);
    reply = { status: 503, headers: { 'retry-after': '1' }, body: 'maintenance' };
    const res = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/test`);
    assert.equal(res.status, 200);
    assert.equal(res.body.data.attempt.status_code, 503);
    assert.equal(res.body.data.attempt.error_class, 'http_status');
    assert.equal(res.body.data.attempt.response_body, 'maintenance');
    assert.equal(res.body.data.delivery.status, 'failed', 'a test message is one attempt');
    assert.equal(res.body.data.delivery.next_attempt_at, null);
    assert.equal(h.requeued.count, 0);
    // Still resendable by hand, under the same id.
    reply = { status: 204 };
    const resend = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/deliveries/${res.body.data.delivery.id}/resend`);
    assert.equal(resend.body.data.delivery.status, 'delivered');
    assert.equal(receiver.requests[1]!.headers['webhook-id'], res.body.data.delivery.id);
  });

  test('POST /test to a dead port: failed, error_class connection_refused', async () => {
    const port = await deadPort();
    const sub = await subscribe(h, 'order.created', `http://127.0.0.1:${port}/hook`);
    const res = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/test`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.data.attempt.error_class, 'connection_refused');
    assert.equal(res.body.data.attempt.status_code, null);
    assert.ok(res.body.data.attempt.error_message, 'says what went wrong');
    assert.equal(res.body.data.delivery.status, 'failed');
    const detail = await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}/deliveries/${res.body.data.delivery.id}`);
    assert.equal(detail.body.data.attempts[0].error_class, 'connection_refused');
  });

  test('POST /test answered 410 Gone disables the subscription, with the reason', async () => {
    const sub = await subscribe(h, 'order.created', receiver.url);
    reply = { status: 410, body: 'gone' };
    const res = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/test`);
    assert.equal(res.status, 200);
    assert.equal(res.body.data.attempt.status_code, 410);
    const after = await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}`);
    assert.equal(after.body.data.status, 'disabled');
    assert.match(after.body.data.disabled_reason, /410/);
  });
});

forEachDialect('webhooks API: recover with a running dispatcher', (dialect) => {
  let h: Harness;
  let receiver: Receiver;
  let reply: ReceiverReply = { status: 500, body: 'down' };
  before(async () => {
    h = await startHarness(dialect, { config: { allowTargets: LOOPBACK, retryBaseMs: 60_000, leaseMs: 5_000 }, dispatcher: true });
    receiver = await startReceiver(() => reply);
  });
  after(async () => {
    await receiver.close();
    await h.close();
  });

  test('a message fails its last retry, shows as failed, and is delivered after recover under the same webhook-id', async () => {
    const sub = await subscribe(h, 'order.created', receiver.url);
    const orderId = await createOrder(h);
    await receiver.waitFor(1);
    // The first attempt failed and its retry is a minute away (retryBaseMs): fast-forward the
    // message to its last retry, the 16th attempt, due now.
    const row = await h.database.kysely.selectFrom('webhook_messages').selectAll().where('subscription_uuid', '=', sub.uuid).executeTakeFirstOrThrow();
    await waitUntil('the first attempt is recorded', async () => {
      const m = await h.database.kysely.selectFrom('webhook_messages').select(['attempt_count', 'locked_by']).where('id', '=', row.id).executeTakeFirstOrThrow();
      return m.attempt_count === 1 && m.locked_by === null;
    });
    const moved = await h.database.kysely.updateTable('webhook_messages').set({ attempt_count: 15, next_attempt_at: Date.now() }).where('id', '=', row.id).where('locked_by', 'is', null).executeTakeFirst();
    assert.equal(Number(moved.numUpdatedRows), 1);
    // Earlier than its lane says (the retry a minute away): the lane follows, as every write that makes a message due does.
    await lowerLanesFromQueue(h.database.kysely, [sub.uuid]);
    h.dispatcher!.wake();
    await waitUntil('the message is failed', async () => (await h.database.kysely.selectFrom('webhook_messages').select('status').where('id', '=', row.id).executeTakeFirstOrThrow()).status === 'failed');
    const failedReq = receiver.requests.at(-1)!;
    assert.equal(failedReq.headers['webhook-attempt'], '16');

    const failed = await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}/deliveries?status=failed`);
    assert.deepEqual(failed.body.data.map((d: { id: string; order_id: number }) => [d.id, d.order_id]), [[row.message_id, orderId]]);
    assert.equal(failed.body.data[0].next_attempt_at, null);

    reply = { status: 200, body: 'back' };
    const seen = receiver.requests.length;
    const since = new Date(row.created_at - 1000).toISOString();
    assert.equal((await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/recover`, { since, dry_run: true })).body.data.count, 1);
    const recovered = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/recover`, { since });
    assert.equal(recovered.body.data.count, 1);
    await receiver.waitFor(seen + 1);
    const redelivered = receiver.requests[seen]!;
    assert.equal(redelivered.headers['webhook-id'], row.message_id);
    assert.equal(redelivered.headers['webhook-attempt'], '17');
    assert.equal(redelivered.body, row.body);
    assertSigned(redelivered, sub.uuid);
    await waitUntil('the message is delivered', async () => (await h.database.kysely.selectFrom('webhook_messages').select('status').where('id', '=', row.id).executeTakeFirstOrThrow()).status === 'delivered');
    const detail = await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}/deliveries/${row.message_id}`);
    assert.equal(detail.body.data.status, 'delivered');
    assert.deepEqual(detail.body.data.attempts.map((a: { attempt: number; status_code: number }) => [a.attempt, a.status_code]), [[1, 500], [16, 500], [17, 200]]);
  });
});
