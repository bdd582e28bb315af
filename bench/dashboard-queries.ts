/**
 * `node --import tsx bench/dashboard-queries.ts [messages] [--database-url postgres://…]` — what
 * the dashboard's message reads (src/delivery/queue-views.ts) cost in one busy store
 * (docs/dashboard.md, "What the lists cost"). Fills an empty database (a temp SQLite file, or the
 * PostgreSQL database given, which must be empty and is left filled) with `messages` delivered
 * messages (default 300,000) of one store over 20 subscriptions, one attempt each, one a second
 * up to now, then prints the median of five runs of each read, in ms.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../src/db/connection.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { listMessages, messageCounts, successRates } from '../src/delivery/queue-views.js';

const args = process.argv.slice(2);
const urlAt = args.indexOf('--database-url');
const databaseUrl = urlAt >= 0 ? args[urlAt + 1] : undefined;
const total = Number(args.find((a, i) => /^\d+$/.test(a) && i !== urlAt + 1) ?? 300_000);
/** what the dashboard pages count at most (src/dashboard/pages/subscriptions.ts). */
const COUNT_UP_TO = 10_000;

const dataDir = await mkdtemp(join(tmpdir(), 'storehook-dashboard-bench-'));
const database = await openDatabase({ databaseUrl, dataDir });
try {
  await migrateToLatest(database);
  const db = database.kysely;
  const now = Date.now();
  const store = Number((await db.insertInto('stores').values({ name: 'bench', plan: 'pro', timezone: 'UTC', created_at: now }).returning('id').executeTakeFirstOrThrow()).id);
  const subs = Array.from({ length: 20 }, () => randomUUID());
  await db
    .insertInto('webhook_subscriptions')
    .values(subs.map((uuid) => ({ uuid, store_id: store, user_id: 0, topic: 'order.created', expands: '[]', url: `http://127.0.0.1:1/${uuid}`, status: 'active' as const, disabled_reason: null, created_at: now, updated_at: now })))
    .execute();
  for (let i = 0; i < total; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, total - i) }, (_, j) => {
      const at = now - (total - i - j) * 1000;
      return { message_id: `msg_bench_${i + j}`, store_id: store, subscription_uuid: subs[(i + j) % subs.length]!, topic: 'order.created', order_id: i + j + 1, body: '{}', status: 'delivered' as const, attempt_count: 1, created_at: at, next_attempt_at: null, last_attempt_at: at, delivered_at: at, locked_by: null, locked_until: null };
    });
    const ids = await db.insertInto('webhook_messages').values(rows).returning(['id', 'created_at']).execute();
    await db.insertInto('webhook_attempts').values(ids.map((r) => ({ message_row_id: r.id, store_id: store, attempt_number: 1, started_at: r.created_at, duration_ms: 5, status_code: 200, error_class: null, error_message: null, response_body: null, worker_id: 'bench' }))).execute();
  }
  // As autovacuum would have by then: planner statistics of the filled tables.
  if (database.dialect === 'postgres') await sql`analyze`.execute(db);
  const median = async (read: () => Promise<unknown>): Promise<number> => {
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await read();
      ms.push(performance.now() - started);
    }
    return Math.round(ms.sort((a, b) => a - b)[2]! * 10) / 10;
  };
  const page = (search: Parameters<typeof listMessages>[2]) => () => listMessages(db, store, search, 1, 25, COUNT_UP_TO);
  const reads: Record<string, () => Promise<unknown>> = {
    'messages, no filter': page({}),
    'messages, state delivered': page({ state: 'delivered' }),
    'messages, state failed': page({ state: 'failed' }),
    'messages, HTTP 5xx': page({ httpStatus: { min: 500, max: 599 } }),
    'messages, state failed + HTTP 5xx': page({ state: 'failed', httpStatus: { min: 500, max: 599 } }),
    'messages, by message id': page({ messageId: `msg_bench_${Math.floor(total / 2)}` }),
    'messages, by order id': page({ orderId: Math.floor(total / 2) }),
    'one subscription, no filter': page({ subscriptionUuid: subs[0] }),
    'one subscription, HTTP 5xx': page({ subscriptionUuid: subs[0], httpStatus: { min: 500, max: 599 } }),
    'success rate, 24 h, 20 subscriptions': () => successRates(db, store, now - 86_400_000, subs),
    'overview counts, 24 h': () => messageCounts(db, store, now - 86_400_000),
  };
  const ms: Record<string, number> = {};
  for (const [name, read] of Object.entries(reads)) ms[name] = await median(read);
  console.log(JSON.stringify({ dialect: database.dialect, messages: total, ms }, null, 1));
} finally {
  await database.close();
  await rm(dataDir, { recursive: true, force: true });
}
