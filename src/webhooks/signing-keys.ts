/**
 * A subscription's own signing keys (issue #17 §2, §3): rotating `whsec_` HMAC secrets (`v1`) and
 * ed25519 key pairs (`v1a`, the integrator gets the `whpk_` public key). All opt-in: a
 * subscription without keys of its own signs `v1` with its uuid exactly as MyCashflow does.
 *
 * The model is a history of keys, each signing from `created_at` until `expires_at` (null: until
 * rotated). The rules, in one place (`keysAt`):
 *   - `v1`: a subscription that never had an `hmac` row signs with its uuid. Otherwise with its
 *     `hmac` rows that have not expired; none left means HMAC signing is off.
 *   - `v1a`: its `ed25519` rows that have not expired.
 * When a uuid-signed subscription gets its own secret, the uuid is written as an `hmac` row that
 * expires after the overlap, so receivers switch without a gap; turning HMAC off writes the uuid
 * row expired at once. So the rows alone say what signed any message at any time, and the
 * dashboard can rebuild the exact headers of an old attempt.
 *
 * Secrets are stored as the signer needs them (it must sign), shown once in the answer that made
 * them, and never logged. The attempt path reads the keys through a small cache (`signingKeyLookup`)
 * by subscription uuid: a short TTL bounds how long another process signs with keys a rotation
 * replaced, and this process forgets a subscription's entry when its keys change.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { lockRows } from '../db/dialect.js';
import type { Schema, SigningKeyKind, SigningKeyRow, SubscriptionRow } from '../db/schema.js';
import type { Tx } from '../db/transaction.js';
import { signingKeyFromUuid, type SigningKeyLookup, type SigningKeys } from '../delivery/signer.js';
import { PUBLIC_KEY_PREFIX } from '../sdk/verify.js';
import { conflict, invalid } from '../errors.js';
import { isoTime } from '../time.js';

type Db = Kysely<Schema>;

export const SECRET_PREFIX = 'whsec_';
/** Random bytes of a new secret: Standard Webhooks allows 24 to 64. */
const SECRET_BYTES = 32;
/** Keys of one kind that may sign at once; a rotation beyond it ends the oldest at once (as Svix). */
export const MAX_SIGNING_KEYS = 10;
/** Expired keys of one kind kept for rebuilding old attempts' headers; older ones are deleted. */
const EXPIRED_KEYS_KEPT = 10;
/** How long a process signs with keys it read: a rotation elsewhere reaches it within this. */
export const KEY_CACHE_TTL_MS = 10_000;
const KEY_CACHE_MAX_ENTRIES = 10_000;

/** How a subscription signs `v1`: with its uuid (default), its own secrets, or not at all. */
export type HmacSigning = 'uuid' | 'secret' | 'off';

/** What a request chose: at creation, or as a change (absent: unchanged). */
export interface SigningChoice {
  hmac?: HmacSigning | undefined;
  ed25519?: boolean | undefined;
}

/** The secret and public key made by a change, shown once in its answer. */
export interface IssuedKeys {
  secret?: string;
  publicKey?: string;
}

/** A key as the API shows it: never its secret. `uuid` is the uuid signing beside a new secret. */
export interface SigningKeyView {
  kind: 'uuid' | 'hmac' | 'ed25519';
  created_at: string;
  expires_at: string | null;
  public_key: string | null;
}

export interface SigningView {
  hmac: HmacSigning;
  ed25519: boolean;
  keys: SigningKeyView[];
}

// ---- keys and their forms ----

function newHmacSecret(): Buffer {
  return randomBytes(SECRET_BYTES);
}

/** `whsec_` + base64 of the key bytes, as every Standard Webhooks library takes it. */
export function whsec(key: Uint8Array): string {
  return `${SECRET_PREFIX}${Buffer.from(key).toString('base64')}`;
}

/** `whpk_` + base64 of the raw 32-byte public key, as `storehook/verify` takes it. */
export function whpk(rawPublicKey: string): string {
  return `${PUBLIC_KEY_PREFIX}${rawPublicKey}`;
}

/** A new ed25519 pair: the private seed and the raw public key, both base64. */
export function newEd25519Pair(): { seed: string; publicKey: string } {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return { seed: Buffer.from(jwk.d!, 'base64url').toString('base64'), publicKey: Buffer.from(jwk.x!, 'base64url').toString('base64') };
}

