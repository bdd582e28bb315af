/**
 * What the database layer knows is wrong beyond "does it answer": a full disk seen by a write,
 * damage found by the start-up check. `/healthz` reports these, so an orchestrator or operator
 * sees a server that cannot write even though `select 1` still works.
 */
/** SQLite's and PostgreSQL's "no space left" (53100 disk_full). */
export const DISK_FULL_CODES: ReadonlySet<string> = new Set(['SQLITE_FULL', '53100']);

/** SQLite's damaged file / not a database; PostgreSQL's data_corrupted and index_corrupted. */
export const CORRUPTION_CODES: ReadonlySet<string> = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'XX001', 'XX002']);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isDiskFull(err: unknown): boolean {
  return DISK_FULL_CODES.has(codeOf(err) ?? '');
}

export function isCorruption(err: unknown): boolean {
  return CORRUPTION_CODES.has(codeOf(err) ?? '');
}

export class StorageHealth {
  /** when a write last failed for lack of space; cleared once a write probe succeeds. */
  diskFullAt: number | null = null;
  /** what the start-up integrity check found wrong; null when it passed or did not run. */
  corruption: string | null = null;
  /** why the start-up integrity check did not run or was cut short, if so. */
  checkNote: string | null = null;

  /** Called with every failed query. */
  noteError(err: unknown, now = Date.now()): void {
    if (isDiskFull(err)) this.diskFullAt = now;
    else if (this.corruption === null && isCorruption(err)) {
      this.corruption = `a query found the database damaged (${err instanceof Error ? err.message : String(err)}); stop storehook and restore it from a backup`;
    }
  }
}
