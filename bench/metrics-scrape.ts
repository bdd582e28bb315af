/**
 * `node --import tsx bench/metrics-scrape.ts [messages] [--database-url postgres://…]` — what the
 * scrape-time read behind `storehook_subscription_failing` costs on a large queue (docs/deploy.md,
 * "Metrics"). Fills an empty database (a temp SQLite file, or the PostgreSQL database given,
 * which must be empty and is left filled) with `messages` messages (default 200,000) over 100
 * subscriptions, of which 20 are failing (one message in 20 of theirs waits for a retry or failed
 * for good, after all their deliveries), then times five reads.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDemoStore } from '../src/admin/demo.js';
import { openDatabase } from '../src/db/connection.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { WebhookMessagesTable } from '../src/db/schema.js';
import { failingSubscriptions } from '../src/delivery/queue-views.js';

const args = process.argv.slice(2);
const urlAt = args.indexOf('--database-url');
const databaseUrl = urlAt >= 0 ? args[urlAt + 1] : undefined;
const total = Number(args.find((a, i) => /^\d+$/.test(a) && i !== urlAt + 1) ?? 200_000);
const SUBSCRIPTIONS = 100;
const FAILING = 20;

const dataDir = await mkdtemp(join(tmpdir(), 'storehook-metrics-bench-'));
const database = await openDatabase({ databaseUrl, dataDir });
try {
  await migrateToLatest(database);
  await ensureDemoStore(database);
  const store = Number((await database.kysely.selectFrom('stores').select('id').executeTakeFirstOrThrow()).id);
  const user = Number((await database.kysely.selectFrom('api_users').select('id').executeTakeFirstOrThrow()).id);
  const now = Date.now();
  const subs = Array.from({ length: SUBSCRIPTIONS }, () => randomUUID());
  await database.kysely
    .insertInto('webhook_subscriptions')
    .values(subs.map((uuid) => ({ uuid, store_id: store, user_id: user, topic: 'order.created', expands: '[]', url: `http://127.0.0.1:1/${uuid}`, status: 'active' as const, disabled_reason: null, created_at: now, updated_at: now })))
    .execute();
  type Row = Omit<WebhookMessagesTable, 'id' | 'schedule_base' | 'content_type' | 'max_attempts' | 'ordering_key' | 'sequence'>;
  let batch: Row[] = [];
  for (let i = 0; i < total; i++) {
    const round = Math.floor(i / SUBSCRIPTIONS);
    const failing = i % SUBSCRIPTIONS < FAILING && round % 20 === 0;
    const forGood = failing && round % 40 === 0;
    const at = now - (total - i) * 10;
    batch.push({
      message_id: `msg_bench_${i}`, store_id: store, subscription_uuid: subs[i % SUBSCRIPTIONS]!, topic: 'order.created', order_id: null, body: '{}',
      status: failing ? (forGood ? 'failed' : 'pending') : 'delivered', attempt_count: 1, created_at: at,
      next_attempt_at: failing && !forGood ? now + 600_000 : null, last_attempt_at: failing ? now : at, delivered_at: failing ? null : at,
      locked_by: null, locked_until: null,
    });
    if (batch.length === 500 || i === total - 1) {
      await database.kysely.insertInto('webhook_messages').values(batch).execute();
      batch = [];
    }
  }
  const times: number[] = [];
  let found = { listed: 0, total: 0 };
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const result = await failingSubscriptions(database, 50);
    times.push(Math.round(performance.now() - started));
    found = { listed: result.top.length, total: result.total };
  }
  console.log(JSON.stringify({ dialect: database.dialect, messages: total, failing: found.total, listed: found.listed, ms: times }));
} finally {
  await database.close();
  await rm(dataDir, { recursive: true, force: true });
}
