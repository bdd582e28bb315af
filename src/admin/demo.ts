/**
 * First run: a demo store on the `advanced` plan with one API user, so `storehook serve` works
 * with zero configuration. Its key is returned only when it is created, and never again.
 */
import type { Kysely } from 'kysely';
import type { Schema } from '../db/schema.js';
import { createApiUser, createStore } from './stores.js';

export const DEMO_STORE = 'demo';
export const DEMO_EMAIL = 'demo@storehook.local';

export async function ensureDemoStore(db: Kysely<Schema>): Promise<{ email: string; apiKey: string } | null> {
  const anyStore = await db.selectFrom('stores').select('id').limit(1).executeTakeFirst();
  if (anyStore) return null;
  await createStore(db, { name: DEMO_STORE, plan: 'advanced', timezone: 'Europe/Helsinki' });
  const user = await createApiUser(db, DEMO_STORE, DEMO_EMAIL);
  return { email: user.email, apiKey: user.apiKey };
}
