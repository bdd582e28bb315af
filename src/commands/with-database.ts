/**
 * Opening the database for an admin command (stores, users, migrate, legacy): loaded by the
 * commands' actions only, so `--help` and the toolkit commands never load the database layer.
 */
import { existsSync } from 'node:fs';
import { AdminError } from '../admin/stores.js';
import type { Config } from '../config.js';
import { openDatabase, sqliteFileFor, type Database } from '../db/connection.js';
import { databasePlace, describeDatabaseError } from '../db/describe-error.js';
import { migrateToLatest } from '../db/migrate.js';
import { config, fail } from './support.js';

/** Opens and migrates the database for an admin command, with one clear line on failure. */
export async function withDatabase<T>(
  flags: Record<string, unknown>,
  work: (db: Database, cfg: Config, applied: string[]) => Promise<T>,
  options: { mayCreate?: boolean } = {},
): Promise<T> {
  const cfg = config(flags);
  const sqliteFile = sqliteFileFor(cfg);
  if (sqliteFile) refuseMissingSqlite(cfg.dataDir, sqliteFile, options.mayCreate ?? false);
  const place = databasePlace(cfg.databaseUrl, cfg.dataDir);
  let database: Database;
  let applied: string[];
  try {
    database = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, sqliteSync: cfg.sqliteSync, poolSize: 2 });
  } catch (err) {
    fail(describeDatabaseError(err, place, 'cannot open'));
  }
  try {
    applied = await migrateToLatest(database);
  } catch (err) {
    await database.close().catch(() => undefined);
    fail(describeDatabaseError(err, place, 'cannot bring up to date'));
  }
  try {
    return await work(database, cfg, applied);
  } catch (err) {
    if (err instanceof AdminError) fail(err.message);
    throw err;
  } finally {
    await database.close();
  }
}

/**
 * An admin command never creates a SQLite database as a side effect: a mistyped --data-dir would
 * otherwise list "(none)" from a new empty file. `migrate` may create the file, in a folder that
 * exists; `serve` creates both on the first run.
 */
function refuseMissingSqlite(dataDir: string, sqliteFile: string, mayCreate: boolean): void {
  const hint = 'check --data-dir / STOREHOOK_DATA_DIR, or create the database with `storehook migrate --data-dir <folder>` (or a first `storehook serve`)';
  if (!existsSync(dataDir)) fail(`the data directory ${dataDir} does not exist; ${hint}`, 2);
  if (!mayCreate && !existsSync(sqliteFile)) fail(`there is no storehook database in ${dataDir} (no ${sqliteFile}); ${hint}`, 2);
}
