/**
 * Endpoint health end to end (issue #17 §1), on a real server with real receivers and tiny
 * settings (disable after 1.5 s, so the failing thresholds are 0.3 s and 1.2 s; a sweep every
 * 50 ms): a subscription whose receiver fails is announced failing to the store's other
 * subscriptions of `subscription.failing` (never to itself, and never by uuid), then disabled with
 * its messages held, then, enabled again with its receiver back, it sends them and is announced
 * recovered. Two sweeps on PostgreSQL announce each change exactly once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../../src/db/connection.js';
import { HealthSweep } from '../../src/webhooks/health.js';
import { HEALTH_TOPICS } from '../../src/webhooks/topics.js';
import { forEachDialect } from '../helpers/database.js';
import { perTestFixtures, sleep, waitUntil } from '../helpers/engine.js';
import { captureLogs } from '../helpers/log-capture.js';
import type { Receiver } from '../helpers/receiver.js';

const { engine, receiver, cleanups } = perTestFixtures();

interface HealthBody {
  id: string;
  topic: string;
  data: {
    subscription: { reference: string; topic: string; url: string; status: string };
    failing_since: string | null;
    consecutive_failures: number;
    last_error: { status_code: number | null; error_class: string } | null;
    disables_at: string | null;
    disabled_at: string | null;
    disabled_reason: string | null;
  };
}

/** The health messages a receiver got about one subscription (by its reference), of one topic. */
function about(r: Receiver, topic: string, reference: string): HealthBody[] {
  return r.requests
    .filter((q) => q.headers['webhook-topic'] === topic)
    .map((q) => JSON.parse(q.body) as HealthBody)
    .filter((b) => b.data.subscription.reference === reference);
}

const TINY = { retryBaseMs: 20, webhookDisableAfterMs: 1500, healthCheckIntervalMs: 50 };

