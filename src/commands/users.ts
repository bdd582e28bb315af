/** `storehook users create|list|rotate-key`: loaded by their actions only (cli.ts registers them). */
import { createApiUser, listApiUsers, rotateApiKey } from '../admin/stores.js';
import { isoTime } from '../time.js';
import { print } from './support.js';
import { table } from './table.js';
import { withDatabase } from './with-database.js';

export function createUserCommand(opts: Record<string, string | boolean>): Promise<void> {
  return withDatabase(opts, async (db) => {
    const u = await createApiUser(db.kysely, String(opts.store), String(opts.email));
    print(opts.json ? { store: u.store.name, email: u.email, api_key: u.apiKey } : `API user ${u.email} created for store "${u.store.name}".\nAPI key (shown only once): ${u.apiKey}`);
  });
}

export function listUsersCommand(opts: Record<string, string | boolean | undefined>): Promise<void> {
  return withDatabase(opts, async (db) => {
    const rows = (await listApiUsers(db.kysely, opts.store ? String(opts.store) : undefined)).map((u) => ({
      id: u.id,
      email: u.email,
      store: u.store,
      key: `${u.key_prefix}…`,
      created_at: isoTime(u.created_at),
      key_rotated_at: isoTime(u.key_rotated_at),
    }));
    print(opts.json ? rows : table(rows));
  });
}

export function rotateKeyCommand(opts: Record<string, string | boolean>): Promise<void> {
  return withDatabase(opts, async (db) => {
    const r = await rotateApiKey(db.kysely, String(opts.email));
    print(opts.json ? { email: r.email, api_key: r.apiKey } : `New API key for ${r.email} (shown only once): ${r.apiKey}`);
  });
}
