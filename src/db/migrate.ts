/**
 * Brings the schema up to date. Kysely's Migrator takes a PostgreSQL advisory lock, so several
 * processes starting at once migrate exactly once; on SQLite the file lock serialises them.
 */
import { Migrator, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Database } from './connection.js';
import { migrationsFor } from './migrations/index.js';

export async function migrateToLatest(database: Database): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(database.dialect) };
  const migrator = new Migrator({ db: database.kysely, provider });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    // No migration ran (e.g. the database did not answer): the original error says more.
    if (failed === undefined) throw result.error;
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(`migration ${failed} failed: ${reason}`, { cause: result.error });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
