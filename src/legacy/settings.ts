/**
 * Per-store settings of the legacy XML Webhooks extension: off by default; the operator enables it
 * and gets the store's key (shown once, stored as a SHA-256 hash like API keys); the automatic
 * POST's URL lives on the store's internal `legacy.order_xml` subscription, so the delivery engine
 * (retries, log, resend) carries it like any other message.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AdminError, findStore } from '../admin/stores.js';
import { apiKeyMatches, hashApiKey } from '../auth/api-keys.js';
import type { Database } from '../db/connection.js';
import type { Plan, Schema, Store } from '../db/schema.js';
import { inTransaction } from '../db/transaction.js';
import { DomainError } from '../errors.js';
import { nowMs } from '../time.js';
import { checkTargetUrl, holdSubscription, releaseSubscription, type SubscriptionPolicy } from '../webhooks/subscriptions.js';
import { LEGACY_ORDER_XML_TOPIC } from '../webhooks/topics.js';

type Db = Kysely<Schema>;

/** A new legacy key: 40 lowercase hex characters (160 random bits), the shape MyCashflow's keys had. */
export function generateLegacyKey(): string {
  return randomBytes(20).toString('hex');
}

export interface LegacyStatus {
  storeId: number;
  storeName: string;
  plan: Plan;
  enabled: boolean;
  /** the first characters of the key, to tell keys apart; null when none was issued. */
  keyPrefix: string | null;
  keyCreatedAt: number | null;
  includeApiOrders: boolean;
  postUrl: string | null;
  /** `active`, `disabled` (with the reason), or null when no URL is set. */
  postStatus: 'active' | 'disabled' | null;
  postDisabledReason: string | null;
  /** the internal subscription: its uuid signs the POSTs and opens its delivery log in the API. */
  subscriptionUuid: string | null;
}

