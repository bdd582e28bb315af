/**
 * Reading the store's event feed (`store_events`, appended by ./writer.ts in the same
 * transaction as each order change) for the live stream behind `storehook listen`.
 *
 * The one subtle part is the *watermark*: the highest id below which every row is final. On
 * PostgreSQL ids are drawn when a transaction inserts, not when it commits, so a slow transaction
 * can commit id 10 after id 11 is already visible; a reader that moved its cursor to 11 would skip
 * 10 for ever. Writers hold a shared advisory lock from before drawing the id until commit (see
 * STORE_EVENTS_LOCK in ./writer.ts); taking it exclusively for an instant waits out every
 * such transaction, and `max(id)` read after that is final. SQLite has one writer at a time and
 * commits in id order, so `max(id)` is final already.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/connection.js';
import { afterAdvisoryLockHolders } from '../db/dialect.js';
import type { Schema } from '../db/schema.js';
import { STORE_EVENTS_LOCK } from './writer.js';

export interface StoreEventRow {
  id: number;
  store_id: number;
  topic: string;
  order_id: number;
  created_at: number;
}

/** Events are kept this long; a listener away longer may have missed some (it is told). */
export const STORE_EVENTS_RETENTION_MS = 7 * 86_400_000;

/** The highest event id (any store) at or below which every row is final; 0 when there are none. */
export async function watermark(database: Database): Promise<number> {
  return afterAdvisoryLockHolders(database.kysely, database.dialect, [STORE_EVENTS_LOCK, 0], maxId);
}

async function maxId(db: Kysely<Schema>): Promise<number> {
  const row = await db.selectFrom('store_events').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** The oldest event id still kept (any store), or null when the table is empty. */
export async function oldestId(db: Kysely<Schema>): Promise<number | null> {
  const row = await db.selectFrom('store_events').select((eb) => eb.fn.min('id').as('id')).executeTakeFirst();
  return row?.id === null || row?.id === undefined ? null : Number(row.id);
}

/** A store's events with `afterId < id <= upTo`, oldest first, optionally only some topics. */
export async function readEvents(
  db: Kysely<Schema>,
  storeId: number,
  afterId: number,
  upTo: number,
  topics: readonly string[] | null,
  limit: number,
): Promise<StoreEventRow[]> {
  let q = db
    .selectFrom('store_events')
    .select(['id', 'store_id', 'topic', 'order_id', 'created_at'])
    .where('store_id', '=', storeId)
    .where('id', '>', afterId)
    .where('id', '<=', upTo);
  if (topics) q = q.where('topic', 'in', [...topics]);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ id: Number(r.id), store_id: Number(r.store_id), topic: r.topic, order_id: Number(r.order_id), created_at: Number(r.created_at) }));
}

/** Deletes events older than `cutoffMs`, `batch` rows per statement, at most `maxBatches` times. */
export async function pruneStoreEvents(db: Kysely<Schema>, cutoffMs: number, batch = 1000, maxBatches = 20): Promise<number> {
  let total = 0;
  for (let i = 0; i < maxBatches; i++) {
    const result = await db
      .deleteFrom('store_events')
      .where('id', 'in', (eb) => eb.selectFrom('store_events').select('id').where('created_at', '<', cutoffMs).orderBy('id').limit(batch))
      .executeTakeFirst();
    const n = Number(result.numDeletedRows);
    total += n;
    if (n < batch) break;
  }
  return total;
}

/**
 * One per process: shares the watermark query among all open streams (at most one in flight,
 * and one queued behind it), and wakes the streams of a store when the outbox commits events.
 */
export class EventFeed {
  private readonly wakers = new Map<number, Set<() => void>>();
  private running: Promise<number> | null = null;
  private queued: Promise<number> | null = null;

  constructor(private readonly database: Database) {}

  /** Called after a commit that appended events for `storeId` (in this process). */
  notify(storeId: number): void {
    for (const wake of this.wakers.get(storeId) ?? []) wake();
  }

  /** Registers a waker for a store's commits; returns the function that removes it. */
  onStore(storeId: number, wake: () => void): () => void {
    let set = this.wakers.get(storeId);
    if (!set) this.wakers.set(storeId, (set = new Set()));
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0) this.wakers.delete(storeId);
    };
  }

  /**
   * The current watermark. A caller arriving while a query runs waits for the *next* one: the
   * running query may have started before the commit that woke the caller.
   */
  watermark(): Promise<number> {
    if (!this.running) {
      this.running = watermark(this.database).finally(() => {
        this.running = null;
      });
      return this.running;
    }
    if (!this.queued) {
      this.queued = this.running
        .catch(() => undefined)
        .then(() => {
          this.queued = null;
          return this.watermark();
        });
    }
    return this.queued;
  }
}
