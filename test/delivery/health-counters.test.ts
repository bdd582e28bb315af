/**
 * Health counters (issue #17 §1, src/delivery/health-counters.ts), through the real outcome
 * writer (one statement on PostgreSQL, one transaction on SQLite) and through recordOutcomes
 * (SQLite, and PostgreSQL batches with a 410): a batch's last outcome per subscription decides;
 * a healthy subscription's successes do not write its row; the one-shot test message does not
 * count.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, test } from 'node:test';
import { sql } from 'kysely';
import { createStore } from '../../src/admin/stores.js';
import type { Database } from '../../src/db/connection.js';
import { inTransaction } from '../../src/db/transaction.js';
import { OutcomeWriter } from '../../src/delivery/outcome-writer.js';
import { claimOne, enqueueMessages, newMessageRow, recordOutcomes, type AttemptRecord, type ClaimedMessage, type Outcome } from '../../src/delivery/queue.js';
import { newMessageId } from '../../src/delivery/signer.js';
import { forEachDialect, freshDatabase, type Dialect } from '../helpers/database.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

interface Fixture {
  database: Database;
  storeId: number;
  newSubscription(): Promise<string>;
  /** n messages of `uuid`, claimed by `worker`; maxAttempts 1 makes them one-shot (the test message). */
  claimed(uuid: string, n: number, maxAttempts?: number): Promise<ClaimedMessage[]>;
  health(uuid: string): Promise<{ consecutive_failures: number; failing_since: number | null; last_failure_at: number | null; last_success_at: number | null }>;
  /** how many UPDATEs touched webhook_subscriptions rows since the fixture began (a trigger counts them). */
  subscriptionWrites(): Promise<number>;
}

const WORKER = 'worker-health';

async function fixture(dialect: Dialect): Promise<Fixture> {
  const fresh = await freshDatabase(dialect, { poolSize: 4 });
  cleanups.push(() => fresh.cleanup());
  const database = fresh.database;
  const db = database.kysely;
  const store = await createStore(db, { name: `health-${randomUUID().slice(0, 8)}`, plan: 'advanced' });
  await sql`create table subscription_writes (uuid text not null)`.execute(db);
  if (dialect === 'postgres') {
    await sql`create function count_subscription_write() returns trigger language plpgsql as $$ begin insert into subscription_writes values (new.uuid); return new; end $$`.execute(db);
    await sql`create trigger subscription_written after update on webhook_subscriptions for each row execute function count_subscription_write()`.execute(db);
  } else {
    await sql`create trigger subscription_written after update on webhook_subscriptions begin insert into subscription_writes values (new.uuid); end`.execute(db);
  }
  return {
    database,
    storeId: store.id,
    async newSubscription() {
      const uuid = randomUUID();
      const now = Date.now();
      await db.insertInto('webhook_subscriptions').values({ uuid, store_id: store.id, user_id: 1, topic: 'order.created', expands: '[]', url: `http://127.0.0.1:9/hook/${uuid}`, status: 'active', disabled_reason: null, created_at: now, updated_at: now }).execute();
      return uuid;
    },
    async claimed(uuid, n, maxAttempts) {
      const at = Date.now() - 1000;
      const rows = Array.from({ length: n }, () => {
        const messageId = newMessageId();
        return newMessageRow({ messageId, storeId: store.id, subscriptionUuid: uuid, topic: 'order.created', orderId: null, body: '{}', createdAt: at, dueAt: at, ...(maxAttempts ? { maxAttempts } : {}) });
      });
      await enqueueMessages(db, rows);
      const ids = await db.selectFrom('webhook_messages').select('id').where('message_id', 'in', rows.map((r) => r.message_id)).orderBy('id').execute();
      const out: ClaimedMessage[] = [];
      for (const { id } of ids) out.push((await claimOne(database, Number(id), store.id, WORKER, Date.now(), 60_000))!);
      return out;
    },
    async health(uuid) {
      const r = await db.selectFrom('webhook_subscriptions').select(['consecutive_failures', 'failing_since', 'last_failure_at', 'last_success_at']).where('uuid', '=', uuid).executeTakeFirstOrThrow();
      const n = (v: number | string | null) => (v === null ? null : Number(v));
      return { consecutive_failures: Number(r.consecutive_failures), failing_since: n(r.failing_since), last_failure_at: n(r.last_failure_at), last_success_at: n(r.last_success_at) };
    },
    async subscriptionWrites() {
      const r = await sql<{ n: number | string }>`select count(*) as n from subscription_writes`.execute(db);
      return Number(r.rows[0]!.n);
    },
  };
}

function attempt(m: ClaimedMessage, startedAt: number, ok: boolean, oneShot = false): AttemptRecord {
  return {
    rowId: m.id,
    storeId: m.store_id,
    subscriptionUuid: m.subscription_uuid,
    attemptNumber: m.attempt_count + 1,
    startedAt,
    durationMs: 3,
    statusCode: ok ? 200 : 500,
    errorClass: ok ? null : 'http_status',
    errorMessage: ok ? null : 'HTTP 500',
    responseBody: null,
    orderingKey: m.ordering_key,
    countsForHealth: !oneShot,
  };
}

const delivered = (at: number): Outcome => ({ kind: 'delivered', at });
const failed = (at: number): Outcome => ({ kind: 'failed', nextAttemptAt: at + 60_000 });