/** The private key of a stored ed25519 row. */
export function ed25519PrivateKey(seed: string, publicKey: string): KeyObject {
  const b64url = (b64: string) => Buffer.from(b64, 'base64').toString('base64url');
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(publicKey) }, format: 'jwk' });
}

function isUuidRow(uuid: string, row: SigningKeyRow): boolean {
  return row.kind === 'hmac' && row.secret === signingKeyFromUuid(uuid).toString('base64');
}

const live = (at: number) => (row: SigningKeyRow) => row.expires_at === null || row.expires_at > at;
const newestFirst = (a: SigningKeyRow, b: SigningKeyRow) => b.created_at - a.created_at || Number(b.id) - Number(a.id);

// ---- which keys sign ----

/**
 * The keys that sign a message of subscription `uuid` at `at`, from all its key rows. `since`
 * also requires a key to exist at `at` (rebuilding an old attempt); sending leaves it out, so a
 * key just made in another process whose clock runs a little behind still signs.
 */
export function keysAt(uuid: string, rows: readonly SigningKeyRow[], at: number, options: { since?: boolean } = {}): SigningKeys {
  const valid = (row: SigningKeyRow) => live(at)(row) && (!options.since || row.created_at <= at);
  const hmacRows = rows.filter((r) => r.kind === 'hmac');
  const hmac = hmacRows.length === 0 ? [signingKeyFromUuid(uuid)] : hmacRows.filter(valid).sort(newestFirst).map((r) => Buffer.from(r.secret, 'base64'));
  const ed25519 = rows.filter((r) => r.kind === 'ed25519' && valid(r)).sort(newestFirst).map((r) => ed25519PrivateKey(r.secret, r.public_key!));
  return { hmac, ed25519 };
}

/** How the subscription signs now, for the API and the dashboard. */
export function signingView(uuid: string, rows: readonly SigningKeyRow[], now: number): SigningView {
  const active = rows.filter(live(now)).sort(newestFirst);
  const hasHmacRows = rows.some((r) => r.kind === 'hmac');
  return {
    hmac: !hasHmacRows ? 'uuid' : active.some((r) => r.kind === 'hmac') ? 'secret' : 'off',
    ed25519: active.some((r) => r.kind === 'ed25519'),
    keys: active.map((r) => ({
      kind: isUuidRow(uuid, r) ? 'uuid' : r.kind,
      created_at: isoTime(r.created_at),
      expires_at: isoTime(r.expires_at),
      public_key: r.public_key === null ? null : whpk(r.public_key),
    })),
  };
}

/** Every key row of the subscriptions, by uuid (absent: none, so they sign with their uuid). */
export async function keyRows(db: Db, storeId: number, uuids: readonly string[]): Promise<Map<string, SigningKeyRow[]>> {
  const out = new Map<string, SigningKeyRow[]>();
  if (uuids.length === 0) return out;
  const rows = await db.selectFrom('subscription_signing_keys').selectAll().where('store_id', '=', storeId).where('subscription_uuid', 'in', [...uuids]).execute();
  for (const row of rows) out.set(row.subscription_uuid, [...(out.get(row.subscription_uuid) ?? []), row]);
  return out;
}

/** The signing views of the subscriptions, by uuid. */
export async function signingViews(db: Db, storeId: number, uuids: readonly string[], now: number): Promise<Map<string, SigningView>> {
  const rows = await keyRows(db, storeId, uuids);
  return new Map(uuids.map((uuid) => [uuid, signingView(uuid, rows.get(uuid) ?? [], now)]));
}

// ---- the attempt path's cache ----

interface CacheEntry {
  fetchedAt: number;
  rows: SigningKeyRow[];
}

// Keyed by subscription uuid: uuids are random v4, unique across every database this process opens.
const cache = new Map<string, CacheEntry>();
// Bumped whenever keys change: a read that started before a change must not fill the cache after it.
let generation = 0;

/** Forgets what the cache holds for the subscription; its next message reads its keys again. */
export function forgetSigningKeys(uuid: string): void {
  cache.delete(uuid);
  generation += 1;
}

