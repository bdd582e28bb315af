/**
 * The change log behind `/webhooks/changes`, and why paging by whole seconds never skips an order.
 *
 * Old clients page with unix seconds: they ask for orders changed at or after `ts`, read the
 * answer's `time_to`, and ask again from `time_to + 1`. That is only safe if, once a second has
 * been answered, no order can still appear in it. A time read on the application's clock cannot
 * promise that: a slow transaction (a lock wait, a busy SQLite writer queue) can commit seconds
 * after it read the time, into a second a client has already read.
 *
 * So an order's stamps come from the commit clock (src/db/commit-clock.ts): every change takes
 * its stamp inside its transaction, behind a per-store barrier it holds until commit, and the
 * reader asks the same clock for a watermark below which every stamp has committed. The change log
 * copies the order's stamps; the JSON API's `updated_at`/`created_at` filters use the same clock.
 *
 * The reader answers only whole seconds before the watermark (the current second is still open),
 * and cuts a full page at a second boundary (`planPage`), so `time_to + 1` is exact.
 */
import type { Kysely } from 'kysely';
import { commitWatermark } from '../db/commit-clock.js';
import type { Database } from '../db/connection.js';
import type { Schema } from '../db/schema.js';
import type { Tx } from '../db/transaction.js';
import type { OrderAggregate } from '../orders/aggregate.js';

/**
 * Records an order change under the order's own commit stamps; call inside the change's
 * transaction, after the order was stamped.
 */
export async function recordChange(tx: Tx, agg: OrderAggregate, created: boolean): Promise<void> {
  const o = agg.order;
  await tx.db
    .insertInto('legacy_order_changes')
    .values({ order_id: o.id, store_id: o.store_id, created_at: created ? o.created_at : o.updated_at, changed_at: o.updated_at })
    .onConflict((oc) => oc.column('order_id').doUpdateSet({ changed_at: o.updated_at }))
    .execute();
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
  const cutoffSec = Math.floor((await commitWatermark(database, storeId)) / 1000);
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
