/** `storehook migrate`: loaded by its action only (cli.ts registers it). */
import { print } from './support.js';
import { withDatabase } from './with-database.js';

export function migrateCommand(opts: Record<string, unknown>): Promise<void> {
  return withDatabase(
    opts,
    async (db, _cfg, applied) => {
      for (const name of applied) print(`applied ${name}`);
      print(applied.length ? `database ${db.location} is up to date (${applied.length} migration${applied.length === 1 ? '' : 's'} applied)` : `database ${db.location} is up to date (nothing to apply)`);
    },
    { mayCreate: true },
  );
}
