/**
 * Fairness (SPEC §4): a slow or dead endpoint must not delay others.
 * - one receiver hangs until the timeout, one is healthy: the healthy one gets every message in
 *   well under the timeout, and the hanging one never has more than the per-subscription cap of
 *   requests open;
 * - the same when the hanging subscription has a backlog already due when the dispatcher looks;
 * - first attempts never wait behind a backlog of due retries.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import pino from 'pino';
import { Dispatcher } from '../../src/delivery/dispatcher.js';
import { createSender } from '../../src/delivery/http-sender.js';
import { NetworkGuard } from '../../src/delivery/network-guard.js';
import { enqueueMessages } from '../../src/delivery/queue.js';
import { newMessageId } from '../../src/delivery/signer.js';
import { VERSION } from '../../src/version.js';
import { forEachDialect } from '../helpers/database.js';
import { startEngine, waitUntil, sleep, type Engine } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const TIMEOUT_MS = 3000;
const CAP = 2;
const CONCURRENCY = 8;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function engine(dialect: 'sqlite' | 'postgres', options: Parameters<typeof startEngine>[1]): Promise<Engine> {
  const e = await startEngine(dialect, options);
  cleanups.push(() => e.close());
  return e;
}

/**
 * Wraps startReceiver so that `open` counts requests from arrival until their response closes
 * (answered, or the socket destroyed by storehook's timeout).
 */
async function trackedReceiver(behaviour: 'hang' | { afterMs: number; status: number }): Promise<{ r: Receiver; open: () => number; maxOpen: () => number }> {
  let open = 0;
  let maxOpen = 0;
  const r = await startReceiver(async (req) => {
    // storehook frees a slot the moment it abandons a request; the close of that socket may reach
    // this server a moment after the next request does. Count a request once those closes are in.
    await sleep(20);
    if (req.socket.destroyed) return 'hang';
    open++;
    maxOpen = Math.max(maxOpen, open);
    let counted = true;
    const done = () => {
      if (counted) open--;
      counted = false;
    };
    req.socket.once('close', done);
    if (behaviour === 'hang') return 'hang';
    await sleep(behaviour.afterMs);
    // Answered: no longer open once the response is written (keep-alive keeps the socket).
    setImmediate(done);
    return { status: behaviour.status };
  });
  cleanups.push(() => r.close());
  return { r, open: () => open, maxOpen: () => maxOpen };
}

async function healthyReceiver(): Promise<Receiver> {
  const r = await startReceiver();
  cleanups.push(() => r.close());
  return r;
}

/** Creates `n` orders one after another and returns each one's delay until `healthy` had it. */
async function latencies(e: Engine, healthy: Receiver, n: number, gapMs: number): Promise<number[]> {
  const out: number[] = [];
  const before = healthy.requests.length;
  for (let i = 0; i < n; i++) {
    const t0 = Date.now();
    await e.createOrder(`fairness ${i}`);
    await healthy.waitFor(before + i + 1, 15_000);
    out.push(healthy.requests[before + i]!.receivedAt - t0);
    await sleep(gapMs);
  }
  return out;
}

