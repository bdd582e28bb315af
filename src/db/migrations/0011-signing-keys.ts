import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/**
 * A subscription's own signing keys (src/webhooks/signing-keys.ts): `hmac` secrets (Standard
 * Webhooks `v1`) and `ed25519` key pairs (`v1a`). Each row is one key with its validity: it signs
 * until `expires_at` (null: no end), so a rotation keeps the old key signing beside the new one
 * for an overlap. A subscription without `hmac` rows signs `v1` with its uuid, as before this
 * migration: existing subscriptions need no row and sign exactly as they did.
 *
 * `secret` holds what the signer needs, base64: the HMAC key bytes, or the ed25519 private seed.
 * `public_key` is the raw 32-byte ed25519 public key, base64 (null for hmac).
 */
export function signingKeysSchema(dialect: Dialect) {
  return {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable('subscription_signing_keys')
        .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('store_id', 'bigint', (c) => c.notNull())
        .addColumn('subscription_uuid', 'text', (c) => c.notNull().references('webhook_subscriptions.uuid').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('subscription_signing_keys_subscription')
        .on('subscription_signing_keys')
        .columns(['subscription_uuid', 'kind', 'created_at'])
        .execute();
    },
  };
}
