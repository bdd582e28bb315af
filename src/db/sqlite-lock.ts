/**
 * SQLite mode is single-process (SPEC §5): the serving process (serve or worker) holds a lock
 * beside the database. A second one refuses to start; admin commands never take the lock.
 *
 * The lock is an exclusive SQLite transaction held open on `<file>.serve-lock` for the life of the
 * process. SQLite takes it with a POSIX file lock, which the operating system drops when the
 * process ends in any way (exit, crash, SIGKILL, reboot): no stale lock can outlive its holder,
 * and a live process that merely reuses a dead holder's PID cannot block a start. The holder's PID
 * is written to `<file>.lock` only to name it in the refusal.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import SQLite from 'better-sqlite3';

export class LockedError extends Error {}

function holderPid(pidFile: string): number | null {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the serving lock of `sqliteFile`; returns a release function. Throws LockedError while another process holds it. */
export function acquireServeLock(sqliteFile: string): () => void {
  const lockFile = `${sqliteFile}.serve-lock`;
  const pidFile = `${sqliteFile}.lock`;
  // timeout 0: a held lock answers SQLITE_BUSY at once instead of waiting for it.
  const lock = new SQLite(lockFile, { timeout: 0 });
  try {
    lock.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    const pid = holderPid(pidFile);
    throw new LockedError(
      `another storehook process${pid ? ` (pid ${pid})` : ''} is already serving ${sqliteFile}. SQLite mode runs one serving process; ` +
        'stop it first, or run several processes on PostgreSQL (set DATABASE_URL=postgres://…; see docs/deploy.md). ' +
        'Admin commands (stores, users, migrate) work beside it.',
    );
  }
  // Whatever an earlier holder left here is stale now: the lock above proves it has ended.
  writeFileSync(pidFile, String(process.pid));
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      if (holderPid(pidFile) === process.pid) unlinkSync(pidFile);
    } catch {
      // already gone
    }
    // Never delete the lock file itself: a starter may have it open, and would lock a file no one else sees.
    lock.close();
  };
  process.once('exit', release);
  return release;
}
