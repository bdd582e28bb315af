/**
 * A start-up integrity check of the SQLite file (`PRAGMA quick_check`): damage in the middle of
 * the file is otherwise found only by the request that reads that page. It reads the whole file,
 * so it runs only up to a size limit (a setting): a larger file is skipped, and /healthz says so.
 */
import { statSync } from 'node:fs';
import { sql } from 'kysely';
import type { Database } from './connection.js';

const MAX_PROBLEMS_SHOWN = 3;

export interface IntegrityResult {
  ok: boolean;
  /** what was wrong, or why the check did not run. */
  detail: string | null;
  ms: number;
}

export async function checkSqliteIntegrity(database: Database, maxMegabytes: number): Promise<IntegrityResult> {
  const started = Date.now();
  if (database.dialect !== 'sqlite' || !database.sqliteFile) return { ok: true, detail: null, ms: 0 };
  if (maxMegabytes === 0) {
    database.health.checkNote = 'start-up integrity check turned off (STOREHOOK_SQLITE_CHECK_MAX_MB=0)';
    return { ok: true, detail: database.health.checkNote, ms: 0 };
  }
  const megabytes = statSync(database.sqliteFile).size / (1024 * 1024);
  if (megabytes > maxMegabytes) {
    database.health.checkNote = `start-up integrity check skipped: the file is ${Math.round(megabytes)} MB, above STOREHOOK_SQLITE_CHECK_MAX_MB=${maxMegabytes}; run \`sqlite3 ${database.sqliteFile} 'pragma quick_check'\` while storehook is stopped`;
    return { ok: true, detail: database.health.checkNote, ms: 0 };
  }
  let problems: string[];
  try {
    const { rows } = await sql<{ quick_check: string }>`pragma quick_check(${sql.lit(MAX_PROBLEMS_SHOWN)})`.execute(database.kysely);
    problems = rows.map((r) => String(Object.values(r)[0])).filter((line) => line !== 'ok');
  } catch (err) {
    problems = [err instanceof Error ? err.message : String(err)];
  }
  const ms = Date.now() - started;
  if (problems.length === 0) return { ok: true, detail: null, ms };
  database.health.corruption = `the SQLite file is damaged (PRAGMA quick_check: ${problems.join('; ')}); stop storehook and restore ${database.sqliteFile} from a backup`;
  return { ok: false, detail: database.health.corruption, ms };
}
