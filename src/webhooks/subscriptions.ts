/** Subscriptions: validation (SPEC §3) and storage, always scoped by store. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { SETTINGS, type Config } from '../config.js';
import type { Subscription, SubscriptionHealth } from './contract.js';
import type { Database } from '../db/connection.js';
import { lockRows } from '../db/dialect.js';
import type { Schema, SubscriptionOrdering, SubscriptionRow } from '../db/schema.js';
import { inTransaction, type Tx } from '../db/transaction.js';
import { GuardError, NetworkGuard, ResolveError } from '../delivery/network-guard.js';
import { HEALTHY } from '../delivery/health-counters.js';
import { deleteMessagesOf, holdSubscription, releaseOrdering, releaseSubscription } from '../delivery/queue.js';
import { conflict, DomainError, invalid, notFound } from '../errors.js';
import { isoTime, nowMs } from '../time.js';
import { applySigningChoice, forgetSigningKeys, type IssuedKeys, type SigningChoice, type SigningView } from './signing-keys.js';
import { findTopic, LEGACY_ORDER_XML_TOPIC, TOPICS } from './topics.js';

type Db = Kysely<Schema>;

export interface SubscriptionPolicy {
  guard: NetworkGuard;
  httpsOnly: boolean;
  maxSubscriptions: number;
  /** how long a replaced signing key keeps signing beside the new one (default: the setting's default, 24 h). */
  secretOverlapMs?: number;
  /** how long a failing subscription fails before it is disabled (default: the setting's default, 5 days). */
  disableAfterMs?: number;
}

/** The policy as the settings give it; `guard` is the sender's when there is one, so both allow the same targets. */
export function subscriptionPolicy(
  config: Pick<Config, 'allowTargets' | 'httpsOnly' | 'maxSubscriptions' | 'secretOverlapHours'> & Partial<Pick<Config, 'webhookDisableAfterMs'>>,
  guard = new NetworkGuard(config.allowTargets),
): SubscriptionPolicy {
  return {
    guard,
    httpsOnly: config.httpsOnly,
    maxSubscriptions: config.maxSubscriptions,
    secretOverlapMs: config.secretOverlapHours * 3_600_000,
    disableAfterMs: config.webhookDisableAfterMs ?? SETTINGS.webhookDisableAfterMs.default,
  };
}

/** How long a replaced signing key keeps signing beside the new one under `policy`. */
export function overlapOf(policy: SubscriptionPolicy): number {
  return policy.secretOverlapMs ?? SETTINGS.secretOverlapHours.default * 3_600_000;
}

// Front ends (the legacy bridge's settings) hold and release a subscription's messages through here.
export { holdSubscription, releaseSubscription } from '../delivery/queue.js';

export interface SubscriptionOwner {
  storeId: number;
  userId: number;
}

export interface NewSubscription {
  topic: string;
  expands?: string[] | undefined;
  url: string;
  /** opt-in signing keys of its own (absent: its uuid signs, as in MyCashflow). */
  signing?: SigningChoice | undefined;
  /** per_order: one message at a time per order (or other resource); default none. */
  ordering?: SubscriptionOrdering | undefined;
}

export interface SubscriptionPatch {
  url?: string | undefined;
  expands?: string[] | undefined;
  status?: 'active' | 'disabled' | undefined;
  signing?: SigningChoice | undefined;
  ordering?: SubscriptionOrdering | undefined;
}

/** A subscription as saved, and the signing secret or public key the change made (shown once). */
export interface SavedSubscription {
  row: SubscriptionRow;
  issued: IssuedKeys;
}

/** A subscription as the API shows it; `signing` from signingViews(), `heldCount` from heldCounts() (0 when absent), `health` from healthViews(). */
export function renderSubscription(row: SubscriptionRow, signing: SigningView, health: SubscriptionHealth, heldCount = 0): Subscription {
  return {
    uuid: row.uuid,
    user_id: row.user_id,
    topic: row.topic,
    expands: JSON.parse(row.expands) as string[],
    url: row.url,
    status: row.status,
    disabled_reason: row.disabled_reason,
    disabled_at: row.disabled_at === null ? null : isoTime(row.disabled_at),
    disabled_by: row.disabled_by,
    health,
    held_count: heldCount,
    ordering: row.ordering,
    signing,
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
  };
}