async function ensureRow(db: Db, storeId: number, now: number): Promise<void> {
  await db
    .insertInto('legacy_settings')
    .values({ store_id: storeId, enabled: 0, key_hash: null, key_prefix: null, key_created_at: null, include_api_orders: 0, subscription_uuid: null, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('store_id').doNothing())
    .execute();
}

export async function legacyStatus(db: Db, store: Store): Promise<LegacyStatus> {
  const row = await db
    .selectFrom('legacy_settings as l')
    .leftJoin('webhook_subscriptions as s', (join) => join.onRef('s.uuid', '=', 'l.subscription_uuid').onRef('s.store_id', '=', 'l.store_id'))
    .select(['l.enabled', 'l.key_prefix', 'l.key_created_at', 'l.include_api_orders', 's.uuid', 's.url', 's.status', 's.disabled_reason'])
    .where('l.store_id', '=', store.id)
    .executeTakeFirst();
  return {
    storeId: store.id,
    storeName: store.name,
    plan: store.plan,
    enabled: row?.enabled === 1,
    keyPrefix: row?.key_prefix ?? null,
    keyCreatedAt: row?.key_created_at ?? null,
    includeApiOrders: row?.include_api_orders === 1,
    postUrl: row?.url ?? null,
    postStatus: row?.status ?? null,
    postDisabledReason: row?.status === 'disabled' ? row.disabled_reason : null,
    subscriptionUuid: row?.uuid ?? null,
  };
}

function refuseFree(store: Store): void {
  if (store.plan === 'free') {
    throw new AdminError(`the Webhooks extension is not available on the free plan; store "${store.name}" is on it. Move the store to basic or above (storehook stores update --store ${store.id} --plan basic).`);
  }
}

/**
 * Enables the extension and issues its key (returned once), or with `rotate` replaces the key
 * (the old one stops working at once). Enabling again after `disable` keeps the existing key
 * (null is returned) unless `rotate` is given.
 */
export async function issueLegacyKey(database: Database, storeNameOrId: string, options: { rotate: boolean }): Promise<{ status: LegacyStatus; key: string | null }> {
  const db = database.kysely;
  const store = await findStore(db, storeNameOrId);
  refuseFree(store);
  const key = await inTransaction(database, async (tx) => {
    const now = nowMs();
    await ensureRow(tx.db, store.id, now);
    const current = await tx.db.selectFrom('legacy_settings').selectAll().where('store_id', '=', store.id).executeTakeFirstOrThrow();
    if (current.key_hash && !options.rotate) {
      if (current.enabled === 1) {
        throw new AdminError(`store "${store.name}" already has a legacy key (${current.key_prefix}…); it was shown only when it was issued. Pass --rotate to replace it (the old key stops working at once).`);
      }
      await tx.db.updateTable('legacy_settings').set({ enabled: 1, updated_at: now }).where('store_id', '=', store.id).execute();
      return null;
    }
    const fresh = generateLegacyKey();
    await tx.db
      .updateTable('legacy_settings')
      .set({ enabled: 1, key_hash: hashApiKey(fresh), key_prefix: fresh.slice(0, 6), key_created_at: now, updated_at: now })
      .where('store_id', '=', store.id)
      .execute();
    return fresh;
  });
  return { status: await legacyStatus(db, store), key };
}

/** Turns the extension off: its actions answer 403 and no automatic POST is queued; the key is kept. */
export async function disableLegacy(database: Database, storeNameOrId: string): Promise<LegacyStatus> {
  const store = await findStore(database.kysely, storeNameOrId);
  await ensureRow(database.kysely, store.id, nowMs());
  await database.kysely.updateTable('legacy_settings').set({ enabled: 0, updated_at: nowMs() }).where('store_id', '=', store.id).execute();
  return legacyStatus(database.kysely, store);
}

export async function setIncludeApiOrders(database: Database, storeNameOrId: string, include: boolean): Promise<LegacyStatus> {
  const store = await findStore(database.kysely, storeNameOrId);
  await ensureRow(database.kysely, store.id, nowMs());
  await database.kysely.updateTable('legacy_settings').set({ include_api_orders: include ? 1 : 0, updated_at: nowMs() }).where('store_id', '=', store.id).execute();
  return legacyStatus(database.kysely, store);
}

/**
 * Sets the automatic POST's URL (checked like a subscription URL: scheme, network guard). The
 * internal subscription is created, or changed and enabled again (messages it held are sent).
 */
export async function setPostUrl(database: Database, policy: SubscriptionPolicy, storeNameOrId: string, rawUrl: string): Promise<LegacyStatus> {
  const store = await findStore(database.kysely, storeNameOrId);
  let url: string;
  try {
    url = await checkTargetUrl(rawUrl, policy);
  } catch (err) {
    if (err instanceof DomainError) throw new AdminError(`--post-url ${err.message.replace(/^url: /, '')}`);
    throw err;
  }
  await inTransaction(database, async (tx) => {
    const now = nowMs();
    await ensureRow(tx.db, store.id, now);
    const current = await tx.db.selectFrom('legacy_settings').select('subscription_uuid').where('store_id', '=', store.id).executeTakeFirstOrThrow();
    const sub = current.subscription_uuid
      ? await tx.db.selectFrom('webhook_subscriptions').selectAll().where('uuid', '=', current.subscription_uuid).where('store_id', '=', store.id).executeTakeFirst()
      : undefined;
    if (sub) {
      await tx.db.updateTable('webhook_subscriptions').set({ url, updated_at: now }).where('uuid', '=', sub.uuid).execute();
      if (sub.status !== 'active') await releaseSubscription(tx.db, sub.uuid, now);
      return;
    }
    // The store's earlier internal subscription (URL cleared, or detached) is reused, never doubled.
    const leftover = await tx.db.selectFrom('webhook_subscriptions').select('uuid').where('store_id', '=', store.id).where('topic', '=', LEGACY_ORDER_XML_TOPIC).executeTakeFirst();
    const uuid = leftover?.uuid ?? randomUUID();
    if (leftover) {
      await tx.db.updateTable('webhook_subscriptions').set({ url, updated_at: now }).where('uuid', '=', uuid).execute();
      await releaseSubscription(tx.db, uuid, now);
    } else {
      await tx.db
        .insertInto('webhook_subscriptions')
        .values({ uuid, store_id: store.id, user_id: 0, topic: LEGACY_ORDER_XML_TOPIC, expands: '[]', url, status: 'active', disabled_reason: null, created_at: now, updated_at: now })
        .execute();
    }
    await tx.db.updateTable('legacy_settings').set({ subscription_uuid: uuid, updated_at: now }).where('store_id', '=', store.id).execute();
  });
  return legacyStatus(database.kysely, store);
}

/**
 * Stops the automatic POST: the internal subscription is disabled (its delivery log kept, queued
 * messages held) and detached; setting a URL again takes it back into use.
 */
export async function clearPostUrl(database: Database, storeNameOrId: string): Promise<LegacyStatus> {
  const store = await findStore(database.kysely, storeNameOrId);
  await inTransaction(database, async (tx) => {
    const row = await tx.db.selectFrom('legacy_settings').select('subscription_uuid').where('store_id', '=', store.id).executeTakeFirst();
    if (!row?.subscription_uuid) return;
    const now = nowMs();
    await holdSubscription(tx.db, row.subscription_uuid, `The automatic POST URL was cleared by the operator at ${new Date(now).toISOString()}.`, now);
    await tx.db.updateTable('legacy_settings').set({ subscription_uuid: null, updated_at: now }).where('store_id', '=', store.id).execute();
  });
  return legacyStatus(database.kysely, store);
}

// ---- request time ---------------------------------------------------------------------------

export interface LegacyStore {
  storeId: number;
  storeName: string;
  plan: Plan;
  timezone: string;
  enabled: boolean;
}

function legacyStoreQuery(db: Db) {
  return db
    .selectFrom('legacy_settings as l')
    .innerJoin('stores as st', 'st.id', 'l.store_id')
    .select(['st.id as storeId', 'st.name as storeName', 'st.plan', 'st.timezone', 'l.enabled', 'l.key_hash']);
}

/** The store whose legacy key this is, or null. The key identifies the store: one host serves many. */
export async function findStoreByLegacyKey(db: Db, key: string): Promise<LegacyStore | null> {
  if (key.length === 0 || key.length > 200) return null;
  const row = await legacyStoreQuery(db).where('l.key_hash', '=', hashApiKey(key)).executeTakeFirst();
  if (!row?.key_hash || !apiKeyMatches(key, row.key_hash)) return null;
  return { storeId: row.storeId, storeName: row.storeName, plan: row.plan, timezone: row.timezone, enabled: row.enabled === 1 };
}

