/**
 * Everything that differs between SQLite and PostgreSQL, beyond opening the connection
 * (connection.ts) and the schema (migrations/). Code outside `db/` calls these helpers and never
 * asks which database is underneath.
 *
 * SQLite serves from one process and runs one write transaction at a time, so row locks,
 * advisory locks and cross-process wake-ups are not needed there: the helpers do nothing. On
 * PostgreSQL several processes share the database under READ COMMITTED, and they do the work.
 */
import { PostgresAdapter, sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Schema } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

/** A connection or transaction that knows its database; `Tx` (transaction.ts) is one. */
export interface DialectQuery {
  db: Kysely<Schema>;
  dialect: Dialect;
}

/** The name an operator knows the database by, for banners and logs. */
export function dialectName(dialect: Dialect): string {
  return dialect === 'postgres' ? 'PostgreSQL' : 'SQLite';
}

/**
 * True when several storehook processes may use the database at once (PostgreSQL), so state
 * shared between requests must live in it; SQLite is served by one process.
 */
export function sharedByProcesses(dialect: Dialect): boolean {
  return dialect === 'postgres';
}

export interface RowLockOptions<TB extends string> {
  /** lock only this table's rows (an alias of the query). */
  of?: TB;
  /** leave out rows another transaction holds instead of waiting for them. */
  skipLocked?: boolean;
  /** `FOR NO KEY UPDATE`: inserts referencing the row (`FOR KEY SHARE` through a foreign key) do not wait. */
  noKey?: boolean;
}

/**
 * PostgreSQL: the rows this query reads stay locked until the transaction ends (`FOR UPDATE`,
 * optionally `SKIP LOCKED`). SQLite: the query as it is; its one writer at a time locks enough.
 */
export function lockForUpdate<DB, TB extends keyof DB & string, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  dialect: Dialect,
  options: RowLockOptions<TB> = {},
): SelectQueryBuilder<DB, TB, O> {
  if (dialect !== 'postgres') return query;
  let locked = options.noKey ? query.forNoKeyUpdate(options.of) : query.forUpdate(options.of);
  if (options.skipLocked) locked = locked.skipLocked();
  return locked;
}

/**
 * PostgreSQL: locks the rows the query finds until the transaction ends, reading nothing back.
 * SQLite: runs nothing; its one write transaction at a time is lock enough.
 */
export async function lockRows<DB, TB extends keyof DB & string, O>(query: SelectQueryBuilder<DB, TB, O>, dialect: Dialect, options: RowLockOptions<TB> = {}): Promise<void> {
  if (dialect === 'postgres') await lockForUpdate(query, dialect, options).execute();
}

/**
 * An advisory lock held until the transaction ends: one 64-bit key, or a (class, object) pair of
 * 32-bit keys. Shared holders exclude only exclusive ones. SQLite: nothing to take.
 */
export type AdvisoryKey = number | readonly [classKey: number, objectKey: number];

export async function advisoryXactLock(tx: DialectQuery, key: AdvisoryKey): Promise<void> {
  if (tx.dialect !== 'postgres') return;
  await (typeof key === 'number' ? sql`select pg_advisory_xact_lock(${key})` : sql`select pg_advisory_xact_lock(${key[0]}, ${key[1]})`).execute(tx.db);
}

export async function advisoryXactLockShared(tx: DialectQuery, key: AdvisoryKey): Promise<void> {
  if (tx.dialect !== 'postgres') return;
  await (typeof key === 'number' ? sql`select pg_advisory_xact_lock_shared(${key})` : sql`select pg_advisory_xact_lock_shared(${key[0]}, ${key[1]})`).execute(tx.db);
}

/**
 * The dialect a Kysely instance (or a transaction of it) speaks, for queue code that is handed a
 * bare connection and must still take a PostgreSQL-only lock.
 */
export function dialectOf(db: Kysely<Schema>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * Exclusive advisory locks, held until the transaction ends, on (classKey, hashtext(name)) for
 * each name, taken in one round trip in ascending hash order, so two transactions locking
 * overlapping sets never wait on each other in a cycle. Names that hash alike share a lock (which
 * is only coarser, never wrong). SQLite: nothing to take.
 */
export async function advisoryXactLocksOnNames(db: Kysely<Schema>, classKey: number, names: readonly string[]): Promise<void> {
  if (names.length === 0 || dialectOf(db) !== 'postgres') return;
  // PostgreSQL evaluates a volatile target list after the ORDER BY, so the locks follow it.
  await sql`select pg_advisory_xact_lock(${classKey}::int, h) from (select distinct hashtext(n) as h from unnest(${[...new Set(names)]}::text[]) as n) as keys order by h`.execute(db);
}

/**
 * Runs `work` once every transaction holding `key` shared has ended: PostgreSQL takes the lock
 * exclusively in a transaction of its own, released when `work` is done. SQLite commits one
 * transaction at a time, so `work` runs at once, outside any transaction.
 */
export async function afterAdvisoryLockHolders<T>(db: Kysely<Schema>, dialect: Dialect, key: AdvisoryKey, work: (db: Kysely<Schema>) => Promise<T>): Promise<T> {
  if (dialect !== 'postgres') return work(db);
  return db.transaction().execute(async (trx) => {
    await advisoryXactLock({ db: trx, dialect }, key);
    return work(trx);
  });
}

/**
 * PostgreSQL: `pg_notify(channel)`, delivered to every listener (`Database.listen`) when the
 * transaction commits. SQLite: nothing; its one process wakes itself after the commit.
 */
export async function notify(tx: DialectQuery, channel: string): Promise<void> {
  if (tx.dialect === 'postgres') await sql`select pg_notify(${channel}, '')`.execute(tx.db);
}

const databaseClockMs = sql<number>`floor(extract(epoch from clock_timestamp()) * 1000)::bigint`;

let highestReading = 0;

/** Date.now(), except that it never returns less than it returned before. */
export function processClockMs(): number {
  const now = Date.now();
  if (now > highestReading) highestReading = now;
  return highestReading;
}

/**
 * Milliseconds since the epoch on the clock every writer of the database shares, read once
 * `lock` is held (until the transaction ends). PostgreSQL: `clock_timestamp()`, one clock for
 * every process, read in the same round trip as the advisory lock is taken. SQLite: this
 * process's clock, never going back (SQLite serves from one process; no lock is needed).
 */
export async function sharedClockMs(tx: DialectQuery, lock: { key: readonly [number, number]; shared: boolean }): Promise<number> {
  if (tx.dialect !== 'postgres') return processClockMs();
  const [classKey, objectKey] = lock.key;
  const take = lock.shared
    ? sql`pg_advisory_xact_lock_shared(${classKey}::int, ${objectKey}::int)`
    : sql`pg_advisory_xact_lock(${classKey}::int, ${objectKey}::int)`;
  // The materialized CTE takes the lock before the clock is read.
  const { rows } = await sql<{ now: number }>`
    with l as materialized (select ${take})
    select ${databaseClockMs} as now from l`.execute(tx.db);
  return Number(rows[0]!.now);
}

/** True when `sharedClockMs` reads this process's clock (SQLite), so its readings compare with `processClockMs()`. */
export function clockIsThisProcess(dialect: Dialect): boolean {
  return dialect !== 'postgres';
}
