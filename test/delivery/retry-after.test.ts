/**
 * Retry-After (SPEC §4): on 429 and 503 the receiver's Retry-After (delta-seconds or HTTP-date)
 * stretches the scheduled delay within [scheduled, 2×scheduled]: never shorter than the
 * schedule, never longer than twice it; on any other status, and when unparsable, it is ignored.
 * The scheduled time is read exactly from the attempt's outcome; the receiver then sees the retry
 * no earlier than that.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttemptResult } from '../../src/delivery/attempt.js';
import type { ClaimedMessage } from '../../src/delivery/queue.js';
import { forEachDialect } from '../helpers/database.js';
import { perTestFixtures, startOwnDispatcher, waitUntil } from '../helpers/engine.js';
import type { Receiver, ReceiverReply } from '../helpers/receiver.js';

const { engine, receiver, cleanups } = perTestFixtures();

forEachDialect('Retry-After', (dialect) => {
  test('Retry-After on 429 and 503 (seconds, HTTP-date) is honoured within [scheduled, 2×scheduled], and only there', async () => {
    const base = 800;
    const e = await engine(dialect, { dispatcher: false, config: { retryBaseMs: base } });
    const results = new Map<string, { message: ClaimedMessage; result: AttemptResult }[]>();
    const errors: unknown[] = [];
    const own = startOwnDispatcher(e, {
      retryBaseMs: base,
      errors,
      onAttempt: (message, result) => {
        const list = results.get(message.subscription_uuid) ?? [];
        list.push({ message, result });
        results.set(message.subscription_uuid, list);
      },
    });
    cleanups.push(() => own.close());

    const dateMs = new Map<string, number>();
    const cases: { name: string; first: (name: string) => ReceiverReply; expect: (endedAt: number) => number }[] = [
      { name: '429 seconds inside the window', first: () => ({ status: 429, headers: { 'retry-after': '1' } }), expect: () => 1000 },
      { name: '429 seconds beyond 2×', first: () => ({ status: 429, headers: { 'retry-after': '30' } }), expect: () => 2 * base },
      {
        name: '503 HTTP-date inside the window',
        first: (name) => {
          const at = Math.ceil((Date.now() + 1500) / 1000) * 1000;
          dateMs.set(name, at);
          return { status: 503, headers: { 'retry-after': new Date(at).toUTCString() } };
        },
        expect: (endedAt) => Math.min(Math.max(dateMs.get('503 HTTP-date inside the window')! - endedAt, base), 2 * base),
      },
      { name: '503 HTTP-date an hour ahead', first: () => ({ status: 503, headers: { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() } }), expect: () => 2 * base },
      { name: '503 Retry-After 0 never shortens', first: () => ({ status: 503, headers: { 'retry-after': '0' } }), expect: () => base },
      { name: '429 unparsable Retry-After', first: () => ({ status: 429, headers: { 'retry-after': 'soon' } }), expect: () => base },
      { name: '500 Retry-After is ignored', first: () => ({ status: 500, headers: { 'retry-after': '30' } }), expect: () => base },
    ];
    const subs = new Map<string, { receiver: Receiver; uuid: string; c: (typeof cases)[number] }>();
    for (const c of cases) {
      const r: Receiver = await receiver(() => (r.requests.length === 1 ? c.first(c.name) : { status: 204 }));
      const s = await e.subscribe(`${r.url}?case=${encodeURIComponent(c.name)}`);
      subs.set(s.uuid, { receiver: r, uuid: s.uuid, c });
    }
    await e.createOrder();
    own.dispatcher.start();
    for (const { receiver: r } of subs.values()) await r.waitFor(2, 15_000);
    await waitUntil('every second attempt recorded', () => [...subs.keys()].every((uuid) => (results.get(uuid)?.length ?? 0) >= 2));

    for (const { receiver: r, uuid, c } of subs.values()) {
      const [first, second] = results.get(uuid)!;
      assert.ok(first && second, c.name);
      assert.equal(first.result.outcome.kind, 'failed', c.name);
      const endedAt = first.result.attempt.startedAt + first.result.attempt.durationMs;
      const next = first.result.outcome.kind === 'failed' ? first.result.outcome.nextAttemptAt : null;
      assert.ok(next !== null, c.name);
      const delay = next - endedAt;
      assert.equal(delay, c.expect(endedAt), `${c.name}: scheduled delay`);
      assert.ok(delay >= base && delay <= 2 * base, `${c.name}: ${delay} ms outside [${base}, ${2 * base}]`);
      // The receiver really saw the retry no earlier than that, and not at the receiver's 30 s / 1 h.
      const gap = r.requests[1]!.receivedAt - r.requests[0]!.receivedAt;
      assert.ok(gap >= delay, `${c.name}: retry came after ${gap} ms, before the ${delay} ms scheduled`);
      assert.ok(gap < 12_000, `${c.name}: retry came after ${gap} ms`);
      assert.equal(second.result.outcome.kind, 'delivered', c.name);
      assert.equal(r.requests[1]!.headers['webhook-attempt'], '2');
    }
    // The HTTP-date case really used the date (a 1.5–2.5 s wait), not the plain 800 ms schedule.
    const dated = [...subs.values()].find((x) => x.c.name === '503 HTTP-date inside the window')!;
    const first = results.get(dated.uuid)![0]!;
    const out = first.result.outcome;
    assert.ok(out.kind === 'failed' && out.nextAttemptAt! - (first.result.attempt.startedAt + first.result.attempt.durationMs) > base);
    assert.deepEqual(errors, []);
  });
});