forEachDialect('endpoint health', (dialect) => {
  test('failing → announced to the other subscriptions → disabled, held → enabled again → sent, recovered', async () => {
    const logs = captureLogs('info');
    const e = await engine(dialect, { config: TINY, logger: logs.logger });
    let down = true;
    const target = await receiver(() => (down ? { status: 500, body: 'down for maintenance' } : { status: 200 }));
    const watcher = await receiver();
    const a = await e.subscribe(target.url);
    // The failing endpoint subscribes to the alerts too (another subscription at the same URL): it
    // hears about others, never about itself.
    const b = await e.subscribe(target.url, 'subscription.failing');
    for (const topic of HEALTH_TOPICS) await e.subscribe(watcher.url, topic);
    const refOf = async (uuid: string) => (await e.api('GET', `/webhooks/${uuid}`)).body.data.health.reference as string;
    const refA = await refOf(a.uuid);
    const refB = await refOf(b.uuid);
    assert.match(refA, /^sub#[0-9a-f]{10}$/);

    // Orders keep coming, so the subscription keeps failing (a failure within the last 0.3 s).
    let traffic = true;
    const orders = (async () => {
      while (traffic) {
        await e.createOrder('while down');
        await sleep(60);
      }
    })();
    cleanups.push(async () => {
      traffic = false;
      await orders;
    });

    const failing = await waitUntil('subscription.failing about the dead subscription', () => about(watcher, 'subscription.failing', refA)[0], 10_000);
    assert.equal(failing.data.subscription.topic, 'order.created');
    assert.equal(failing.data.subscription.url, target.url);
    assert.equal(failing.data.subscription.status, 'active');
    assert.ok(failing.data.consecutive_failures >= 1);
    assert.deepEqual(failing.data.last_error, { status_code: 500, error_class: 'http_status' });
    assert.equal(Date.parse(failing.data.disables_at!) - Date.parse(failing.data.failing_since!), TINY.webhookDisableAfterMs);

    const disabled = await waitUntil('the dead subscription disabled', async () => {
      const res = await e.api('GET', `/webhooks/${a.uuid}`);
      return res.body.data.status === 'disabled' ? res.body.data : null;
    }, 15_000);
    traffic = false;
    await orders;
    assert.equal(disabled.disabled_by, 'failing');
    assert.match(disabled.disabled_reason, /^Disabled automatically at .*: failing since /);
    assert.ok(Date.parse(disabled.disabled_at) - Date.parse(disabled.health.failing_since) >= TINY.webhookDisableAfterMs, 'not before the disable time');
    assert.equal(disabled.health.state, 'disabled');
    assert.equal(disabled.health.disables_at, null);
    assert.equal(disabled.health.success_rate_1h, 0);
    const announced = await waitUntil('subscription.disabled', () => about(watcher, 'subscription.disabled', refA)[0]);
    assert.equal(announced.data.subscription.status, 'disabled');
    assert.equal(announced.data.disabled_reason, disabled.disabled_reason);

    // The alert subscription at the dead URL fails too: its own failing goes to the watcher, not to it.
    await waitUntil('subscription.failing about the failing alert subscription', () => about(watcher, 'subscription.failing', refB)[0], 10_000);
    assert.deepEqual(about(target, 'subscription.failing', refB), [], 'never sent to the subscription it is about');
    assert.ok(about(target, 'subscription.failing', refA).length >= 1, "it does hear about the store's other failing subscription");

    // Held, not failed or deleted: every message of the disabled subscription waits.
    const held = await waitUntil('every message of the disabled subscription held', async () => {
      const ms = await e.messages(a.uuid);
      return ms.length > 0 && ms.every((m) => m.status === 'held') ? ms : null;
    });

    down = false;
    const enabled = await e.api('PATCH', `/webhooks/${a.uuid}`, { status: 'active' });
    assert.equal(enabled.status, 200);
    assert.equal(enabled.body.data.disabled_by, null);
    assert.equal(enabled.body.data.health.consecutive_failures, 0);
    await waitUntil('the held messages delivered', async () => (await e.messages(a.uuid)).filter((m) => m.status === 'delivered').length >= held.length, 15_000);
    const recovered = await waitUntil('subscription.recovered', () => about(watcher, 'subscription.recovered', refA)[0], 10_000);
    assert.equal(recovered.data.subscription.status, 'active');
    assert.equal(recovered.data.failing_since, null);

    // Each change once (two failing thresholds at most: 0.3 s and 1.2 s).
    assert.equal(about(watcher, 'subscription.disabled', refA).length, 1);
    assert.equal(about(watcher, 'subscription.recovered', refA).length, 1);
    assert.ok(about(watcher, 'subscription.failing', refA).length <= 2);
    // The uuid is the subscription's signing key: no message and no log line carries it.
    for (const r of [...watcher.requests, ...target.requests]) {
      assert.ok(!r.body.includes(a.uuid) && !r.body.includes(b.uuid), 'a health message carried a uuid');
    }
    assert.ok(!logs.text().includes(a.uuid), 'a log line carried the uuid');
    const warned = logs.lines().filter((l) => l['level'] === 40 && l['subscription'] === refA).map((l) => l['msg']);
    assert.ok(warned.includes('webhook subscription failing'), JSON.stringify(warned));
    assert.ok(warned.includes('webhook subscription disabled automatically'), JSON.stringify(warned));
  });

  test('a success after announced failures is announced recovered, without anyone enabling it; the alert leaves out the URL\'s query', async () => {
    const e = await engine(dialect, { config: TINY });
    let down = true;
    const target = await receiver(() => (down ? { status: 503 } : { status: 200 }));
    const watcher = await receiver();
    const a = await e.subscribe(`${target.url}?token=s3cret`);
    for (const topic of HEALTH_TOPICS) await e.subscribe(watcher.url, topic);
    const refA = (await e.api('GET', `/webhooks/${a.uuid}`)).body.data.health.reference as string;
    await e.createOrder('while down');
    const failing = await waitUntil('subscription.failing', () => about(watcher, 'subscription.failing', refA)[0], 10_000);
    assert.equal(failing.data.subscription.url, new URL(target.url).origin + new URL(target.url).pathname, 'no query, no token');
    assert.ok(!watcher.requests.some((r) => r.body.includes('s3cret')), 'the token reached no alert');
    down = false;
    const recovered = await waitUntil('subscription.recovered', () => about(watcher, 'subscription.recovered', refA)[0], 10_000);
    assert.equal(recovered.data.failing_since, null);
    assert.ok(recovered.data.consecutive_failures === 0);
    assert.equal((await e.api('GET', `/webhooks/${a.uuid}`)).body.data.status, 'active');
    assert.equal(about(watcher, 'subscription.disabled', refA).length, 0);
  });

  test('a 410 is announced as subscription.disabled, from the test message too, and again after it is enabled and answers 410 at once', async () => {
    const e = await engine(dialect, { config: TINY });
    const target = await receiver(() => ({ status: 410 }));
    const watcher = await receiver();
    const a = await e.subscribe(target.url);
    for (const topic of HEALTH_TOPICS) await e.subscribe(watcher.url, topic);
    const refA = (await e.api('GET', `/webhooks/${a.uuid}`)).body.data.health.reference as string;
    // The test message is tried once and does not count for health, but a 410 still disables.
    assert.equal((await e.api('POST', `/webhooks/${a.uuid}/test`)).body.data.attempt.status_code, 410);
    assert.equal((await e.api('GET', `/webhooks/${a.uuid}`)).body.data.disabled_by, 'gone');
    const first = await waitUntil('subscription.disabled after the 410', () => about(watcher, 'subscription.disabled', refA)[0], 10_000);
    assert.equal(first.data.subscription.status, 'disabled');
    assert.match(first.data.disabled_reason!, /410 Gone/);
    // Enabled again, and the receiver says 410 to the next message before a sweep has run.
    assert.equal((await e.api('PATCH', `/webhooks/${a.uuid}`, { status: 'active' })).status, 200);
    await e.createOrder('after enabling');
    await waitUntil('disabled again by the 410', async () => (await e.api('GET', `/webhooks/${a.uuid}`)).body.data.status === 'disabled');
    await waitUntil('the second subscription.disabled', () => about(watcher, 'subscription.disabled', refA).length === 2, 10_000);
    await sleep(200);
    assert.equal(about(watcher, 'subscription.disabled', refA).length, 2, JSON.stringify(watcher.requests.map((r) => [r.headers['webhook-id'], r.headers['webhook-topic'], JSON.parse(r.body).data.disabled_at])));
  });

  test('the test message does not count: poking a dead URL leaves the subscription healthy', async () => {
    const e = await engine(dialect, { config: TINY });
    const target = await receiver(() => ({ status: 503 }));
    const a = await e.subscribe(target.url);
    for (let i = 0; i < 3; i++) assert.equal((await e.api('POST', `/webhooks/${a.uuid}/test`)).body.data.attempt.status_code, 503);
    const shown = (await e.api('GET', `/webhooks/${a.uuid}`)).body.data;
    assert.deepEqual([shown.health.state, shown.health.consecutive_failures, shown.health.failing_since], ['healthy', 0, null]);
    // The rates count every attempt, the test's too: they say how the URL answers.
    assert.equal(shown.health.success_rate_1h, 0);
  });

  if (dialect === 'postgres') {
    test('two sweeps at once announce each change exactly once', async () => {
      const e = await engine(dialect, { config: TINY, dispatcher: false });
      const a = await e.subscribe('http://127.0.0.1:9/dead');
      const watchers = new Map<string, string>();
      for (const topic of HEALTH_TOPICS) watchers.set(topic, (await e.subscribe('http://127.0.0.1:9/watch', topic)).uuid);
      const second = await openDatabase({ databaseUrl: e.config.databaseUrl, dataDir: e.config.dataDir, sqliteSync: 'normal', poolSize: 2 });
      cleanups.push(() => second.close());
      const quiet = { warn: () => undefined, info: () => undefined };
      const sweeps = [e.database, second].map((database) => new HealthSweep({ database, disableAfterMs: 1500, intervalMs: 60_000, log: quiet, wake: () => undefined }));
      const count = async (topic: string) => (await e.messages(watchers.get(topic)!)).length;
      const setHealth = (failingFor: number) => {
        const now = Date.now();
        return e.database.kysely.updateTable('webhook_subscriptions').set({ consecutive_failures: 7, failing_since: now - failingFor, last_failure_at: now - 10 }).where('uuid', '=', a.uuid).execute();
      };
      const race = async () => {
        for (let i = 0; i < 8; i++) await Promise.all(sweeps.map((s) => s.sweep()));
      };

      await setHealth(400);
      await race();
      assert.equal(await count('subscription.failing'), 1, 'first threshold: once');
      await setHealth(1300);
      await race();
      assert.equal(await count('subscription.failing'), 2, 'second threshold: once more');
      await setHealth(1600);
      await race();
      assert.equal(await count('subscription.disabled'), 1);
      assert.equal((await e.api('GET', `/webhooks/${a.uuid}`)).body.data.status, 'disabled');
      assert.equal((await e.api('PATCH', `/webhooks/${a.uuid}`, { status: 'active' })).status, 200);
      await race();
      assert.equal(await count('subscription.recovered'), 1);
      await race();
      assert.deepEqual([await count('subscription.failing'), await count('subscription.disabled'), await count('subscription.recovered')], [2, 1, 1], 'nothing more once settled');
    });
  }
});
