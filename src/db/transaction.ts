/**
 * One database transaction plus the work to do once it has committed (waking the dispatcher).
 * The callback runs inside the transaction: a throw rolls everything back, hooks included.
 */
import type { Kysely } from 'kysely';
import type { Database, Dialect } from './connection.js';
import type { Schema } from './schema.js';

export interface Tx {
  db: Kysely<Schema>;
  dialect: Dialect;
  /** runs after a successful commit; never after a rollback. */
  afterCommit(hook: () => void): void;
}

export async function inTransaction<T>(database: Database, work: (tx: Tx) => Promise<T>): Promise<T> {
  const hooks: (() => void)[] = [];
  const result = await database.kysely.transaction().execute((trx) =>
    work({ db: trx, dialect: database.dialect, afterCommit: (hook) => hooks.push(hook) }),
  );
  for (const hook of hooks) hook();
  return result;
}
