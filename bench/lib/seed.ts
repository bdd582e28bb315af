/**
 * Test data, written the way storehook writes it:
 * - stores and API users through the admin functions the CLI uses;
 * - subscriptions as rows (the same columns POST /webhooks writes; the network guard is the
 *   engine's, configured with STOREHOOK_ALLOW_TARGETS=127.0.0.0/8);
 * - messages as rows built by the engine's own newMessageRow(), the body by the outbox's own
 *   renderMessageBody() around an order rendered by the real createOrder → outbox path once
 *   (see `messageTemplate`), each with a fresh message id. Inserting rows instead of creating
 *   20,000 orders keeps the API's cost out of the delivery figures; what the dispatcher reads is
 *   byte-for-byte what the outbox would have written.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { createApiUser, createStore } from '../../src/admin/stores.js';
import { openDatabase, sqliteFilePath, type Database } from '../../src/db/connection.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createOrder } from '../../src/orders/service.js';
import type { CreateOrderBody } from '../../src/orders/contract.js';
import { newMessageId } from '../../src/delivery/signer.js';
import { enqueueMessages, newMessageRow } from '../../src/delivery/queue.js';
import { lowerLanesFromQueue } from '../../src/delivery/lanes.js';
import { WAKE_CHANNEL } from '../../src/db/channels.js';
import { createOutbox, renderMessageBody } from '../../src/webhooks/outbox.js';
import { onCleanup } from './cleanup.js';

export const TOPIC = 'order.created';
export const EXPANDS = ['products', 'shipments', 'payments'];

/** A plausible order: three lines, a Finnish customer, paid. */
export function sampleOrder(i = 0): CreateOrderBody {
  return {
    external_id: `bench-${i}`,
    customer_information: {
      first_name: 'Maija',
      last_name: 'Meikäläinen',
      email: 'maija.meikalainen@example.com',
      phone: '+358401234567',
      street_address: 'Esimerkkikatu 1 A 2',
      postal_code: '00100',
      city: 'Helsinki',
      country: 'FI',
    },
    products: [
      { product_code: 'COF-1000', product_name: 'Coffee beans, dark roast 1 kg', quantity: 2, unit_price: 24.9 },
      { product_code: 'MUG-330', product_name: 'Enamel mug 330 ml', quantity: 1, unit_price: 12.5 },
      { product_code: 'FLT-102', product_name: 'Paper filters no. 4, 100 pcs', quantity: 3, unit_price: 3.95, vat_rate: 14 },
    ],
    shipping_costs: 5.9,
    details: 'Leave at the door.',
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp folders left by benches that were killed (their pid is gone). */
export async function removeStaleTempDirs(): Promise<number> {
  let removed = 0;
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    const m = /^storehook-bench-(\d+)-/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    await rm(join(tmpdir(), name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

export interface Tenant {
  storeId: number;
  storeName: string;
  userId: number;
  email: string;
  apiKey: string;
  /** `Basic …` */
  auth: string;
}

export interface BenchDb {
  database: Database;
  dialect: 'sqlite' | 'postgres';
  dataDir?: string;
  databaseUrl?: string;
  /** SQLite file path (SQLite only) */
  file?: string;
  close(): Promise<void>;
}

/** Opens (and migrates) a bench database: a temp SQLite folder, or the given PostgreSQL URL. */
export async function openBenchDb(databaseUrl?: string): Promise<BenchDb> {
  let dataDir: string | undefined;
  if (!databaseUrl) {
    // the pid in the name lets a later run remove folders of a bench that was killed
    dataDir = await mkdtemp(join(tmpdir(), `storehook-bench-${process.pid}-`));
    const dir = dataDir;
    onCleanup(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  }
  const database = await openDatabase({ databaseUrl, dataDir: dataDir ?? '.', poolSize: 4 });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await database.close();
  };
  onCleanup('close bench database handle', close);
  await migrateToLatest(database);
  return {
    database,
    dialect: database.dialect,
    ...(dataDir ? { dataDir, file: sqliteFilePath(dataDir) } : {}),
    ...(databaseUrl ? { databaseUrl } : {}),
    close,
  };
}

export async function createTenant(db: BenchDb, name: string): Promise<Tenant> {
  const store = await createStore(db.database.kysely, { name, plan: 'advanced' });
  const user = await createApiUser(db.database.kysely, name, `${name}@bench.example`);
  return {
    storeId: store.id,
    storeName: store.name,
    userId: user.userId,
    email: user.email,
    apiKey: user.apiKey,
    auth: `Basic ${Buffer.from(`${user.email}:${user.apiKey}`).toString('base64')}`,
  };
}

export async function addSubscriptions(db: BenchDb, tenant: Tenant, urls: readonly string[], expands: readonly string[] = EXPANDS): Promise<string[]> {
  const now = Date.now();
  const rows = urls.map((url, i) => ({
    uuid: randomUUID(),
    store_id: tenant.storeId,
    user_id: tenant.userId,
    topic: TOPIC,
    expands: JSON.stringify(expands),
    url,
    status: 'active' as const,
    disabled_reason: null,
    created_at: now + i,
    updated_at: now + i,
  }));
  await db.database.kysely.insertInto('webhook_subscriptions').values(rows).execute();
  return rows.map((r) => r.uuid);
}

export async function removeSubscriptions(db: BenchDb, uuids: readonly string[]): Promise<void> {
  if (uuids.length === 0) return;
  await db.database.kysely.deleteFrom('webhook_messages').where('subscription_uuid', 'in', [...uuids]).execute();
  await db.database.kysely.deleteFrom('webhook_subscriptions').where('uuid', 'in', [...uuids]).execute();
}

export interface MessageTemplate {
  /** the `data` member of the body: the order as GET /orders/{id}?expand=… renders it */
  data: unknown;
  bodyBytes: number;
  expands: string[];
}

/**
 * Creates one order through the real service + outbox on a throwaway SQLite database with one
 * subscription, and returns the `data` of the message the outbox wrote.
 */
export async function messageTemplate(expands: readonly string[] = EXPANDS): Promise<MessageTemplate> {
  const db = await openBenchDb();
  try {
    const tenant = await createTenant(db, 'template');
    await addSubscriptions(db, tenant, ['http://127.0.0.1:9/template'], expands);
    await createOrder({ database: db.database, storeId: tenant.storeId, userId: tenant.userId, sink: createOutbox() }, sampleOrder(1));
    const row = await db.database.kysely.selectFrom('webhook_messages').select('body').executeTakeFirstOrThrow();
    const parsed = JSON.parse(row.body) as { data: unknown };
    return { data: parsed.data, bodyBytes: Buffer.byteLength(row.body), expands: [...expands] };
  } finally {
    await db.close();
  }
}

export interface NewMessage {
  subscription: string;
  /** default: the store of the tenant */
  nextAttemptAt: number;
  attemptCount?: number;
  createdAt?: number;
  /** the order it is about (default: its index + 1, one order per message). */
  orderId?: number;
  /** its chain key (the outbox's names the store, the receiver URL and the order); default none. */
  orderingKey?: string;
  /** the body's `sequence` (default 1). */
  sequence?: number;
}

/**
 * One message row, built by the engine's own newMessageRow() (what the outbox inserts); backlog
 * rows then get their attempt count, as retries that already failed.
 */
function messageRow(template: MessageTemplate, storeId: number, m: NewMessage, orderId: number) {
  const id = newMessageId();
  const createdAt = m.createdAt ?? Date.now();
  const attempts = m.attemptCount ?? 0;
  const row = newMessageRow({
    messageId: id,
    storeId,
    subscriptionUuid: m.subscription,
    topic: TOPIC,
    orderId: m.orderId ?? orderId,
    body: renderMessageBody(id, TOPIC, createdAt, template.data, m.sequence ?? 1),
    createdAt,
    dueAt: m.nextAttemptAt,
    orderingKey: m.orderingKey ?? null,
    sequence: m.sequence ?? 1,
  });
  return { ...row, schedule_base: 0, attempt_count: attempts, last_attempt_at: attempts > 0 ? createdAt : null };
}

/** Inserts messages through kysely in chunks (both dialects); `onProgress` after each chunk. */
export async function insertMessages(
  db: BenchDb,
  template: MessageTemplate,
  storeId: number,
  count: number,
  make: (i: number) => NewMessage,
  onProgress?: (done: number) => void,
): Promise<void> {
  const chunk = 500;
  for (let start = 0; start < count; start += chunk) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + chunk); i++) rows.push(messageRow(template, storeId, make(i), i + 1));
    // Through the queue's own insert, so each subscription's delivery lane says when it is due.
    await enqueueMessages(db.database.kysely, rows);
    onProgress?.(Math.min(count, start + chunk));
  }
}

/**
 * The fast path for large SQLite backlogs: one prepared statement on a separate connection, 10,000
 * rows per transaction, while the server keeps running. A busy engine can hold the write lock
 * again and again (each claim is a write); a chunk then waits up to 60 s and is retried.
 */
export async function insertMessagesSqliteBulk(
  file: string,
  template: MessageTemplate,
  storeId: number,
  count: number,
  make: (i: number) => NewMessage,
  onProgress?: (done: number) => void,
): Promise<void> {
  const conn = new SQLite(file);
  try {
    conn.pragma('busy_timeout = 60000');
    const stmt = conn.prepare(
      `insert into webhook_messages (message_id, store_id, subscription_uuid, topic, order_id, body, status, attempt_count, schedule_base, created_at, next_attempt_at, last_attempt_at, delivered_at, locked_by, locked_until)
       values (@message_id, @store_id, @subscription_uuid, @topic, @order_id, @body, @status, @attempt_count, @schedule_base, @created_at, @next_attempt_at, @last_attempt_at, @delivered_at, @locked_by, @locked_until)`,
    );
    // Each subscription's delivery lane (src/delivery/lanes.ts) is lowered to its earliest new row.
    const lesser = (c: string) => `case when excluded.${c} is null then delivery_lanes.${c} when delivery_lanes.${c} is null or excluded.${c} <= delivery_lanes.${c} then excluded.${c} else delivery_lanes.${c} end`;
    const lane = conn.prepare(
      `insert into delivery_lanes (subscription_uuid, next_first_at, next_retry_at) values (?, ?, ?)
       on conflict (subscription_uuid) do update set next_first_at = ${lesser('next_first_at')}, next_retry_at = ${lesser('next_retry_at')}`,
    );
    const batch = conn.transaction((rows: ReturnType<typeof messageRow>[]) => {
      const lanes = new Map<string, [number | null, number | null]>();
      for (const r of rows) {
        stmt.run(r);
        const at = r.next_attempt_at as number;
        const seen = lanes.get(r.subscription_uuid) ?? [null, null];
        const k = r.attempt_count > 0 ? 1 : 0;
        seen[k] = seen[k] === null ? at : Math.min(seen[k], at);
        lanes.set(r.subscription_uuid, seen);
      }
      for (const [sub, [first, retry]] of lanes) lane.run(sub, first, retry);
    });
    const chunk = 10_000;
    for (let start = 0; start < count; start += chunk) {
      const rows = [];
      for (let i = start; i < Math.min(count, start + chunk); i++) rows.push(messageRow(template, storeId, make(i), i + 1));
      for (let attempt = 1; ; attempt++) {
        try {
          batch(rows);
          break;
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      onProgress?.(Math.min(count, start + chunk));
      // let the event loop (progress, IPC) breathe between chunks
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    conn.close();
  }
}

/** Makes every message parked at `parkedAt` due now, and wakes PostgreSQL workers. */
export async function releaseParked(db: BenchDb, parkedAt: number, dueAt = Date.now()): Promise<number> {
  const result = await db.database.kysely
    .updateTable('webhook_messages')
    .set({ next_attempt_at: dueAt })
    .where('status', '=', 'pending')
    .where('next_attempt_at', '=', parkedAt)
    .returning('subscription_uuid')
    .execute();
  await lowerLanesFromQueue(db.database.kysely, [...new Set(result.map((r) => r.subscription_uuid))]);
  if (db.dialect === 'postgres') await sql`select pg_notify(${WAKE_CHANNEL}, '')`.execute(db.database.kysely);
  return result.length;
}

export async function countByStatus(db: BenchDb, status: 'delivered' | 'pending' | 'failed'): Promise<number> {
  const row = await db.database.kysely
    .selectFrom('webhook_messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', status)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function countAttempts(db: BenchDb): Promise<number> {
  const row = await db.database.kysely.selectFrom('webhook_attempts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
