/**
 * 410 Gone (SPEC §4): the subscription is disabled with a reason; the 410'd message and its queued
 * messages are held — including those a dispatcher had already claimed — and so are the events
 * that happen while it is disabled; all go out, with their original webhook-ids and bytes, once it
 * is enabled again (PATCH status active).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDialect } from '../helpers/database.js';
import { perTestFixtures, sleep, startOwnDispatcher, verifyBoth, waitUntil } from '../helpers/engine.js';
import type { Receiver } from '../helpers/receiver.js';

const { engine, receiver, cleanups } = perTestFixtures();

forEachDialect('410 Gone', (dialect) => {
  test('410 disables the subscription with a reason; its queued and new messages are held and go out when enabled again', async () => {
    const e = await engine(dialect, { config: { maxInFlightPerSubscription: 1, retryBaseMs: 100 } });
    let gone = true;
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const g: Receiver = await receiver(async () => {
      if (!gone) return { status: 200 };
      await gate;
      return { status: 410, body: 'this endpoint is gone' };
    });
    const healthy = await receiver();
    const sg = await e.subscribe(g.url);
    const sh = await e.subscribe(healthy.url);

    await e.createOrder('first');
    await g.waitFor(1);
    // While the first request is held, three more messages queue up behind the cap of one.
    for (let i = 0; i < 3; i++) await e.createOrder(`queued ${i}`);
    await healthy.waitFor(4);
    openGate();

    const disabled = await waitUntil('subscription disabled', async () => {
      const res = await e.api<{ data: { status: string; disabled_reason: string | null } }>('GET', `/webhooks/${sg.uuid}`);
      return res.body.data.status === 'disabled' ? res.body.data : null;
    });
    assert.match(disabled.disabled_reason ?? '', /410/);

    // An order created now is sent to the healthy subscription, and held for the disabled one.
    await e.createOrder('while disabled');
    await healthy.waitFor(5);
    await sleep(700);
    assert.equal(g.requests.length, 1, 'nothing more is sent to a subscription that answered 410');
    const held = await e.messages(sg.uuid);
    assert.equal(held.length, 5);
    assert.ok(held.every((m) => m.status === 'held' && m.next_attempt_at === null), 'the 410\'d, queued and new messages are kept, held, not failed');
    assert.equal((await e.api<{ data: { held_count: number } }>('GET', `/webhooks/${sg.uuid}`)).body.data.held_count, 5);
    const firstAttempts = await e.attempts(held[0]!.id);
    assert.deepEqual(firstAttempts.map((a) => [a.status_code, a.error_class]), [[410, 'http_status']]);

    // Enabling it again sends every held message, with its original webhook-id.
    gone = false;
    const patched = await e.api<{ data: { status: string; disabled_reason: string | null } }>('PATCH', `/webhooks/${sg.uuid}`, { status: 'active' });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.data.status, 'active');
    assert.equal(patched.body.data.disabled_reason, null);
    await g.waitFor(6, 10_000);
    const after = await waitUntil('all five delivered', async () => {
      const m = await e.messages(sg.uuid);
      return m.every((x) => x.status === 'delivered') ? m : null;
    });
    const sentIds = new Set(g.requests.slice(1).map((q) => q.headers['webhook-id']));
    assert.deepEqual(sentIds, new Set(after.map((m) => m.message_id)));
    const resent = g.requests.slice(1).find((q) => q.headers['webhook-id'] === held[0]!.message_id)!;
    assert.equal(resent.headers['webhook-attempt'], '2');
    assert.equal(resent.body, g.requests[0]!.body);
    for (const q of g.requests) verifyBoth(q, sg.uuid);
    assert.equal((await e.messages(sh.uuid)).length, 5);
    assert.equal((await e.api<{ data: { held_count: number } }>('GET', `/webhooks/${sg.uuid}`)).body.data.held_count, 0);
  });

  test('410 also holds the messages this dispatcher had already claimed and sent for that subscription', async () => {
    const e = await engine(dialect, { dispatcher: false });
    let gone = true;
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const g: Receiver = await receiver(async () => {
      if (!gone) return { status: 200 };
      await gate;
      return { status: 410 };
    });
    const sg = await e.subscribe(g.url);
    // Five messages are due before the dispatcher starts: it claims two (its cap) and sends both;
    // the claim never takes more than the cap, so nothing waits in memory.
    for (let i = 0; i < 5; i++) await e.createOrder(`batch ${i}`);
    const errors: unknown[] = [];
    const own = startOwnDispatcher(e, { retryBaseMs: 100, errors, maxInFlightPerSubscription: 2 });
    cleanups.push(() => own.close());
    own.dispatcher.start();
    await g.waitFor(2);
    assert.equal((await e.messages(sg.uuid)).filter((m) => m.locked_by !== null).length, 2, 'a claim takes no more than the cap');
    openGate();
    await waitUntil('subscription disabled', async () => (await e.api<{ data: { status: string } }>('GET', `/webhooks/${sg.uuid}`)).body.data.status === 'disabled');
    await sleep(700);
    assert.equal(g.requests.length, 2, 'nothing more is sent to a gone subscription after its 410');
    const held = await e.messages(sg.uuid);
    assert.ok(held.every((m) => m.status === 'held' && m.locked_by === null && m.next_attempt_at === null), 'they are given back and held, not kept locked');

    gone = false;
    assert.equal((await e.api('PATCH', `/webhooks/${sg.uuid}`, { status: 'active' })).status, 200);
    await g.waitFor(7, 10_000);
    await waitUntil('all delivered', async () => (await e.messages(sg.uuid)).every((m) => m.status === 'delivered'));
    assert.equal(new Set(g.requests.map((q) => q.headers['webhook-id'])).size, 5);
    assert.deepEqual(errors, []);
  });
});