/** The keys that sign a subscription's messages, read through the cache: the dispatcher's lookup. */
export function signingKeyLookup(db: Db, ttlMs = KEY_CACHE_TTL_MS): SigningKeyLookup {
  return async (storeId, uuid, at) => {
    const hit = cache.get(uuid);
    if (hit && Date.now() - hit.fetchedAt < ttlMs) return keysAt(uuid, hit.rows, at);
    const startedAt = generation;
    const fetchedAt = Date.now();
    const rows = await db.selectFrom('subscription_signing_keys').selectAll().where('store_id', '=', storeId).where('subscription_uuid', '=', uuid).execute();
    if (generation === startedAt) {
      if (cache.size >= KEY_CACHE_MAX_ENTRIES) cache.clear();
      cache.set(uuid, { fetchedAt, rows });
    }
    return keysAt(uuid, rows, at);
  };
}

// ---- changes ----

interface KeyChange {
  tx: Tx;
  sub: SubscriptionRow;
  now: number;
}

async function insertKey(c: KeyChange, kind: SigningKeyKind, secret: string, publicKey: string | null, createdAt = c.now, expiresAt: number | null = null): Promise<void> {
  await c.tx.db
    .insertInto('subscription_signing_keys')
    .values({ store_id: c.sub.store_id, subscription_uuid: c.sub.uuid, kind, secret, public_key: publicKey, created_at: createdAt, expires_at: expiresAt })
    .execute();
  c.tx.afterCommit(() => forgetSigningKeys(c.sub.uuid));
}

/** Ends the subscription's live keys of `kind` at `at` (or sooner, if they end sooner already). */
async function expireKeys(c: KeyChange, kind: SigningKeyKind, at: number): Promise<void> {
  await c.tx.db
    .updateTable('subscription_signing_keys')
    .set({ expires_at: at })
    .where('store_id', '=', c.sub.store_id)
    .where('subscription_uuid', '=', c.sub.uuid)
    .where('kind', '=', kind)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
    .execute();
  c.tx.afterCommit(() => forgetSigningKeys(c.sub.uuid));
}

/** The uuid as an HMAC key row: it signed from the subscription's creation until `until`. */
const uuidRow = (c: KeyChange, until: number) => insertKey(c, 'hmac', signingKeyFromUuid(c.sub.uuid).toString('base64'), null, c.sub.created_at, until);

async function issueSecret(c: KeyChange): Promise<string> {
  const key = newHmacSecret();
  await insertKey(c, 'hmac', key.toString('base64'), null);
  return whsec(key);
}

async function issueEd25519(c: KeyChange): Promise<string> {
  const pair = newEd25519Pair();
  await insertKey(c, 'ed25519', pair.seed, pair.publicKey);
  return whpk(pair.publicKey);
}

/** Keeps at most MAX_SIGNING_KEYS live and EXPIRED_KEYS_KEPT expired keys of a kind, ending or deleting the oldest. */
async function capKeys(c: KeyChange, kind: SigningKeyKind): Promise<void> {
  const rows = (await c.tx.db.selectFrom('subscription_signing_keys').selectAll().where('store_id', '=', c.sub.store_id).where('subscription_uuid', '=', c.sub.uuid).where('kind', '=', kind).execute()).sort(newestFirst);
  const tooMany = rows.filter(live(c.now)).slice(MAX_SIGNING_KEYS).map((r) => r.id);
  if (tooMany.length) await c.tx.db.updateTable('subscription_signing_keys').set({ expires_at: c.now }).where('id', 'in', tooMany).execute();
  // Keep the newest expired rows: an expired hmac row is what records that HMAC signing is off.
  const stale = rows.filter((r) => !live(c.now)(r) || tooMany.includes(r.id)).slice(EXPIRED_KEYS_KEPT).map((r) => r.id);
  if (stale.length) await c.tx.db.deleteFrom('subscription_signing_keys').where('id', 'in', stale).execute();
}

async function rowsOf(tx: Tx, sub: SubscriptionRow): Promise<SigningKeyRow[]> {
  // PostgreSQL: one change to a subscription's keys at a time, or two rotations could both stay current.
  await lockRows(tx.db.selectFrom('webhook_subscriptions').select('uuid').where('uuid', '=', sub.uuid), tx.dialect);
  return tx.db.selectFrom('subscription_signing_keys').selectAll().where('store_id', '=', sub.store_id).where('subscription_uuid', '=', sub.uuid).execute();
}

