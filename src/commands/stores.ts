/** `storehook stores create|list|update`: loaded by their actions only (cli.ts registers them). */
import { createStore, listStores, parsePlan, updateStore } from '../admin/stores.js';
import { isoTime } from '../time.js';
import { print } from './support.js';
import { table } from './table.js';
import { withDatabase } from './with-database.js';

export function createStoreCommand(opts: Record<string, string | boolean>): Promise<void> {
  return withDatabase(opts, async (db) => {
    const store = await createStore(db.kysely, { name: String(opts.name), plan: parsePlan(String(opts.plan)), timezone: String(opts.timezone) });
    print(opts.json ? { id: store.id, name: store.name, plan: store.plan, timezone: store.timezone } : `store "${store.name}" created (id ${store.id}, plan ${store.plan})`);
  });
}

export function listStoresCommand(opts: Record<string, unknown>): Promise<void> {
  return withDatabase(opts, async (db) => {
    const rows = (await listStores(db.kysely)).map((s) => ({ id: s.id, name: s.name, plan: s.plan, timezone: s.timezone, users: s.users, created_at: isoTime(s.created_at) }));
    print(opts.json ? rows : table(rows));
  });
}

export function updateStoreCommand(opts: Record<string, string | boolean | undefined>): Promise<void> {
  return withDatabase(opts, async (db) => {
    const store = await updateStore(db.kysely, String(opts.store), {
      ...(opts.plan ? { plan: parsePlan(String(opts.plan)) } : {}),
      ...(opts.timezone ? { timezone: String(opts.timezone) } : {}),
    });
    print(opts.json ? { id: store.id, name: store.name, plan: store.plan, timezone: store.timezone } : `store "${store.name}": plan ${store.plan}, time zone ${store.timezone}`);
  });
}
