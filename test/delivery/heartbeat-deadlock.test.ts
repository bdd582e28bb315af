/**
 * The lease heartbeat and the batched outcome writes lock the same message rows (PostgreSQL).
 * Both take them in id order, and the heartbeat skips a row whose outcome is being written, so
 * running them together on overlapping rows never ends in `deadlock detected`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, test } from 'node:test';
import { sql } from 'kysely';
import { createStore } from '../../src/admin/stores.js';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { OutcomeWriter } from '../../src/delivery/outcome-writer.js';
import { extendLeases, type AttemptRecord } from '../../src/delivery/queue.js';
import { newMessageId } from '../../src/delivery/signer.js';
import { freshDatabase } from '../helpers/database.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const WORKER = 'worker-deadlock';
const ROWS = 40;
const ROUNDS = 25;

test('heartbeats and batched outcome writes on the same rows never deadlock [postgres]', { skip: !process.env['TEST_DATABASE_URL'] && 'PostgreSQL only (TEST_DATABASE_URL)' }, async () => {
  const fresh = await freshDatabase('postgres');
  cleanups.push(() => fresh.cleanup());
  // A short deadlock_timeout lets each round show a deadlock quickly instead of after 1 s.
  await sql.raw(`alter database "${new URL(fresh.databaseUrl!).pathname.slice(1)}" set deadlock_timeout = '50ms'`).execute(fresh.database.kysely);
  const database: Database = await openDatabase({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir, poolSize: 6 });
  cleanups.push(() => database.close());
  const db = database.kysely;

  const store = await createStore(db, { name: `deadlock-${randomUUID().slice(0, 8)}`, plan: 'advanced' });
  const uuid = randomUUID();
  const now = Date.now();
  await db
    .insertInto('webhook_subscriptions')
    .values({ uuid, store_id: store.id, user_id: 1, topic: 'order.created', expands: '[]', url: 'http://127.0.0.1:9/hook', status: 'active', disabled_reason: null, created_at: now, updated_at: now })
    .execute();
  const inserted = await db
    .insertInto('webhook_messages')
    .values(
      Array.from({ length: ROWS }, () => {
        const messageId = newMessageId();
        return { message_id: messageId, store_id: store.id, subscription_uuid: uuid, topic: 'order.created', order_id: null, body: '{}', status: 'pending' as const, attempt_count: 0, created_at: now, next_attempt_at: now, last_attempt_at: null, delivered_at: null, locked_by: null, locked_until: null };
      }),
    )
    .returning('id')
    .execute();
  const ids = inserted.map((r) => Number(r.id));

  const errors: unknown[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Every row claimed by this worker again, as if in flight.
    await db.updateTable('webhook_messages').set({ status: 'pending', locked_by: WORKER, locked_until: Date.now() + 60_000 }).where('id', 'in', ids).execute();
    const writer = new OutcomeWriter(database, WORKER);
    // Outcomes finish in whatever order the receivers answer: here, newest row first.
    const writes = [...ids].reverse().map((rowId) => {
      const attempt: AttemptRecord = { rowId, storeId: store.id, subscriptionUuid: uuid, orderingKey: null, attemptNumber: round + 1, startedAt: Date.now(), durationMs: 1, statusCode: 500, errorClass: 'http_status', errorMessage: 'HTTP 500', responseBody: null };
      return writer.record(attempt, { kind: 'failed', nextAttemptAt: Date.now() + 60_000 }).catch((err: unknown) => void errors.push(err));
    });
    let writing = true;
    const heartbeats = (async () => {
      // Heartbeats keep coming while the batch is being written.
      while (writing) await extendLeases(database, WORKER, ids, Date.now(), 60_000).catch((err: unknown) => void errors.push(err));
    })();
    const heartbeats2 = (async () => {
      while (writing) await extendLeases(database, WORKER, [...ids].reverse(), Date.now(), 60_000).catch((err: unknown) => void errors.push(err));
    })();
    await Promise.all(writes);
    writing = false;
    await Promise.all([heartbeats, heartbeats2]);
  }
  const messages = errors.map((e) => (e instanceof Error ? e.message : String(e)));
  assert.deepEqual(messages, [], 'no heartbeat or outcome write failed');
  const attempts = await db.selectFrom('webhook_attempts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(attempts.n), ROWS * ROUNDS, 'every outcome was written');
});
