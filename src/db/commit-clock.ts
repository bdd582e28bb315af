/**
 * The per-store commit clock: the stamps clients sync by (an order's `created_at` and
 * `updated_at`, the legacy change log) and the watermark below which every stamp has committed.
 *
 * A time read on the application's clock before a transaction commits can become visible after a
 * later time has already been read: a client that saved the later one as its checkpoint never sees
 * the earlier change. So stamps and reads meet behind a per-store barrier:
 *
 * - A writer calls `commitStamp(tx, storeId)` inside the change's transaction, once it holds the
 *   row locks it needs (so it never waits for a row while holding the barrier), and stamps every
 *   time of the change with the result. PostgreSQL: it takes the store's advisory lock in shared
 *   mode, held until commit, then reads the database clock (one clock for every process).
 * - A reader calls `commitWatermark(database, storeId)` and answers only stamps strictly below it.
 *   PostgreSQL: it takes the same lock exclusively for an instant, so every writer that stamped
 *   before has committed, and reads the database clock; a writer that stamps afterwards reads a
 *   later time.
 * - SQLite: one connection runs one transaction at a time and a query waits for the running one,
 *   so a stamp taken before the reader's clock reading has committed when the reader's query runs.
 *   Both read one clock that never goes back in this process (SQLite serves from one process): a
 *   clock stepped backwards holds the stamps at the last time until it catches up.
 *
 * Stamps are milliseconds since the epoch. Several changes may share one; none is ever below a
 * watermark already handed out. The millisecond a watermark is read in stays hidden (a writer may
 * still stamp in it), so the reader first lets the millisecond of any change already acknowledged
 * end: a client sees its own change at once.
 */
import type { Database } from './connection.js';
import { clockIsThisProcess, processClockMs, sharedClockMs } from './dialect.js';
import type { Tx } from './transaction.js';

/**
 * Advisory lock class of the commit clock; the second key is the store id. The value is the one
 * the legacy change log used ("LEG1"), so processes of the previous version share it during a
 * rolling upgrade.
 */
export const COMMIT_CLOCK_LOCK = 0x4c454731;

function lockKey(storeId: number): readonly [number, number] {
  // pg_advisory_xact_lock(int4, int4): a store id beyond int4 shares a key with another store,
  // which only makes one wait for the other's writers; it never weakens the guarantee.
  return [COMMIT_CLOCK_LOCK, storeId % 2_147_483_647];
}

let lastStamp = 0;

/** Waits one millisecond of real time (a 1 ms timer may fire sooner: the event loop's clock lags). */
async function oneMillisecond(): Promise<void> {
  const start = performance.now();
  while (performance.now() - start < 1) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** The stamp of a change to the store's orders; holds the store's barrier until `tx` ends. */
export async function commitStamp(tx: Tx, storeId: number): Promise<number> {
  const stamp = await sharedClockMs(tx, { key: lockKey(storeId), shared: true });
  if (clockIsThisProcess(tx.dialect)) lastStamp = stamp;
  return stamp;
}

/**
 * A time such that every stamp of the store below it has committed and every stamp still to come
 * is at or above it. Answer only stamps strictly below it.
 */
export async function commitWatermark(database: Database, storeId: number): Promise<number> {
  if (clockIsThisProcess(database.dialect)) {
    // Only a change stamped in this very millisecond is worth waiting for (once: a clock stepped
    // backwards would make it a long wait, and the answer is correct either way).
    if (lastStamp >= processClockMs()) await oneMillisecond();
    return processClockMs();
  }
  // The database clock is another machine's: wait one millisecond of real time, so that it has
  // left the millisecond of every change acknowledged before this call.
  await oneMillisecond();
  // A statement outside a transaction is its own: the lock is released as soon as it answers.
  return sharedClockMs({ db: database.kysely, dialect: database.dialect }, { key: lockKey(storeId), shared: false });
}
