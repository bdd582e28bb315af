/**
 * First run: a demo store on the `advanced` plan with one API user, so `storehook serve` works
 * with zero configuration. Its key is returned only when it is created, and never again.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/connection.js';
import { advisoryXactLock } from '../db/dialect.js';
import type { Schema } from '../db/schema.js';
import { createApiUser, createStore } from './stores.js';

export const DEMO_STORE = 'demo';
export const DEMO_EMAIL = 'demo@storehook.local';

/** An arbitrary constant naming the seeding lock among PostgreSQL advisory locks ("storehook demo"). */
const SEED_LOCK_KEY = 0x5e_ed_de_70;

/**
 * Seeds the demo store when the database has no store at all. Several processes may start on one
 * fresh database at the same moment: on PostgreSQL they take turns under an advisory lock held
 * until the transaction ends, so the first seeds and the others find its store.
 */
export async function ensureDemoStore(database: Database): Promise<{ email: string; apiKey: string } | null> {
  return database.kysely.transaction().execute(async (trx) => {
    await advisoryXactLock({ db: trx, dialect: database.dialect }, SEED_LOCK_KEY);
    return seedIfEmpty(trx);
  });
}

async function seedIfEmpty(db: Kysely<Schema>): Promise<{ email: string; apiKey: string } | null> {
  const anyStore = await db.selectFrom('stores').select('id').limit(1).executeTakeFirst();
  if (anyStore) return null;
  await createStore(db, { name: DEMO_STORE, plan: 'advanced', timezone: 'Europe/Helsinki' });
  const user = await createApiUser(db, DEMO_STORE, DEMO_EMAIL);
  return { email: user.email, apiKey: user.apiKey };
}
