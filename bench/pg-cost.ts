/**
 * What one worker costs PostgreSQL per 1,000 deliveries (docs/deploy.md, sizing): statements sent
 * (every pg client query counted, BEGIN/COMMIT included) and CPU of the database backends serving
 * this run's database (/proc/<pid>/stat utime+stime; the WAL writer and checkpointer are not in it).
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx bench/pg-cost.ts [messages] [subscriptions]
 *
 * Messages are queued first, then one dispatcher delivers them all to a local receiver answering
 * 200 at once, so the figures are the engine's own, not the API's.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { sql } from 'kysely';
import { createStore } from '../src/admin/stores.js';
import { openDatabase } from '../src/db/connection.js';
import { Dispatcher } from '../src/delivery/dispatcher.js';
import { createSender } from '../src/delivery/http-sender.js';
import { NetworkGuard, parseAllowList } from '../src/delivery/network-guard.js';
import { enqueueMessages, newMessageRow } from '../src/delivery/queue.js';
import { newMessageId } from '../src/delivery/signer.js';
import { freshDatabase } from '../test/helpers/database.js';
import { startReceiver } from '../test/helpers/receiver.js';

const MESSAGES = Number(process.argv[2] ?? 5000);
const SUBSCRIPTIONS = Number(process.argv[3] ?? 10);
const TICK = 100; // USER_HZ on Linux

let statements = 0;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
(pg.Client.prototype as { query: unknown }).query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  return query.apply(this, args);
};

function cpuTicks(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // a backend that ended meanwhile
    }
  }
  return ticks;
}

const fresh = await freshDatabase('postgres', { poolSize: 4 });
const receiver = await startReceiver(() => ({ status: 200, body: 'ok' }));
try {
  const db = fresh.database.kysely;
  const store = await createStore(db, { name: `cost-${randomUUID().slice(0, 8)}`, plan: 'advanced' });
  const subs = Array.from({ length: SUBSCRIPTIONS }, () => randomUUID());
  const now = Date.now();
  await db
    .insertInto('webhook_subscriptions')
    .values(subs.map((uuid, i) => ({ uuid, store_id: store.id, user_id: 1, topic: 'order.created', expands: '[]', url: `${receiver.url}?s=${i}`, status: 'active' as const, disabled_reason: null, created_at: now, updated_at: now })))
    .execute();
  for (let i = 0; i < MESSAGES; i += 500) {
    const rows = Array.from({ length: Math.min(500, MESSAGES - i) }, (_, j) => {
      const messageId = newMessageId();
      return newMessageRow({ messageId, storeId: store.id, subscriptionUuid: subs[(i + j) % SUBSCRIPTIONS]!, topic: 'order.created', orderId: null, body: `{"id":"${messageId}"}`, createdAt: now, dueAt: now });
    });
    await enqueueMessages(db, rows);
  }

  const database = await openDatabase({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir, poolSize: 4 });
  const sender = createSender({ guard: new NetworkGuard(parseAllowList('127.0.0.0/8')), connectTimeoutMs: 5000, totalTimeoutMs: 15_000, userAgent: 'storehook-bench' });
  const dispatcher = new Dispatcher({
    database,
    sender,
    workerId: 'cost',
    concurrency: 64,
    maxInFlightPerSubscription: 16,
    leaseMs: 60_000,
    pollIntervalMs: 1000,
    retryBaseMs: 60_000,
    retentionDays: 7,
    version: 'bench',
    log: { info() {}, warn() {}, error() {}, debug() {} },
  });
  await sql`select 1`.execute(database.kysely); // open a connection before counting
  const dbName = new URL(fresh.databaseUrl!).pathname.slice(1);
  const backends = async () => (await sql<{ pid: number }>`select pid from pg_stat_activity where datname = ${dbName}`.execute(db)).rows.map((r) => Number(r.pid));
  const startedAt = performance.now();
  const statementsBefore = statements;
  const ticksBefore = cpuTicks(await backends());
  dispatcher.start();
  while (receiver.requests.length < MESSAGES) await new Promise((r) => setTimeout(r, 20));
  let pids = await backends();
  // every outcome written
  for (;;) {
    const left = await db.selectFrom('webhook_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '<>', 'delivered').executeTakeFirstOrThrow();
    if (Number(left.n) === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  pids = [...new Set([...pids, ...(await backends())])];
  const seconds = (performance.now() - startedAt) / 1000;
  const sent = statements - statementsBefore;
  const ticks = cpuTicks(pids) - ticksBefore;
  await dispatcher.stop(1000);
  await sender.close();
  await database.close();
  const per1000 = 1000 / MESSAGES;
  process.stdout.write(
    `${MESSAGES} deliveries to ${SUBSCRIPTIONS} subscriptions in ${seconds.toFixed(1)} s (${(MESSAGES / seconds).toFixed(0)}/s)\n` +
      `statements: ${sent} (${(sent * per1000).toFixed(0)} per 1,000 deliveries, the polling checks of this script included)\n` +
      `database backend CPU: ${(ticks / TICK).toFixed(2)} s (${((ticks / TICK) * per1000 * 1000).toFixed(0)} ms per 1,000 deliveries)\n`,
  );
} finally {
  await receiver.close();
  await fresh.cleanup();
}