forEachDialect('fairness', (dialect) => {
  test('a receiver hanging until the timeout does not slow a healthy one, and never has more than the cap open', async () => {
    const e = await engine(dialect, {
      config: { requestTimeoutMs: TIMEOUT_MS, maxInFlightPerSubscription: CAP, deliveryConcurrency: CONCURRENCY, retryBaseMs: 100 },
    });
    const hanging = await trackedReceiver('hang');
    const healthy = await healthyReceiver();
    await e.subscribe(hanging.r.url);
    await e.subscribe(healthy.url);

    // 15 orders over ≈ 3 s: the hanging subscription is saturated (and timing out, and retrying)
    // for most of that time.
    const lat = await latencies(e, healthy, 15, 200);
    assert.ok(Math.max(...lat) < TIMEOUT_MS / 2, `healthy latencies: ${lat.join(', ')} ms`);
    // Let some hanging attempts time out and be retried while we keep counting.
    await waitUntil('timeouts recorded', async () => {
      const n = await e.database.kysely.selectFrom('webhook_attempts').select((eb) => eb.fn.countAll<number>().as('n')).where('error_class', '=', 'timeout').executeTakeFirstOrThrow();
      return Number(n.n) >= 4;
    }, 20_000);
    assert.equal(hanging.maxOpen(), CAP, `at most ${CAP} requests open at the hanging receiver (and it reached the cap)`);
    assert.ok(hanging.r.requests.length >= 4);
  });

  test('a backlog already due for a hanging receiver does not take the slots of a healthy one', async () => {
    // Our own dispatcher, started only once the backlog is in the queue (as after a restart, an
    // outage, re-enabling a subscription or recovering a time window).
    const e = await engine(dialect, { dispatcher: false, config: { requestTimeoutMs: TIMEOUT_MS } });
    const hanging = await trackedReceiver('hang');
    await e.subscribe(hanging.r.url);
    for (let i = 0; i < 30; i++) await e.createOrder(`backlog ${i}`);
    const healthy = await healthyReceiver();
    await e.subscribe(healthy.url);

    const sender = createSender({ guard: new NetworkGuard(e.config.allowTargets), connectTimeoutMs: 1000, totalTimeoutMs: TIMEOUT_MS, userAgent: `storehook/${VERSION}` });
    const d = new Dispatcher({
      database: e.database,
      sender,
      workerId: 'fairness-backlog',
      concurrency: CONCURRENCY,
      maxInFlightPerSubscription: CAP,
      leaseMs: 10_000,
      pollIntervalMs: 25,
      retryBaseMs: 60_000,
      retentionDays: 30,
      version: VERSION,
      log: pino({ level: 'silent' }),
    });
    cleanups.push(async () => {
      await d.stop(500);
      await sender.close();
    });
    d.start();
    await hanging.r.waitFor(CAP);
    const lat = await latencies(e, healthy, 6, 100);
    assert.ok(Math.max(...lat) < TIMEOUT_MS / 2, `healthy latencies: ${lat.join(', ')} ms`);
    assert.ok(hanging.maxOpen() <= CAP, `${hanging.maxOpen()} open at once at the hanging receiver`);
  });

  test('first attempts do not wait behind a backlog of due retries', async () => {
    const e = await engine(dialect, {
      config: { requestTimeoutMs: 10_000, maxInFlightPerSubscription: CAP, deliveryConcurrency: CONCURRENCY, retryBaseMs: 100, pollIntervalMs: 100 },
    });
    // 20 subscriptions of a slow receiver (3 s, then 500), each with 25 retries due: 500 retries
    // that would take minutes at 8 requests at a time.
    const slow = await trackedReceiver({ afterMs: TIMEOUT_MS, status: 500 });
    const now = Date.now();
    const rows = [];
    for (let s = 0; s < 20; s++) {
      const sub = await e.subscribe(`${slow.r.url}?sub=${s}`, 'order.updated');
      for (let i = 0; i < 25; i++) {
        const messageId = newMessageId();
        rows.push({
          message_id: messageId,
          store_id: e.storeId,
          subscription_uuid: sub.uuid,
          topic: 'order.updated',
          order_id: null,
          body: JSON.stringify({ id: messageId, topic: 'order.updated', created_at: new Date(now).toISOString(), data: {} }),
          status: 'pending' as const,
          attempt_count: 3,
          created_at: now - 60_000,
          next_attempt_at: now - 1000 + i,
          last_attempt_at: now - 2000,
          delivered_at: null,
          locked_by: null,
          locked_until: null,
        });
      }
    }
    for (let i = 0; i < rows.length; i += 100) await enqueueMessages(e.database.kysely, rows.slice(i, i + 100));
    const healthy = await healthyReceiver();
    await e.subscribe(healthy.url, 'order.created');
    // The backlog is being worked on (the poll found it)…
    await slow.r.waitFor(2, 5000);

    // …and new orders' first attempts still go straight out.
    const lat = await latencies(e, healthy, 5, 200);
    assert.ok(Math.max(...lat) < 1500, `first-attempt latencies behind 500 due retries: ${lat.join(', ')} ms`);
    assert.ok(slow.maxOpen() <= CONCURRENCY / 2, `retries used ${slow.maxOpen()} slots; at most half of ${CONCURRENCY}`);
    const leftover = await e.database.kysely
      .selectFrom('webhook_messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('topic', '=', 'order.updated')
      .where('attempt_count', '=', 3)
      .executeTakeFirstOrThrow();
    assert.ok(Number(leftover.n) > 400, 'the retry backlog was still there while the new messages went out');
  });
});