/** Writes the outcomes as one batch of the dispatcher's outcome writer; every lease must hold. */
async function writeBatch(database: Database, outcomes: [AttemptRecord, Outcome][]): Promise<void> {
  const writer = new OutcomeWriter(database, WORKER);
  const held = await Promise.all(outcomes.map(([a, o]) => writer.record(a, o)));
  assert.ok(held.every(Boolean), 'every lease held');
}

forEachDialect('health counters', (dialect) => {
  test('a mixed batch: the failures after its last success are the new run; the next batches add to it or end it', async () => {
    const f = await fixture(dialect);
    const sub = await f.newSubscription();
    const t = 1_900_000_000_000;
    // Row order differs from time order on purpose: the attempt times decide, not the row ids.
    const [m1, m2, m3, m4] = await f.claimed(sub, 4);
    await writeBatch(f.database, [
      [attempt(m1!, t + 30, false), failed(t + 30)],
      [attempt(m2!, t + 10, false), failed(t + 10)],
      [attempt(m3!, t + 20, true), delivered(t + 20)],
      [attempt(m4!, t + 40, false), failed(t + 40)],
    ]);
    assert.deepEqual(await f.health(sub), { consecutive_failures: 2, failing_since: t + 30, last_failure_at: t + 40, last_success_at: t + 20 });

    const [m5] = await f.claimed(sub, 1);
    await writeBatch(f.database, [[attempt(m5!, t + 50, false), failed(t + 50)]]);
    assert.deepEqual(await f.health(sub), { consecutive_failures: 3, failing_since: t + 30, last_failure_at: t + 50, last_success_at: t + 20 }, 'failures only: added to the run, which keeps its start');

    const [m6, m7] = await f.claimed(sub, 2);
    await writeBatch(f.database, [
      [attempt(m6!, t + 70, true), delivered(t + 70)],
      [attempt(m7!, t + 60, false), failed(t + 60)],
    ]);
    assert.deepEqual(await f.health(sub), { consecutive_failures: 0, failing_since: null, last_failure_at: t + 60, last_success_at: t + 70 }, 'a success last: healthy again');
  });

  test("a healthy subscription's successes do not write its row; a failing one's do", async () => {
    const f = await fixture(dialect);
    const healthy = await f.newSubscription();
    const failing = await f.newSubscription();
    const t = Date.now();
    const ok = await f.claimed(healthy, 5);
    const bad = await f.claimed(failing, 2);
    const before = await f.subscriptionWrites();
    await writeBatch(f.database, [...ok.map((m, i): [AttemptRecord, Outcome] => [attempt(m, t + i, true), delivered(t + i)]), ...bad.map((m, i): [AttemptRecord, Outcome] => [attempt(m, t + i, false), failed(t + i)])]);
    const writes = (await sql<{ uuid: string }>`select uuid from subscription_writes`.execute(f.database.kysely)).rows.slice(before).map((r) => r.uuid);
    assert.deepEqual(writes, [failing], 'only the failing subscription was written');

    // The next batch: both succeed. The one that was failing is written once (healthy again), the other not at all.
    const ok2 = await f.claimed(healthy, 3);
    const back = await f.claimed(failing, 1);
    const mark = await f.subscriptionWrites();
    await writeBatch(f.database, [...ok2.map((m, i): [AttemptRecord, Outcome] => [attempt(m, t + 100 + i, true), delivered(t + 100 + i)]), [attempt(back[0]!, t + 100, true), delivered(t + 100)]]);
    const writes2 = (await sql<{ uuid: string }>`select uuid from subscription_writes`.execute(f.database.kysely)).rows.slice(mark).map((r) => r.uuid);
    assert.deepEqual(writes2, [failing]);
    assert.equal((await f.health(failing)).failing_since, null);

    // And once healthy, its successes cost no write either.
    const again = await f.claimed(failing, 2);
    const mark2 = await f.subscriptionWrites();
    await writeBatch(f.database, again.map((m, i) => [attempt(m, t + 200 + i, true), delivered(t + 200 + i)]));
    assert.equal(await f.subscriptionWrites(), mark2);
  });

  test('the one-shot test message leaves health alone; a 410 counts as a failure (recordOutcomes path)', async () => {
    const f = await fixture(dialect);
    const sub = await f.newSubscription();
    const t = Date.now();
    const [probe] = await f.claimed(sub, 1, 1);
    await writeBatch(f.database, [[attempt(probe!, t, false, true), { kind: 'failed', nextAttemptAt: null }]]);
    assert.deepEqual(await f.health(sub), { consecutive_failures: 0, failing_since: null, last_failure_at: null, last_success_at: null });

    const [a, b] = await f.claimed(sub, 2);
    const held = await inTransaction(f.database, (tx) =>
      recordOutcomes(tx.db, WORKER, [
        { attempt: attempt(a!, t + 5, false), outcome: failed(t + 5) },
        { attempt: { ...attempt(b!, t + 9, false), statusCode: 410 }, outcome: { kind: 'gone', reason: 'The receiver answered 410 Gone.' } },
      ]),
    );
    assert.deepEqual(held, [true, true]);
    const row = await f.database.kysely.selectFrom('webhook_subscriptions').select(['status', 'consecutive_failures', 'failing_since', 'disabled_by', 'disabled_at']).where('uuid', '=', sub).executeTakeFirstOrThrow();
    assert.deepEqual({ ...row, failing_since: Number(row.failing_since), disabled_at: Number(row.disabled_at) }, { status: 'disabled', consecutive_failures: 2, failing_since: t + 5, disabled_by: 'gone', disabled_at: t + 9 });
  });
});
