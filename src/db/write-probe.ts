/**
 * Whether the database can write again: commits a 16 KiB row (new pages, so a full disk or file
 * limit shows). Run only while a full disk is suspected, by /healthz.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from './connection.js';
import { isDiskFull } from './health.js';

const PROBE_BYTES = 16 * 1024;

/** null when the write committed (and clears the disk-full mark), else what went wrong. */
export async function probeWrite(database: Database): Promise<string | null> {
  try {
    await database.kysely.transaction().execute(async (trx) => {
      await trx.deleteFrom('storage_probe').execute();
      // Random bytes: PostgreSQL would compress a repeated filler into a few bytes.
      await trx.insertInto('storage_probe').values({ id: 1, filler: randomBytes(PROBE_BYTES), written_at: Date.now() }).execute();
    });
    await database.kysely.deleteFrom('storage_probe').execute();
    database.health.diskFullAt = null;
    return null;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return isDiskFull(err) ? `disk full: writes fail (${why}); free space on the database's disk` : `a test write failed: ${why}`;
  }
}
