/**
 * SQLite mode is single-process (SPEC §5): the serving process (serve or worker) holds a lock
 * file beside the database. A second one refuses to start; admin commands never take the lock.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export class LockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<file>.lock`; returns a release function. Throws LockedError if a live process has it. */
export function acquireServeLock(sqliteFile: string): () => void {
  const path = `${sqliteFile}.lock`;
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new LockedError(
          `another storehook process (pid ${holder}) is already serving ${sqliteFile}. SQLite mode runs one serving process; ` +
            'stop it first, or run several processes on PostgreSQL (set DATABASE_URL=postgres://…; see docs/deploy.md). ' +
            'Admin commands (stores, users, migrate) work beside it.',
        );
      }
      // A lock left by a process that died: take it over.
      try {
        unlinkSync(path);
      } catch {
        // raced with another starter; the next open decides
      }
    }
  }
  throw new LockedError(`could not take the lock ${path}; another process is starting at the same time`);
}
