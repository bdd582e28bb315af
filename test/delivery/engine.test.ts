/**
 * The delivery engine end to end (SPEC §4): a real storehook (API + dispatcher) on a fresh
 * database, real receivers on 127.0.0.1, orders created through the HTTP API.
 *
 * - the happy path: a committed order's message arrives at once (the commit wakes the
 *   dispatcher; the poll interval is a minute), with the documented headers, no uuid anywhere,
 *   and a signature that verifies with the official `standardwebhooks` package and our SDK;
 * - retries: same bytes and webhook-id on every attempt, attempts numbered, gaps ≥ base·2^(k−1).
 * (Retry-After: retry-after.test.ts; 410: gone.test.ts; the last retry: retry-limit.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { verify } from '../../src/sdk/verify.js';
import { VERSION } from '../../src/version.js';
import { forEachDialect } from '../helpers/database.js';
import { flatHeaders, perTestFixtures, sleep, verifyBoth, waitUntil, whsecOf } from '../helpers/engine.js';

const { engine, receiver } = perTestFixtures();

forEachDialect('delivery engine', (dialect) => {
  test('a committed order is delivered at once, signed, with the documented headers and no uuid', async () => {
    const e = await engine(dialect, { config: { pollIntervalMs: 60_000 } });
    const r1 = await receiver();
    const r2 = await receiver();
    const s1 = await e.subscribe(r1.url, 'order.created', ['products']);
    const s2 = await e.subscribe(r2.url, 'order.created');
    // Let the dispatcher settle into its (one minute) sleep: only a wake-up can deliver quickly now.
    await sleep(200);

    const latencies: number[] = [];
    const orderIds: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = Date.now();
      orderIds.push(await e.createOrder(`order ${i}`));
      await r1.waitFor(i + 1, 10_000);
      await r2.waitFor(i + 1, 10_000);
      latencies.push(Math.max(r1.requests[i]!.receivedAt, r2.requests[i]!.receivedAt) - t0);
    }
    // Polling alone would take up to 60 s; a generous bound still proves the commit woke it.
    assert.ok(Math.max(...latencies) < 5_000, `latencies ${latencies.join(', ')} ms`);

    for (const [r, s] of [[r1, s1], [r2, s2]] as const) {
      assert.equal(r.requests.length, 4);
      const ids = new Set<string>();
      for (const [i, req] of r.requests.entries()) {
        assert.equal(req.method, 'POST');
        assert.equal(req.path, '/hook');
        const h = flatHeaders(req);
        assert.equal(h['content-type'], 'application/json');
        assert.equal(h['user-agent'], `storehook/${VERSION}`);
        assert.match(h['user-agent']!, /^storehook\/\d+\.\d+\.\d+/);
        assert.match(h['webhook-id']!, /^msg_[A-Za-z0-9_-]+$/);
        assert.match(h['webhook-timestamp']!, /^\d+$/);
        assert.ok(Math.abs(Number(h['webhook-timestamp']) - Date.now() / 1000) < 60, 'timestamp is now, in unix seconds');
        assert.match(h['webhook-signature']!, /^v1,[A-Za-z0-9+/]+={0,2}$/);
        assert.equal(h['webhook-topic'], 'order.created');
        assert.equal(h['webhook-attempt'], '1');
        ids.add(h['webhook-id']!);

        // The uuid (the signing key) is never sent: not in a header, not in the body, in any case.
        const everything = `${JSON.stringify(req.headers)}\n${req.body}`.toLowerCase();
        assert.ok(!everything.includes(s.uuid.toLowerCase()), 'uuid leaked');
        assert.ok(!everything.includes(s.uuid.replaceAll('-', '').toLowerCase()), 'uuid (no dashes) leaked');
        assert.ok(!`${JSON.stringify(req.headers)}\n${req.body}`.includes(whsecOf(s.uuid).slice(6)), 'whsec secret leaked');

        const body = verifyBoth(req, s.uuid);
        assert.deepEqual(Object.keys(body).sort(), ['created_at', 'data', 'id', 'sequence', 'topic']);
        assert.equal(body.id, h['webhook-id']);
        assert.equal(body.topic, 'order.created');
        assert.match(body.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
        assert.equal(body.data.id, orderIds[i]);
        // data is the order as GET /orders/{id}?expand=<the subscription's expands> shows it.
        const expand = s.expands.length ? `?expand=${s.expands.join(',')}` : '';
        const get = await e.api<{ data: unknown }>('GET', `/orders/${orderIds[i]}${expand}`);
        assert.equal(get.status, 200);
        assert.deepEqual(body.data, get.body.data);
      }
      assert.equal(ids.size, 4, 'one message id per order');
      assert.ok('products' in (JSON.parse(r.requests[0]!.body) as { data: object }).data === (s === s1), 'expands follow the subscription');

      // A message signed for one subscription does not verify with another's uuid.
      const other = s === s1 ? s2 : s1;
      assert.throws(() => new Webhook(whsecOf(other.uuid)).verify(r.requests[0]!.body, flatHeaders(r.requests[0]!)));
      assert.throws(() => verify(r.requests[0]!.body, flatHeaders(r.requests[0]!), other.uuid), /signature/i);

      // Recorded: delivered after one attempt.
      const rows = await waitUntil('all four recorded delivered', async () => {
        const m = await e.messages(s.uuid);
        return m.length === 4 && m.every((x) => x.status === 'delivered') ? m : null;
      });
      for (const m of rows) {
        assert.equal(m.attempt_count, 1);
        assert.equal(m.locked_by, null);
        const attempts = await e.attempts(m.id);
        assert.equal(attempts.length, 1);
        assert.equal(attempts[0]!.status_code, 200);
        assert.equal(attempts[0]!.error_class, null);
        assert.equal(attempts[0]!.response_body, 'ok');
      }
      // The stored body is the exact byte sequence that was sent.
      assert.deepEqual(rows.map((m) => m.body), r.requests.map((q) => q.body));
    }
  });

  test('a failing receiver gets retries with the same bytes and webhook-id, spaced by base·2^(k−1)', async () => {
    const base = 100;
    const e = await engine(dialect, { config: { retryBaseMs: base } });
    const failures = 3;
    const r = await receiver((req) => {
      const n = r.requests.filter((q) => q.headers['webhook-id'] === req.headers['webhook-id']).length;
      return n <= failures ? { status: 500, body: `nope ${n}` } : { status: 200, body: 'finally' };
    });
    const s = await e.subscribe(r.url);
    await e.createOrder();
    await r.waitFor(failures + 1, 15_000);
    const [m] = await waitUntil('delivered', async () => {
      const rows = await e.messages(s.uuid);
      return rows[0]?.status === 'delivered' ? rows : null;
    });
    assert.equal(m!.attempt_count, failures + 1);

    assert.equal(r.requests.length, failures + 1);
    const first = r.requests[0]!;
    for (const [i, req] of r.requests.entries()) {
      assert.equal(req.headers['webhook-attempt'], String(i + 1));
      assert.equal(req.headers['webhook-id'], first.headers['webhook-id']);
      assert.equal(req.body, first.body, 'every attempt sends the same bytes');
      verifyBoth(req, s.uuid);
      if (i > 0) {
        const gap = req.receivedAt - r.requests[i - 1]!.receivedAt;
        assert.ok(gap >= base * 2 ** (i - 1), `gap before attempt ${i + 1} was ${gap} ms, expected ≥ ${base * 2 ** (i - 1)}`);
      }
    }
    assert.equal(m!.body, first.body);

    const attempts = await e.attempts(m!.id);
    assert.deepEqual(attempts.map((a) => a.attempt_number), [1, 2, 3, 4]);
    assert.deepEqual(attempts.map((a) => a.status_code), [500, 500, 500, 200]);
    assert.deepEqual(attempts.map((a) => a.error_class), ['http_status', 'http_status', 'http_status', null]);
    assert.deepEqual(attempts.map((a) => a.response_body), ['nope 1', 'nope 2', 'nope 3', 'finally']);
    for (let k = 1; k < attempts.length; k++) {
      const prev = attempts[k - 1]!;
      const gap = attempts[k]!.started_at - (prev.started_at + prev.duration_ms);
      // Counted from the end of the previous attempt (SPEC §4), exactly: no tolerance needed.
      assert.ok(gap >= base * 2 ** (k - 1), `recorded gap before attempt ${k + 1}: ${gap} ms`);
    }
  });
});
