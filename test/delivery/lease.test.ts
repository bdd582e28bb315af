/**
 * Leases (ARCHITECTURE invariant 2): only the holder of a live lease may complete or fail a
 * message. A worker whose lease expired cannot overwrite the outcome of the one that took over,
 * cannot extend or release the new holder's lease, and a live worker's heartbeat keeps a slow
 * in-flight message from being claimed by anyone else.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, test } from 'node:test';
import pino from 'pino';
import { createStore } from '../../src/admin/stores.js';
import type { Database } from '../../src/db/connection.js';
import { inTransaction } from '../../src/db/transaction.js';
import { Dispatcher } from '../../src/delivery/dispatcher.js';
import { createSender } from '../../src/delivery/http-sender.js';
import { NetworkGuard, parseAllowList } from '../../src/delivery/network-guard.js';
import { OutcomeWriter } from '../../src/delivery/outcome-writer.js';
import { claimDue } from '../../src/delivery/claim.js';
import { claimOne, enqueueMessages, extendLeases, recordOutcome, releaseClaims, type AttemptRecord, type ClaimedMessage, type Outcome } from '../../src/delivery/queue.js';
import { newMessageId } from '../../src/delivery/signer.js';
import { VERSION } from '../../src/version.js';
import { forEachDialect, freshDatabase, type Dialect } from '../helpers/database.js';
import { sleep, waitUntil } from '../helpers/engine.js';
import { startReceiver } from '../helpers/receiver.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

interface Fixture {
  database: Database;
  storeId: number;
  subscription: string;
  /** inserts `n` due first-attempt messages; returns their row ids. */
  insertMessages(n: number, at?: number): Promise<number[]>;
}

async function fixture(dialect: Dialect, url = 'http://127.0.0.1:9/hook'): Promise<Fixture> {
  const fresh = await freshDatabase(dialect, { poolSize: 4 });
  cleanups.push(() => fresh.cleanup());
  const db = fresh.database.kysely;
  const store = await createStore(db, { name: `lease-${randomUUID().slice(0, 8)}`, plan: 'advanced' });
  const subscription = randomUUID();
  const now = Date.now();
  await db
    .insertInto('webhook_subscriptions')
    .values({ uuid: subscription, store_id: store.id, user_id: 1, topic: 'order.created', expands: '[]', url, status: 'active', disabled_reason: null, created_at: now, updated_at: now })
    .execute();
  return {
    database: fresh.database,
    storeId: store.id,
    subscription,
    async insertMessages(n, at = Date.now() - 1000) {
      const rows = Array.from({ length: n }, (_, i) => {
        const messageId = newMessageId();
        return {
          message_id: messageId,
          store_id: store.id,
          subscription_uuid: subscription,
          topic: 'order.created',
          order_id: null,
          body: JSON.stringify({ id: messageId, topic: 'order.created', created_at: new Date(at).toISOString(), data: { n: i } }),
          status: 'pending' as const,
          attempt_count: 0,
          created_at: at + i,
          next_attempt_at: at + i,
          last_attempt_at: null,
          delivered_at: null,
          locked_by: null,
          locked_until: null,
        };
      });
      const ids: number[] = [];
      for (let i = 0; i < rows.length; i += 200) {
        const chunk = rows.slice(i, i + 200);
        await enqueueMessages(db, chunk);
        const inserted = await db.selectFrom('webhook_messages').select('id').where('message_id', 'in', chunk.map((r) => r.message_id)).orderBy('id').execute();
        ids.push(...inserted.map((r) => Number(r.id)));
      }
      return ids;
    },
  };
}

const claimAs = async (database: Database, workerId: string, now: number, leaseMs = 1000, limit = 10): Promise<ClaimedMessage[]> =>
  (await claimDue(database, { workerId, now, leaseMs, limit, kind: 'first', perLane: limit, room: new Map() })).messages;

function attemptOf(m: ClaimedMessage, startedAt: number, statusCode: number | null): AttemptRecord {
  return {
    rowId: m.id,
    storeId: m.store_id,
    subscriptionUuid: m.subscription_uuid,
    orderingKey: m.ordering_key,
    attemptNumber: m.attempt_count + 1,
    startedAt,
    durationMs: 5,
    statusCode,
    errorClass: statusCode === 200 ? null : 'http_status',
    errorMessage: statusCode === 200 ? null : `HTTP ${statusCode}`,
    responseBody: `from ${statusCode}`,
  };
}

async function snapshot(database: Database, rowId: number) {
  const message = await database.kysely.selectFrom('webhook_messages').selectAll().where('id', '=', rowId).executeTakeFirstOrThrow();
  const attempts = await database.kysely.selectFrom('webhook_attempts').selectAll().where('message_row_id', '=', rowId).orderBy('id').execute();
  return { message, attempts };
}