function checkExpands(topicName: string, expands: string[] | undefined): string[] {
  const topic = findTopic(topicName)!;
  const list = [...new Set(expands ?? [])];
  const bad = list.filter((e) => !(topic.expands as readonly string[]).includes(e));
  if (bad.length) throw invalid('expands', `${bad.map((b) => JSON.stringify(b)).join(', ')} not allowed for ${topicName}; allowed: ${topic.expands.join(', ')}`);
  return list;
}

/** Checks a target URL: shape, scheme, and the network guard on every address it resolves to. */
export async function checkTargetUrl(raw: string, policy: SubscriptionPolicy): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('url', 'must be an absolute URL such as https://erp.example.com/hooks/storehook');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('url', `scheme ${url.protocol} is not allowed; use https (or http)`);
  if (policy.httpsOnly && url.protocol !== 'https:') throw invalid('url', 'must use https: this server refuses http targets (STOREHOOK_HTTPS_ONLY)');
  if (url.username || url.password) throw invalid('url', 'must not contain a user name or password; authenticate by verifying the signature instead');
  if (raw.length > 2048) throw invalid('url', 'is longer than 2048 characters');
  if (url.hash) throw invalid('url', 'must not contain a #fragment');
  try {
    await policy.guard.checkUrl(url.toString());
  } catch (err) {
    if (err instanceof GuardError) {
      throw invalid('url', `targets ${err.address}, which is ${err.reason}; deliveries to private, loopback and other internal addresses are refused (an operator can allow CIDRs with STOREHOOK_ALLOW_TARGETS)`);
    }
    if (err instanceof ResolveError) throw invalid('url', `host ${url.hostname} does not resolve; check the name`);
    throw err;
  }
  // Normalising percent-encodes (an "ä" becomes 6 characters): the stored form must fit too.
  if (url.toString().length > 2048) throw invalid('url', 'is longer than 2048 characters once percent-encoded');
  return url.toString();
}

export async function findSubscription(db: Db, storeId: number, uuid: string): Promise<SubscriptionRow> {
  const row = /^[0-9a-f-]{36}$/i.test(uuid)
    ? await db.selectFrom('webhook_subscriptions').selectAll().where('store_id', '=', storeId).where('uuid', '=', uuid.toLowerCase()).executeTakeFirst()
    : undefined;
  if (!row) throw notFound('Webhook subscription', uuid);
  return row;
}

async function assertNoDuplicate(db: Db, storeId: number, topic: string, url: string, except?: string): Promise<void> {
  let q = db.selectFrom('webhook_subscriptions').select('uuid').where('store_id', '=', storeId).where('topic', '=', topic).where('url', '=', url);
  if (except) q = q.where('uuid', '!=', except);
  const dup = await q.executeTakeFirst();
  if (dup) throw new DomainError(409, `A subscription to ${topic} for this url already exists: ${dup.uuid}. Change that one (PATCH /api/v1/webhooks/${dup.uuid}) instead of adding another.`, [{ field: 'url', message: `duplicate of ${dup.uuid}` }]);
}

/**
 * PostgreSQL: serialises subscription writes of one store (a row lock on the store, `FOR NO KEY
 * UPDATE` so order inserts, which take `FOR KEY SHARE` through their foreign key, never wait on
 * it). Without it two concurrent requests under READ COMMITTED both pass the duplicate check and
 * the per-store limit. SQLite runs one write transaction at a time already.
 */
async function lockStoreSubscriptions(tx: Tx, storeId: number): Promise<void> {
  await lockRows(tx.db.selectFrom('stores').select('id').where('id', '=', storeId), tx.dialect, { noKey: true });
}

