/** Operator actions on stores and API users, shared by the CLI and first-run seeding. */
import type { Kysely } from 'kysely';
import { generateApiKey, hashApiKey, keyPrefix } from '../auth/api-keys.js';
import type { Plan, Schema, Store } from '../db/schema.js';
import { seedDefaultVersion } from '../catalogue/named.js';
import { seedDefaultMethods } from '../orders/methods.js';
import { nowMs } from '../time.js';

export const PLANS: readonly Plan[] = ['free', 'basic', 'advanced', 'pro', 'enterprise'];

export class AdminError extends Error {}

type Db = Kysely<Schema>;

export function parsePlan(raw: string): Plan {
  if (!(PLANS as readonly string[]).includes(raw)) throw new AdminError(`unknown plan "${raw}"; use one of ${PLANS.join(', ')}`);
  return raw as Plan;
}

function checkTimezone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz;
  } catch {
    throw new AdminError(`unknown time zone "${tz}"; use an IANA name such as Europe/Helsinki or UTC`);
  }
}

export async function createStore(db: Db, input: { name: string; plan: Plan; timezone?: string }): Promise<Store> {
  const name = input.name.trim();
  if (!/^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,99}$/u.test(name)) {
    throw new AdminError('store name must be 1-100 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit');
  }
  const existing = await db.selectFrom('stores').select('id').where('name', '=', name).executeTakeFirst();
  if (existing) throw new AdminError(`a store named "${name}" already exists`);
  const now = nowMs();
  const insert = async (trx: Db): Promise<Store> => {
    const store = await trx
      .insertInto('stores')
      .values({ name, plan: input.plan, timezone: checkTimezone(input.timezone ?? 'UTC'), created_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
    await seedDefaultMethods(trx, store.id, now);
    await seedDefaultVersion(trx, store.id, now);
    return store;
  };
  // The demo seeding calls this inside its own transaction (Kysely cannot nest them).
  return db.isTransaction ? insert(db) : db.transaction().execute(insert);
}

export async function findStore(db: Db, nameOrId: string): Promise<Store> {
  const byId = /^\d+$/.test(nameOrId) ? await db.selectFrom('stores').selectAll().where('id', '=', Number(nameOrId)).executeTakeFirst() : undefined;
  const store = byId ?? (await db.selectFrom('stores').selectAll().where('name', '=', nameOrId).executeTakeFirst());
  if (!store) throw new AdminError(`no store "${nameOrId}"; list them with \`storehook stores list\``);
  return store;
}

export async function listStores(db: Db): Promise<(Store & { users: number })[]> {
  const rows = await db
    .selectFrom('stores')
    .leftJoin('api_users', 'api_users.store_id', 'stores.id')
    .select(['stores.id', 'stores.name', 'stores.plan', 'stores.timezone', 'stores.created_at'])
    .select((eb) => eb.fn.count<number>('api_users.id').as('users'))
    .groupBy(['stores.id', 'stores.name', 'stores.plan', 'stores.timezone', 'stores.created_at'])
    .orderBy('stores.id')
    .execute();
  return rows.map((r) => ({ ...r, users: Number(r.users) }));
}

export async function updateStore(db: Db, nameOrId: string, change: { plan?: Plan; timezone?: string }): Promise<Store> {
  const store = await findStore(db, nameOrId);
  const set = { ...(change.plan ? { plan: change.plan } : {}), ...(change.timezone ? { timezone: checkTimezone(change.timezone) } : {}) };
  if (Object.keys(set).length === 0) throw new AdminError('nothing to change: pass --plan and/or --timezone');
  return db.updateTable('stores').set(set).where('id', '=', store.id).returningAll().executeTakeFirstOrThrow();
}

const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

export async function createApiUser(db: Db, storeNameOrId: string, email: string): Promise<{ store: Store; email: string; apiKey: string; userId: number }> {
  const store = await findStore(db, storeNameOrId);
  const normalized = email.trim().toLowerCase();
  if (!EMAIL.test(normalized) || normalized.length > 320) throw new AdminError(`"${email}" is not an e-mail address`);
  const taken = await db.selectFrom('api_users').select('id').where('email', '=', normalized).executeTakeFirst();
  if (taken) throw new AdminError(`an API user ${normalized} already exists (e-mails are unique across stores: they are the login)`);
  const apiKey = generateApiKey();
  const row = await db
    .insertInto('api_users')
    .values({ store_id: store.id, email: normalized, key_hash: hashApiKey(apiKey), key_prefix: keyPrefix(apiKey), created_at: nowMs(), key_rotated_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { store, email: normalized, apiKey, userId: row.id };
}

export async function listApiUsers(db: Db, storeNameOrId?: string) {
  let q = db
    .selectFrom('api_users')
    .innerJoin('stores', 'stores.id', 'api_users.store_id')
    .select(['api_users.id', 'api_users.email', 'api_users.key_prefix', 'api_users.created_at', 'api_users.key_rotated_at', 'stores.name as store'])
    .orderBy('api_users.id');
  if (storeNameOrId) q = q.where('stores.id', '=', (await findStore(db, storeNameOrId)).id);
  return q.execute();
}

export async function rotateApiKey(db: Db, email: string): Promise<{ email: string; apiKey: string }> {
  const normalized = email.trim().toLowerCase();
  const apiKey = generateApiKey();
  const result = await db
    .updateTable('api_users')
    .set({ key_hash: hashApiKey(apiKey), key_prefix: keyPrefix(apiKey), key_rotated_at: nowMs() })
    .where('email', '=', normalized)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new AdminError(`no API user ${normalized}; list them with \`storehook users list\``);
  return { email: normalized, apiKey };
}
