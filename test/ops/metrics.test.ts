/**
 * What an operator alerts on, scraped from a real server's `/metrics`: request durations by route
 * pattern (bounded, whatever paths clients try), the subscriptions failing now (by fingerprint,
 * read from the database, gone once they deliver again), and Node's metrics by their usual names.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { uuidFingerprint } from '../../src/log.js';
import { failingSubscriptions } from '../../src/delivery/queue-views.js';
import { forEachDialect } from '../helpers/database.js';
import { perTestFixtures, waitUntil, type Engine } from '../helpers/engine.js';

const { engine, receiver } = perTestFixtures();

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function find(text: string, name: string, labels: Record<string, string> = {}): Sample[] {
  return samples(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

async function scrape(e: Engine): Promise<string> {
  const res = await fetch(`${e.server.url}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

test('request durations are labelled by route pattern and status; unknown paths share one label', async () => {
  const e = await engine('sqlite', { dispatcher: false });
  const id = await e.createOrder();
  assert.equal((await e.api('GET', `/orders/${id}`)).status, 200);
  assert.equal((await e.api('GET', `/orders/${id}`)).status, 200);
  assert.equal((await e.api('GET', '/orders/987654')).status, 404);
  const randomPaths = Array.from({ length: 5 }, () => `/no-such-${randomBytes(6).toString('hex')}`);
  for (const path of randomPaths) assert.equal((await fetch(`${e.server.url}${path}`)).status, 404);

  const text = await scrape(e);
  const count = 'storehook_http_request_duration_seconds_count';
  assert.equal(find(text, count, { method: 'GET', route: '/api/v1/orders/:id', status: '200' })[0]?.value, 2, text);
  assert.equal(find(text, count, { method: 'GET', route: '/api/v1/orders/:id', status: '404' })[0]?.value, 1);
  assert.equal(find(text, count, { method: 'POST', route: '/api/v1/orders', status: '200' })[0]?.value, 1);
  assert.equal(find(text, count, { method: 'GET', route: '(unmatched)', status: '404' })[0]?.value, randomPaths.length, 'every unknown path under one label');
  const routes = new Set(find(text, count).map((s) => s.labels['route']));
  for (const path of randomPaths) assert.ok(!text.includes(path), `raw path ${path} must not become a label`);
  const rawId = (r: string | undefined) => r !== undefined && (r.split('/').includes(String(id)) || r.includes('987654'));
  assert.ok(![...routes].some(rawId), `no raw id in any route label: ${[...routes].join(', ')}`);
  // a histogram, with buckets and a sum, not just a count
  assert.ok(find(text, 'storehook_http_request_duration_seconds_bucket', { route: '/api/v1/orders/:id', status: '200', le: '+Inf' })[0]?.value === 2);
  assert.ok((find(text, 'storehook_http_request_duration_seconds_sum', { route: '/api/v1/orders/:id', status: '200' })[0]?.value ?? -1) >= 0);
});

test('Node and process metrics carry their standard names, without a prefix', async () => {
  const e = await engine('sqlite', { dispatcher: false });
  const text = await scrape(e);
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_version_info']) {
    assert.equal(find(text, name).length, 1, `${name} present once`);
  }
  assert.equal(find(text, 'storehook_process_cpu_seconds_total').length, 0, 'no prefixed copy');
});

forEachDialect('failing subscriptions', (dialect) => {
  test('a failing subscription is listed by fingerprint until it delivers again', async () => {
    let up = false;
    const flaky = await receiver(() => (up ? { status: 200, body: 'ok' } : { status: 500, body: 'down' }));
    const healthy = await receiver();
    const e = await engine(dialect, { config: { retryBaseMs: 600_000 } });
    const failing = await e.subscribe(flaky.url);
    const fine = await e.subscribe(healthy.url);
    await e.createOrder('one');
    await e.createOrder('two');
    await waitUntil('both failed first attempts recorded', async () => (await e.messages(failing.uuid)).filter((m) => m.attempt_count === 1 && m.status === 'pending').length === 2 || null);
    await waitUntil('the healthy subscription delivered', async () => (await e.messages(fine.uuid)).every((m) => m.status === 'delivered') || null);

    const text = await scrape(e);
    const fingerprint = uuidFingerprint(failing.uuid);
    const listed = find(text, 'storehook_subscription_failing');
    assert.deepEqual(
      listed.map((s) => ({ subscription: s.labels['subscription'], store: s.labels['store'], value: s.value })),
      [{ subscription: fingerprint, store: String(e.storeId), value: 2 }],
      'only the failing subscription, by fingerprint, with its two failing messages',
    );
    assert.equal(find(text, 'storehook_failing_subscriptions')[0]?.value, 1);
    assert.equal(find(text, 'storehook_delivery_failures_total', { store: String(e.storeId) })[0]?.value, 2);
    assert.ok(!text.includes(failing.uuid) && !text.includes(fine.uuid), 'never a subscription uuid (the signing key)');

    // The receiver recovers; one message is retried now and delivers.
    up = true;
    const [first] = await e.messages(failing.uuid);
    await e.dueNow(first!.id);
    await waitUntil('the retry delivered', async () => (await e.messages(failing.uuid)).some((m) => m.status === 'delivered') || null);
    // Scrapes reuse database reads for a few seconds: poll until the cache has turned over.
    const after = await waitUntil('the subscription leaves the failing gauge', async () => {
      const t = await scrape(e);
      return find(t, 'storehook_subscription_failing').length === 0 ? t : null;
    }, 15_000, 250);
    assert.equal(find(after, 'storehook_failing_subscriptions')[0]?.value, 0);
  });

  test('the list is capped, most failing first, and the total counts them all', async () => {
    const down = await receiver(() => ({ status: 500, body: 'down' }));
    const e = await engine(dialect, { config: { retryBaseMs: 600_000 } });
    const attempted = async (count: number) =>
      waitUntil(`${count} first attempts`, async () => {
        const rows = await e.database.kysely.selectFrom('webhook_messages').select('attempt_count').execute();
        return (rows.length === count && rows.every((r) => r.attempt_count === 1)) || null;
      });
    const a = await e.subscribe(`${down.url}/a`);
    const b = await e.subscribe(`${down.url}/b`);
    await e.createOrder('one');
    await attempted(2);
    const c = await e.subscribe(`${down.url}/c`);
    await e.createOrder('two');
    await attempted(5);
    // c's only message has failed for good: still failing, counted like a retry
    const [cMessage] = await e.messages(c.uuid);
    await e.database.kysely.updateTable('webhook_messages').set({ status: 'failed', next_attempt_at: null }).where('id', '=', cMessage!.id).execute();

    const result = await failingSubscriptions(e.database, 2);
    assert.equal(result.total, 3, 'all three are failing');
    assert.deepEqual(
      result.top.map((s) => [s.subscriptionUuid, s.failingMessages, s.storeId]).sort(),
      [[a.uuid, 2, e.storeId], [b.uuid, 2, e.storeId]].sort(),
      'the two with the most failing messages are listed',
    );
  });
});

forEachDialect('subscription health metrics', (dialect) => {
  test('storehook_subscriptions by state and storehook_subscriptions_auto_disabled by cause, with no uuid in any label', async () => {
    const e = await engine(dialect, { dispatcher: false });
    const subs = [];
    for (let i = 0; i < 4; i++) subs.push(await e.subscribe(`http://127.0.0.1:9/h${i}`));
    const [, failing, byOperator, byHealth] = subs;
    const now = Date.now();
    await e.database.kysely.updateTable('webhook_subscriptions').set({ consecutive_failures: 3, failing_since: now - 5000, last_failure_at: now }).where('uuid', '=', failing!.uuid).execute();
    assert.equal((await e.api('PATCH', `/webhooks/${byOperator!.uuid}`, { status: 'disabled' })).status, 200);
    await e.database.kysely.updateTable('webhook_subscriptions').set({ status: 'disabled', disabled_by: 'failing', disabled_at: now, failing_since: now - 9000 }).where('uuid', '=', byHealth!.uuid).execute();

    const text = await scrape(e);
    const value = (name: string, labels: Record<string, string>) => find(text, name, labels)[0]?.value;
    assert.deepEqual(
      ['healthy', 'failing', 'disabled'].map((state) => value('storehook_subscriptions', { state })),
      [1, 1, 2],
      text.split('\n').filter((l) => l.startsWith('storehook_subscriptions')).join('\n'),
    );
    assert.equal(value('storehook_subscriptions_auto_disabled', { by: 'failing' }), 1);
    assert.equal(value('storehook_subscriptions_auto_disabled', { by: 'gone' }), 0);
    for (const s of subs) assert.ok(!text.includes(s.uuid), 'a uuid (the signing key) in the metrics');
  });
});
