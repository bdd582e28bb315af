/**
 * The change log behind `/webhooks/changes`, and why paging by whole seconds never skips an order.
 *
 * Old clients page with unix seconds: they ask for orders changed at or after `ts`, read the
 * answer's `time_to`, and ask again from `time_to + 1`. That is only safe if, once a second has
 * been answered, no order can still appear in it. An order's own `updated_at` cannot promise
 * that: it is taken before its transaction commits, and a slow transaction (a lock wait, a busy
 * SQLite writer queue) can commit seconds later, into a second a client has already read.
 *
 * So every order change also stamps the order here, on a clock read at the very end of the change's
 * transaction, after taking a per-store lock in shared mode that it holds until commit:
 *
 * - PostgreSQL: writers `pg_advisory_xact_lock_shared(class, store)`, then read the database clock;
 *   the reader takes the same lock exclusively for an instant and reads the database clock: every
 *   writer that stamped an earlier time held the lock before the reader got it, so has committed.
 * - SQLite: one connection runs one transaction at a time and a query waits for the running one,
 *   so a stamp taken inside a transaction before the reader's clock reading is committed by the
 *   time the reader's query runs.
 *
 * The reader answers only whole seconds before its own clock reading (the current second is
 * still open), and cuts a full page at a second boundary (`planPage`), so `time_to + 1` is exact.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/connection.js';
import type { Schema } from '../db/schema.js';
import type { Tx } from '../db/transaction.js';
import type { OrderAggregate } from '../orders/aggregate.js';

/** Advisory lock class of the legacy change clock ("LEG1"); the second key is the store id. */
export const LEGACY_CHANGES_LOCK = 0x4c454731;

function lockKey(storeId: number): number {
  // pg_advisory_xact_lock(int4, int4): a store id beyond int4 shares a key with another store,
  // which only makes one wait for the other's writers; it never weakens the guarantee.
  return storeId % 2_147_483_647;
}

const clockMs = sql<number>`floor(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** Stamps an order change; call last in the change's transaction (the lock is held until commit). */
export async function recordChange(tx: Tx, agg: OrderAggregate, created: boolean): Promise<void> {
  const o = agg.order;
  let now: number;
  if (tx.dialect === 'postgres') {
    const { rows } = await sql<{ now: number }>`
      with l as materialized (select pg_advisory_xact_lock_shared(${LEGACY_CHANGES_LOCK}::int, ${lockKey(o.store_id)}::int))
      select ${clockMs} as now from l`.execute(tx.db);
    now = Number(rows[0]!.now);
  } else {
    now = Date.now();
  }
  // Never before the order's own times (so a client paging from an OrderedAt timestamp sees it);
  // a later stamp only moves the order into a later page, it cannot make it skipped.
  const changedAt = Math.max(now, o.updated_at);
  await tx.db
    .insertInto('legacy_order_changes')
    .values({ order_id: o.id, store_id: o.store_id, created_at: created ? Math.max(now, o.created_at) : changedAt, changed_at: changedAt })
    .onConflict((oc) => oc.column('order_id').doUpdateSet({ changed_at: changedAt }))
    .execute();
}

/**
 * The reader's clock reading: every change stamped before it has committed (see the module
 * comment). Milliseconds since the epoch.
 */
export async function changeWatermark(database: Database, storeId: number): Promise<number> {
  if (database.dialect !== 'postgres') return Date.now();
  return database.kysely.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${LEGACY_CHANGES_LOCK}::int, ${lockKey(storeId)}::int)`.execute(trx);
    const { rows } = await sql<{ now: number }>`select ${clockMs} as now`.execute(trx);
    return Number(rows[0]!.now);
  });
}

export interface ChangeRow {
  order_id: number;
  at: number;
}

export type PagePlan = { orderIds: number[]; timeTo: number } | { wholeSecond: number };

/**
 * Decides a page from the first `cap + 1` rows of the window (ordered by time, then id), where
 * `cutoffSec` is the first second not answered. A page always ends at a whole second:
 * - everything fits: all of it, `time_to = cutoffSec - 1`;
 * - too many: the rows before the second of row `cap + 1`, `time_to` = that second − 1;
 * - all `cap + 1` rows share their second: that whole second, however many it holds (ask for it).
 */
export function planPage(rows: readonly ChangeRow[], cap: number, cutoffSec: number): PagePlan {
  if (rows.length <= cap) return { orderIds: rows.map((r) => r.order_id), timeTo: cutoffSec - 1 };
  const second = Math.floor(rows[cap]!.at / 1000);
  const kept = rows.filter((r) => r.at < second * 1000);
  if (kept.length > 0) return { orderIds: kept.map((r) => r.order_id), timeTo: second - 1 };
  return { wholeSecond: second };
}

export type ChangeColumn = 'changed_at' | 'created_at';

/**
 * One page of `changes`: the ids of orders whose `column` falls in [fromSec, …) and the page's
 * `time_to`. The client's next call starts at `time_to + 1`.
 */
export async function pageChanges(database: Database, storeId: number, column: ChangeColumn, fromSec: number, cap: number): Promise<{ orderIds: number[]; timeTo: number }> {
  const cutoffSec = Math.floor((await changeWatermark(database, storeId)) / 1000);
  if (fromSec >= cutoffSec) return { orderIds: [], timeTo: fromSec - 1 };
  const db: Kysely<Schema> = database.kysely;
  const window = (from: number, to: number, limit?: number) => {
    let q = db
      .selectFrom('legacy_order_changes')
      .select(['order_id', `${column} as at`])
      .where('store_id', '=', storeId)
      .where(column, '>=', from * 1000)
      .where(column, '<', to * 1000)
      .orderBy(column)
      .orderBy('order_id');
    if (limit !== undefined) q = q.limit(limit);
    return q.execute() as Promise<ChangeRow[]>;
  };
  const plan = planPage(await window(fromSec, cutoffSec, cap + 1), cap, cutoffSec);
  if ('orderIds' in plan) return plan;
  const whole = await window(plan.wholeSecond, plan.wholeSecond + 1);
  return { orderIds: whole.map((r) => r.order_id), timeTo: plan.wholeSecond };
}