forEachDialect('leases', (dialect) => {
  test('a worker whose lease expired cannot record, extend or release: the new holder decides (invariant 2)', async () => {
    const f = await fixture(dialect);
    const [rowId] = await f.insertMessages(1);
    const db = f.database.kysely;
    const t = Date.now();

    const [a] = await claimAs(f.database, 'worker-A', t, 1000);
    assert.equal(a?.id, rowId, 'A claims the due message');
    assert.deepEqual(await claimAs(f.database, 'worker-B', t + 999), [], 'nobody else while the lease lives');
    assert.equal(await claimOne(f.database, rowId!, f.storeId, 'api-resend', t + 999, 1000), null, 'not even a resend');

    // A stalls past its lease; B takes over.
    const [b] = await claimAs(f.database, 'worker-B', t + 1001, 1000);
    assert.equal(b?.id, rowId, 'B claims it once A’s lease has run out');
    assert.equal(await extendLeases(f.database, 'worker-A', [rowId!], t + 1002, 1000), 0, 'A’s heartbeat no longer extends anything');

    // A wakes up while B is still sending: every outcome A tries is refused and writes nothing.
    const beforeB = await snapshot(f.database, rowId!);
    const lateOutcomes: Outcome[] = [
      { kind: 'delivered', at: t + 1003 },
      { kind: 'failed', nextAttemptAt: t + 60_000 },
      { kind: 'failed', nextAttemptAt: null },
      { kind: 'gone', reason: 'A saw a 410' },
    ];
    for (const outcome of lateOutcomes) {
      assert.equal(await inTransaction(f.database, (tx) => recordOutcome(tx.db, 'worker-A', attemptOf(a!, t, 500), outcome)), false, outcome.kind);
    }
    assert.equal(await new OutcomeWriter(f.database, 'worker-A').record(attemptOf(a!, t, 200), { kind: 'delivered', at: t + 1004 }), false);
    await releaseClaims(f.database, 'worker-A', [rowId!], t + 1005);
    assert.deepEqual(await snapshot(f.database, rowId!), beforeB, 'A changed nothing');

    // B's outcome lands.
    assert.equal(await inTransaction(f.database, (tx) => recordOutcome(tx.db, 'worker-B', attemptOf(b!, t + 1001, 200), { kind: 'delivered', at: t + 1010 })), true);
    const afterB = await snapshot(f.database, rowId!);
    assert.equal(afterB.message.status, 'delivered');
    assert.equal(afterB.message.locked_by, null);
    assert.deepEqual(afterB.attempts.map((x) => [x.worker_id, x.attempt_number, x.status_code]), [['worker-B', 1, 200]]);

    // …and A, later still, cannot overwrite it either.
    for (const outcome of lateOutcomes) {
      assert.equal(await inTransaction(f.database, (tx) => recordOutcome(tx.db, 'worker-A', attemptOf(a!, t, 503), outcome)), false, outcome.kind);
    }
    assert.deepEqual(await snapshot(f.database, rowId!), afterB, 'the delivered outcome stands');
    const sub = await db.selectFrom('webhook_subscriptions').select(['status', 'disabled_reason']).where('uuid', '=', f.subscription).executeTakeFirstOrThrow();
    assert.deepEqual(sub, { status: 'active', disabled_reason: null }, 'a late 410 from a lost lease disables nothing');
  });

  test('an outcome batch (one statement on PostgreSQL) writes only what its worker holds, and lowers the lane of a retry', async () => {
    const f = await fixture(dialect);
    const ids = await f.insertMessages(3);
    const t = Date.now();
    const mine = await claimAs(f.database, 'worker-A', t, 1000);
    assert.equal(mine.length, 3);
    // The third one's lease ran out and B took it over.
    await f.database.kysely.updateTable('webhook_messages').set({ locked_by: 'worker-B' }).where('id', '=', ids[2]!).execute();
    const retryAt = t + 30_000;
    const writer = new OutcomeWriter(f.database, 'worker-A');
    const held = await Promise.all([
      writer.record(attemptOf(mine[0]!, t, 200), { kind: 'delivered', at: t + 10 }),
      writer.record(attemptOf(mine[1]!, t, 503), { kind: 'failed', nextAttemptAt: retryAt }),
      writer.record(attemptOf(mine[2]!, t, 200), { kind: 'delivered', at: t + 10 }),
    ]);
    assert.deepEqual(held, [true, true, false]);
    const [delivered, retrying, takenOver] = await Promise.all(ids.map((id) => snapshot(f.database, id)));
    assert.deepEqual([delivered!.message.status, delivered!.message.delivered_at, delivered!.message.locked_by], ['delivered', t + 10, null]);
    assert.deepEqual([retrying!.message.status, retrying!.message.next_attempt_at, retrying!.message.attempt_count], ['pending', retryAt, 1]);
    assert.deepEqual([takenOver!.message.status, takenOver!.message.locked_by, takenOver!.attempts.length], ['pending', 'worker-B', 0]);
    assert.deepEqual(retrying!.attempts.map((x) => [x.worker_id, x.attempt_number, x.status_code, x.response_body]), [['worker-A', 1, 503, 'from 503']]);
    const lane = await f.database.kysely.selectFrom('delivery_lanes').select('next_retry_at').where('subscription_uuid', '=', f.subscription).executeTakeFirstOrThrow();
    assert.ok(lane.next_retry_at !== null && Number(lane.next_retry_at) <= retryAt, 'the lane says the retry is due by then');
  });

  test('concurrent claims never hand the same message to two workers', async () => {
    const f = await fixture(dialect);
    const ids = await f.insertMessages(120);
    const seen = new Map<number, string>();
    // Rounds until all are taken: a worker that finds a lane locked by another skips it, so how
    // many rounds that takes depends on how the three claims interleave (the property is exclusivity).
    for (let round = 0; round < 40 && seen.size < ids.length; round++) {
      const now = Date.now();
      const claims = await Promise.all(['W1', 'W2', 'W3'].map((w) => claimAs(f.database, `${w}-${round}`, now, 60_000, 15)));
      for (const [i, list] of claims.entries()) {
        for (const m of list) {
          assert.ok(!seen.has(m.id), `message ${m.id} claimed by ${seen.get(m.id)} and W${i + 1}`);
          seen.set(m.id, `W${i + 1}-${round}`);
        }
      }
    }
    assert.equal(seen.size, 120, 'every message was claimed exactly once');
    const locked = await f.database.kysely.selectFrom('webhook_messages').select(['id', 'locked_by']).execute();
    for (const row of locked) assert.equal(row.locked_by, seen.get(Number(row.id)), 'the row names the worker that got it');
  });

  test('a heartbeat keeps a slow in-flight message from being claimed by another worker', async () => {
    // Lease 800 ms, heartbeat every ≈ 270 ms: a loaded machine may stall the loop a little.
    const leaseMs = 800;
    const answerAfterMs = leaseMs * 4;
    const receiver = await startReceiver(async () => {
      await sleep(answerAfterMs);
      return { status: 200 };
    });
    cleanups.push(() => receiver.close());
    const f = await fixture(dialect, receiver.url);

    // Control: a claim nobody renews is taken over once it expires, so the watcher below works.
    const [controlId] = await f.insertMessages(1, Date.now() - 5000);
    const [control] = await claimAs(f.database, 'no-heartbeat', Date.now(), leaseMs);
    assert.equal(control?.id, controlId);
    const takenOver = await waitUntil('the unrenewed lease to be taken over', () => claimAs(f.database, 'watcher', Date.now(), 60_000).then((l) => l.length > 0), 5000, 20);
    assert.ok(takenOver);

    const [rowId] = await f.insertMessages(1);
    const sender = createSender({ guard: new NetworkGuard(parseAllowList('127.0.0.0/8')), totalTimeoutMs: 10_000, userAgent: `storehook/${VERSION}` });
    const d = new Dispatcher({
      database: f.database,
      sender,
      workerId: 'worker-with-heartbeat',
      concurrency: 4,
      maxInFlightPerSubscription: 4,
      leaseMs,
      pollIntervalMs: 50,
      retryBaseMs: 60_000,
      retentionDays: 30,
      version: VERSION,
      log: pino({ level: 'silent' }),
    });
    cleanups.push(async () => {
      await d.stop(2000);
      await sender.close();
    });
    d.start();
    await receiver.waitFor(1, 5000);

    // While the receiver takes 4 leases to answer, another worker keeps trying to claim it.
    const stolen: ClaimedMessage[] = [];
    let polls = 0;
    for (;;) {
      const row = await f.database.kysely.selectFrom('webhook_messages').select(['status', 'locked_until']).where('id', '=', rowId!).executeTakeFirstOrThrow();
      if (row.status === 'delivered') break;
      stolen.push(...(await claimAs(f.database, 'thief', Date.now(), 60_000)));
      polls++;
      if (stolen.length) break;
      await sleep(20);
    }
    assert.deepEqual(stolen.map((m) => m.id), [], 'nobody claimed the message while its holder was alive');
    assert.ok(polls >= 20, `the thief tried ${polls} times across the ${answerAfterMs} ms`);
    const { message, attempts } = await snapshot(f.database, rowId!);
    assert.equal(message.status, 'delivered');
    assert.deepEqual(attempts.map((x) => x.worker_id), ['worker-with-heartbeat']);
    assert.ok(Number(attempts[0]!.duration_ms) >= answerAfterMs, 'the attempt outlived several leases');
    assert.equal(receiver.requests.length, 1, 'sent once');
  });
});
