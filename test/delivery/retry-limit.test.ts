/**
 * The end of the retry schedule (SPEC §4): a receiver that never recovers gets the first
 * attempt and 15 retries — 16 attempts, retry k no sooner than base·2^(k−1) after the previous
 * one ended — and then the message is `failed`: no 17th request, nothing left locked or due.
 *
 * With the smallest base the configuration allows (1 ms) the schedule still spans 32.8 s
 * (2^15 − 1 ms), so the dialects run side by side rather than one after the other.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dialects, type Dialect } from '../helpers/database.js';
import { startEngine, sleep, waitUntil } from '../helpers/engine.js';
import { startReceiver } from '../helpers/receiver.js';

const BASE_MS = 1;

async function exhaust(dialect: Dialect): Promise<void> {
  const receiver = await startReceiver(() => ({ status: 500, body: 'still down' }));
  const e = await startEngine(dialect, { config: { retryBaseMs: BASE_MS } });
  try {
    const sub = await e.subscribe(receiver.url);
    await e.createOrder('never delivered');
    const [m] = await waitUntil(
      `[${dialect}] the message to fail`,
      async () => {
        const rows = await e.messages(sub.uuid);
        return rows[0]?.status === 'failed' ? rows : null;
      },
      50_000,
      100,
    );
    await sleep(400);
    assert.equal(receiver.requests.length, 16, `[${dialect}] 16 requests, no 17th`);
    assert.deepEqual(receiver.requests.map((r) => r.headers['webhook-attempt']), Array.from({ length: 16 }, (_, i) => String(i + 1)));
    assert.equal(new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size, 1, 'one webhook-id throughout');
    assert.equal(new Set(receiver.requests.map((r) => r.body)).size, 1, 'the same bytes throughout');

    assert.equal(m!.attempt_count, 16);
    assert.equal(m!.next_attempt_at, null);
    assert.equal(m!.locked_by, null);
    const attempts = await e.attempts(m!.id);
    assert.deepEqual(attempts.map((a) => a.attempt_number), Array.from({ length: 16 }, (_, i) => i + 1));
    assert.ok(attempts.every((a) => a.status_code === 500 && a.error_class === 'http_status' && a.response_body === 'still down'));
    for (let k = 1; k < attempts.length; k++) {
      const gap = attempts[k]!.started_at - (attempts[k - 1]!.started_at + attempts[k - 1]!.duration_ms);
      assert.ok(gap >= BASE_MS * 2 ** (k - 1), `[${dialect}] gap before attempt ${k + 1}: ${gap} ms < ${BASE_MS * 2 ** (k - 1)}`);
    }
    const span = attempts[15]!.started_at - attempts[0]!.started_at;
    assert.ok(span >= BASE_MS * (2 ** 15 - 1), `[${dialect}] 16 attempts within ${span} ms`);

    // The delivery log says the same, and lists it among the failed ones (resendable).
    const failed = await e.api<{ data: { message_id?: string; id?: string; status: string }[] }>('GET', `/webhooks/${sub.uuid}/deliveries?status=failed`);
    assert.equal(failed.status, 200);
    assert.equal(failed.body.data.length, 1);
    assert.equal(failed.body.data[0]!.status, 'failed');
  } finally {
    await e.close();
    await receiver.close();
  }
}

test('a message that keeps failing gets 16 attempts, then it is failed and sent no more', async () => {
  await Promise.all(dialects().map((d) => exhaust(d)));
});