function checkSomethingSigns(hmac: HmacSigning, ed25519: boolean): void {
  if (hmac === 'off' && !ed25519) {
    throw invalid('signing', 'every message must carry a signature: keep hmac ("uuid" or "secret") or turn ed25519 on');
  }
}

/**
 * Applies a signing choice to a subscription inside its transaction (creation or a change) and
 * answers what it issued. Changing `hmac` from the uuid to a secret keeps the uuid signing for
 * `overlapMs`; going back to the uuid is refused (rotate the secret instead).
 */
export async function applySigningChoice(tx: Tx, sub: SubscriptionRow, choice: SigningChoice, overlapMs: number, now: number): Promise<IssuedKeys> {
  const c: KeyChange = { tx, sub, now };
  const current = signingView(sub.uuid, await rowsOf(tx, sub), now);
  const hmac = choice.hmac ?? current.hmac;
  const ed25519 = choice.ed25519 ?? current.ed25519;
  checkSomethingSigns(hmac, ed25519);
  const issued: IssuedKeys = {};
  if (hmac !== current.hmac) {
    if (hmac === 'uuid') throw invalid('signing.hmac', `this subscription signs with ${current.hmac === 'off' ? 'no HMAC key' : 'its own secret'} and cannot go back to its uuid; rotate the secret instead (POST /api/v1/webhooks/${sub.uuid}/secret/rotate)`);
    // A new subscription has sent nothing yet: its uuid needs no overlap.
    const uuidUntil = sub.created_at === now ? now : now + overlapMs;
    if (current.hmac === 'uuid') await uuidRow(c, hmac === 'off' ? now : uuidUntil);
    if (current.hmac === 'secret') await expireKeys(c, 'hmac', now);
    if (hmac === 'secret') issued.secret = await issueSecret(c);
  }
  if (ed25519 && !current.ed25519) issued.publicKey = await issueEd25519(c);
  if (!ed25519 && current.ed25519) await expireKeys(c, 'ed25519', now);
  return issued;
}

export interface Rotation {
  kind?: SigningKeyKind | undefined;
  /** how long the old key keeps signing beside the new one. */
  overlapMs: number;
}

export interface Rotated {
  kind: SigningKeyKind;
  issued: IssuedKeys;
  /** when the keys it replaced stop signing. */
  oldKeysExpireAt: number;
}

/**
 * Makes a new key of `kind` (default: the HMAC secret, or the ed25519 key when HMAC is off); the
 * keys it replaces keep signing for the overlap. Rotating a uuid-signed subscription gives it its
 * first own secret, the uuid signing beside it for the overlap.
 */
export async function rotateSigningKey(tx: Tx, sub: SubscriptionRow, rotation: Rotation, now: number): Promise<Rotated> {
  const c: KeyChange = { tx, sub, now };
  const current = signingView(sub.uuid, await rowsOf(tx, sub), now);
  const kind = rotation.kind ?? (current.hmac === 'off' ? 'ed25519' : 'hmac');
  const oldKeysExpireAt = now + rotation.overlapMs;
  if (kind === 'hmac' && current.hmac === 'off') {
    throw conflict(`This subscription does not sign with HMAC (v1), so there is no secret to rotate. Turn it on with PATCH /api/v1/webhooks/${sub.uuid} {"signing": {"hmac": "secret"}}, or rotate its ed25519 key ({"kind": "ed25519"}).`);
  }
  if (kind === 'ed25519' && !current.ed25519) {
    throw conflict(`This subscription does not sign with ed25519 (v1a). Turn it on with PATCH /api/v1/webhooks/${sub.uuid} {"signing": {"ed25519": true}}.`);
  }
  const issued: IssuedKeys = {};
  if (kind === 'hmac') {
    if (current.hmac === 'uuid') await uuidRow(c, oldKeysExpireAt);
    else await expireKeys(c, 'hmac', oldKeysExpireAt);
    issued.secret = await issueSecret(c);
  } else {
    await expireKeys(c, 'ed25519', oldKeysExpireAt);
    issued.publicKey = await issueEd25519(c);
  }
  await capKeys(c, kind);
  return { kind, issued, oldKeysExpireAt };
}