export async function createSubscription(
  database: Database,
  policy: SubscriptionPolicy,
  owner: SubscriptionOwner,
  input: NewSubscription,
): Promise<SavedSubscription> {
  if (!findTopic(input.topic)) throw invalid('topic', `unknown topic "${input.topic}"; allowed: ${TOPICS.map((t) => t.name).join(', ')}`);
  const expands = checkExpands(input.topic, input.expands);
  const url = await checkTargetUrl(input.url, policy);
  return inTransaction(database, async (tx) => {
    await lockStoreSubscriptions(tx, owner.storeId);
    await assertNoDuplicate(tx.db, owner.storeId, input.topic, url);
    const count = await tx.db.selectFrom('webhook_subscriptions').select((eb) => eb.fn.countAll<number>().as('n')).where('store_id', '=', owner.storeId).executeTakeFirstOrThrow();
    if (Number(count.n) >= policy.maxSubscriptions) {
      throw conflict(`This store already has ${policy.maxSubscriptions} subscriptions, the most allowed. Delete one you no longer need (DELETE /api/v1/webhooks/{uuid}).`);
    }
    const now = nowMs();
    const row: SubscriptionRow = {
      uuid: randomUUID(),
      store_id: owner.storeId,
      user_id: owner.userId,
      topic: input.topic,
      expands: JSON.stringify(expands),
      url,
      status: 'active',
      disabled_reason: null,
      created_at: now,
      updated_at: now,
      ...HEALTHY,
      ordering: input.ordering ?? 'none',
    };
    await tx.db.insertInto('webhook_subscriptions').values(row).execute();
    const issued = input.signing ? await applySigningChoice(tx, row, input.signing, overlapOf(policy), now) : {};
    return { row, issued };
  });
}

export async function updateSubscription(
  database: Database,
  policy: SubscriptionPolicy,
  storeId: number,
  uuid: string,
  change: SubscriptionPatch,
  actor: string,
): Promise<SavedSubscription> {
  const current = await findSubscription(database.kysely, storeId, uuid);
  const expands = change.expands === undefined ? undefined : checkExpands(current.topic, change.expands);
  const url = change.url === undefined ? undefined : await checkTargetUrl(change.url, policy);
  return inTransaction(database, async (tx) => {
    const now = nowMs();
    if (url !== undefined) await lockStoreSubscriptions(tx, storeId);
    if (url !== undefined) await assertNoDuplicate(tx.db, storeId, current.topic, url, current.uuid);
    await tx.db
      .updateTable('webhook_subscriptions')
      .set({ ...(url !== undefined ? { url } : {}), ...(expands !== undefined ? { expands: JSON.stringify(expands) } : {}), ...(change.ordering !== undefined ? { ordering: change.ordering } : {}), updated_at: now })
      .where('uuid', '=', current.uuid)
      .where('store_id', '=', storeId)
      .execute();
    // Turning ordering off sends what waited in its chains; turning it on orders new messages only.
    if (change.ordering === 'none' && current.ordering !== 'none') await releaseOrdering(tx.db, current.uuid, now);
    if (change.status === 'disabled' && current.status !== 'disabled') {
      await holdSubscription(tx.db, current.uuid, `Disabled by ${actor} at ${new Date(now).toISOString()}.`, now);
    } else if (change.status === 'active' && current.status !== 'active') {
      await releaseSubscription(tx.db, current.uuid, now);
    }
    const issued = change.signing ? await applySigningChoice(tx, current, change.signing, overlapOf(policy), now) : {};
    return { row: await findSubscription(tx.db, storeId, current.uuid), issued };
  });
}

export async function deleteSubscription(database: Database, storeId: number, uuid: string): Promise<void> {
  const current = await findSubscription(database.kysely, storeId, uuid);
  // Messages (and their attempts) go with it: pending and held ones are dropped, as SPEC §3 says.
  await inTransaction(database, async (tx) => {
    await deleteMessagesOf(tx.db, storeId, current.uuid);
    await tx.db.deleteFrom('subscription_signing_keys').where('subscription_uuid', '=', current.uuid).where('store_id', '=', storeId).execute();
    tx.afterCommit(() => forgetSigningKeys(current.uuid));
    await tx.db.deleteFrom('webhook_subscriptions').where('uuid', '=', current.uuid).where('store_id', '=', storeId).execute();
  });
}

export async function listSubscriptions(db: Db, storeId: number, page: number, pageSize: number): Promise<{ rows: SubscriptionRow[]; total: number }> {
  // The legacy bridge's internal subscription (its automatic POST) is not one the API user made.
  const total = await db.selectFrom('webhook_subscriptions').select((eb) => eb.fn.countAll<number>().as('n')).where('store_id', '=', storeId).where('topic', '!=', LEGACY_ORDER_XML_TOPIC).executeTakeFirstOrThrow();
  const rows = await db
    .selectFrom('webhook_subscriptions')
    .selectAll()
    .where('store_id', '=', storeId)
    .where('topic', '!=', LEGACY_ORDER_XML_TOPIC)
    .orderBy('created_at')
    .orderBy('uuid')
    .limit(pageSize)
    .offset((page - 1) * pageSize)
    .execute();
  return { rows, total: Number(total.n) };
}
