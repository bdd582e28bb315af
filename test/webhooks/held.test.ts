/**
 * Held messages (SPEC §4): a disabled subscription — by PATCH or by a receiver's 410 — keeps
 * collecting its messages, held and not sent. Enabling it sends them, oldest first; the operator
 * can discard them instead, with a count. The held count shows in the API and /metrics, the
 * dispatcher never claims a held message, and retention prunes old ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StorehookClient } from '../../src/client/index.js';
import { claimDue } from '../../src/delivery/claim.js';
import { lowerLanesFromQueue } from '../../src/delivery/lanes.js';
import { pruneFinished, releaseStrandedHeld } from '../../src/delivery/queue.js';
import { forEachDialect } from '../helpers/database.js';
import { perTestFixtures, sleep, verifyBoth, waitUntil, type Engine } from '../helpers/engine.js';

const { engine, receiver } = perTestFixtures();

interface SubscriptionAnswer {
  data: { status: string; held_count: number; disabled_reason: string | null };
}

async function heldCount(e: Engine, uuid: string): Promise<number> {
  const res = await e.api<SubscriptionAnswer>('GET', `/webhooks/${uuid}`);
  assert.equal(res.status, 200);
  return res.body.data.held_count;
}

async function metricsSample(e: Engine, state: string): Promise<number | undefined> {
  const text = await (await fetch(`${e.server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('storehook_messages{') && l.includes(`state="${state}"`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

forEachDialect('held messages', (dialect) => {
  test('disable, create 5 orders: 5 held, none sent; enable: all 5 delivered, oldest first', async () => {
    const e = await engine(dialect, { config: { maxInFlightPerSubscription: 1 } });
    const r = await receiver();
    const sub = await e.subscribe(r.url);
    assert.equal((await e.api('PATCH', `/webhooks/${sub.uuid}`, { status: 'disabled' })).status, 200);

    const orders: number[] = [];
    for (let i = 0; i < 5; i++) orders.push(await e.createOrder(`while disabled ${i}`));
    const log = await e.api<{ data: { id: string; status: string; next_attempt_at: string | null }[]; meta: { count: number } }>('GET', `/webhooks/${sub.uuid}/deliveries`);
    assert.equal(log.body.data.length, 5, 'every event has its message');
    assert.ok(log.body.data.every((d) => d.status === 'held' && d.next_attempt_at === null));
    const filtered = await e.api<{ data: unknown[] }>('GET', `/webhooks/${sub.uuid}/deliveries?status=held`);
    assert.equal(filtered.status, 200);
    assert.equal(filtered.body.data.length, 5, 'the log filters by the held state');
    assert.equal(await heldCount(e, sub.uuid), 5);
    const list = await e.api<{ data: { uuid: string; held_count: number }[] }>('GET', '/webhooks');
    assert.equal(list.body.data.find((s) => s.uuid === sub.uuid)?.held_count, 5);
    assert.equal(await metricsSample(e, 'held'), 5);
    await sleep(500);
    assert.equal(r.requests.length, 0, 'nothing is sent while disabled');

    const on = await e.api<SubscriptionAnswer>('PATCH', `/webhooks/${sub.uuid}`, { status: 'active' });
    assert.equal(on.status, 200);
    assert.equal(on.body.data.held_count, 0, 'enabling releases them all');
    await r.waitFor(5, 10_000);
    const sentOrders = r.requests.map((q) => verifyBoth(q, sub.uuid).data.id);
    assert.deepEqual(sentOrders, orders, 'sent in the order the events happened');
    await waitUntil('all delivered', async () => (await e.messages(sub.uuid)).every((m) => m.status === 'delivered'));
    assert.equal(r.requests.length, 5);
  });

  test('a receiver that answers 410, then recovers: 30 orders, 30 delivered after enabling', async () => {
    const e = await engine(dialect);
    let gone = true;
    const r = await receiver(() => (gone ? { status: 410, body: 'gone for now' } : { status: 200 }));
    const sub = await e.subscribe(r.url);
    for (let i = 0; i < 30; i++) await e.createOrder(`order ${i}`);
    await waitUntil('disabled by the 410', async () => (await e.api<SubscriptionAnswer>('GET', `/webhooks/${sub.uuid}`)).body.data.status === 'disabled');
    await waitUntil('all 30 held', async () => (await heldCount(e, sub.uuid)) === 30);
    const gotGone = r.requests.length;
    assert.ok(gotGone >= 1, 'the receiver saw the 410 attempt(s)');
    const stored = await e.messages(sub.uuid);
    assert.equal(stored.length, 30, 'no event is lost');
    assert.ok(stored.every((m) => m.status === 'held' && m.locked_by === null));

    gone = false;
    assert.equal((await e.api('PATCH', `/webhooks/${sub.uuid}`, { status: 'active' })).status, 200);
    const delivered = await waitUntil('30 delivered', async () => {
      const m = await e.messages(sub.uuid);
      return m.every((x) => x.status === 'delivered') ? m : null;
    });
    assert.equal(delivered.length, 30);
    const okIds = new Set(r.requests.slice(gotGone).map((q) => q.headers['webhook-id']));
    assert.deepEqual(okIds, new Set(delivered.map((m) => m.message_id)), 'each of the 30 reached the receiver');
    assert.equal(await heldCount(e, sub.uuid), 0);
  });

  test('discard: the operator drops held messages explicitly and gets the count; nothing is sent on enabling', async () => {
    const e = await engine(dialect);
    const r = await receiver();
    const sub = await e.subscribe(r.url);
    const creds = e.server.demoCredentials!;
    const client = new StorehookClient({ baseUrl: e.server.url, email: creds.email, apiKey: creds.apiKey });
    await client.webhooks.update(sub.uuid, { status: 'disabled' });
    for (let i = 0; i < 3; i++) await e.createOrder(`to discard ${i}`);

    const dry = await client.webhooks.discardHeld(sub.uuid, { dry_run: true });
    assert.equal(dry.count, 3);
    assert.equal(dry.dry_run, true);
    assert.equal(await heldCount(e, sub.uuid), 3, 'a dry run changes nothing');
    const cutoff = new Date().toISOString();
    await sleep(5);
    await e.createOrder('after the cutoff');
    const done = await client.webhooks.discardHeld(sub.uuid, { until: cutoff });
    assert.equal(done.count, 3, 'only those created up to `until`');
    assert.equal(await heldCount(e, sub.uuid), 1);
    assert.equal((await client.webhooks.discardHeld(sub.uuid)).count, 1);
    assert.equal((await e.messages(sub.uuid)).length, 0);

    const bad = await e.api<{ code: number; message: string; errors?: { field: string }[] }>('POST', `/webhooks/${sub.uuid}/held/discard`, { until: 'yesterday' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /until/);
    const other = await e.api('POST', '/webhooks/00000000-0000-4000-8000-000000000000/held/discard', {});
    assert.equal(other.status, 404);

    await client.webhooks.update(sub.uuid, { status: 'active' });
    await sleep(500);
    assert.equal(r.requests.length, 0, 'discarded messages are never sent');
  });

  test('the dispatcher never claims a held message; one written for a subscription disabled meanwhile is held, not sent', async () => {
    const e = await engine(dialect, { dispatcher: false });
    const r = await receiver();
    const off = await e.subscribe(r.url);
    const on = await e.subscribe(r.url.replace('/hook', '/other'));
    assert.equal((await e.api('PATCH', `/webhooks/${off.uuid}`, { status: 'disabled' })).status, 200);
    for (let i = 0; i < 20; i++) await e.createOrder(`held ${i}`);
    const claim = async (workerId: string) =>
      (await claimDue(e.database, { workerId, now: Date.now() + 1000, leaseMs: 10_000, limit: 100, kind: 'first', perLane: 100, room: new Map() })).messages;
    const claimed = await claim('w1');
    assert.equal(claimed.length, 20);
    assert.ok(claimed.every((m) => m.subscription_uuid === on.uuid), 'only the active subscription’s messages');
    assert.ok((await e.messages(off.uuid)).every((m) => m.status === 'held' && m.locked_by === null), 'held rows untouched');

    // A message that was committed as pending just before its subscription was disabled.
    await e.database.kysely.updateTable('webhook_messages').set({ status: 'pending', next_attempt_at: Date.now() }).where('subscription_uuid', '=', off.uuid).execute();
    await lowerLanesFromQueue(e.database.kysely, [off.uuid]);
    assert.deepEqual(await claim('w2'), [], 'not handed out for sending');
    assert.ok((await e.messages(off.uuid)).every((m) => m.status === 'held' && m.locked_by === null && m.next_attempt_at === null), 'held on the spot');

    // The other way round: held although its subscription is active (enabled meanwhile).
    await e.database.kysely.updateTable('webhook_subscriptions').set({ status: 'active' }).where('uuid', '=', off.uuid).execute();
    assert.equal(await releaseStrandedHeld(e.database.kysely), 20);
    assert.ok((await e.messages(off.uuid)).every((m) => m.status === 'pending' && m.next_attempt_at === m.created_at));
  });

  test('recovering failed messages of a disabled subscription holds them until it is enabled', async () => {
    const e = await engine(dialect, { dispatcher: false });
    const r = await receiver();
    const sub = await e.subscribe(r.url);
    await e.createOrder('will fail');
    await e.database.kysely.updateTable('webhook_messages').set({ status: 'failed', attempt_count: 16, next_attempt_at: null, last_attempt_at: Date.now() }).where('subscription_uuid', '=', sub.uuid).execute();
    assert.equal((await e.api('PATCH', `/webhooks/${sub.uuid}`, { status: 'disabled' })).status, 200);
    const recovered = await e.api<{ data: { count: number } }>('POST', `/webhooks/${sub.uuid}/recover`, { since: '2020-01-01T00:00:00Z' });
    assert.equal(recovered.body.data.count, 1);
    assert.deepEqual((await e.messages(sub.uuid)).map((m) => [m.status, m.next_attempt_at]), [['held', null]]);
    assert.equal(await heldCount(e, sub.uuid), 1);
  });

  test('retention: held messages older than the retention are pruned, newer ones kept', async () => {
    const e = await engine(dialect, { dispatcher: false });
    const r = await receiver();
    const sub = await e.subscribe(r.url);
    assert.equal((await e.api('PATCH', `/webhooks/${sub.uuid}`, { status: 'disabled' })).status, 200);
    for (let i = 0; i < 4; i++) await e.createOrder(`held ${i}`);
    const rows = await e.messages(sub.uuid);
    const day = 86_400_000;
    // Two are 31 days old.
    await e.database.kysely.updateTable('webhook_messages').set((eb) => ({ created_at: eb('created_at', '-', 31 * day) })).where('id', 'in', [rows[0]!.id, rows[1]!.id]).execute();
    assert.equal(await pruneFinished(e.database.kysely, Date.now() - 30 * day, 500), 2);
    assert.deepEqual((await e.messages(sub.uuid)).map((m) => m.id), [rows[2]!.id, rows[3]!.id]);
  });
});
