// Migration 0009 on a database that already holds messages: each row gets the content type and
// attempt limit its topic had (the test message one-shot, the legacy automatic POST XML, every
// other message JSON with the full schedule), so the engine no longer needs the topic to decide.
import assert from 'node:assert/strict';
import { afterEach, it } from 'node:test';
import type { Kysely } from 'kysely';
import { migrateToLatest } from '../../src/db/migrate.js';
import { forEachDialect, freshDatabaseMigratedTo, type FreshDatabase } from '../helpers/database.js';

const UUID = '6f1c1d8e-2a9b-4c1e-9f1a-0c1d2e3f4a5b';

forEachDialect('migration 0009-message-delivery-fields', (dialect) => {
  let fresh: FreshDatabase | undefined;
  afterEach(async () => {
    await fresh?.cleanup();
    fresh = undefined;
  });

  it('fills content_type and max_attempts of existing messages from their topic, once', async () => {
    fresh = await freshDatabaseMigratedTo(dialect, '0007-faults');
    const db = fresh.database.kysely;

    // Rows as the schema of 0007 had them (untyped: the typed Schema is the later one).
    const raw = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    const store = await raw.insertInto('stores').values({ name: 'old', plan: 'pro', timezone: 'UTC', created_at: 1 }).returning('id').executeTakeFirstOrThrow();
    const storeId = Number(store['id']);
    await raw.insertInto('webhook_subscriptions').values({ uuid: UUID, store_id: storeId, user_id: 0, topic: 'order.created', expands: '[]', url: 'https://example.com/', status: 'active', disabled_reason: null, created_at: 1, updated_at: 1 }).execute();
    for (const [i, topic] of ['order.created', 'webhook.test', 'legacy.order_xml'].entries()) {
      await raw.insertInto('webhook_messages').values({ message_id: `msg_${i}`, store_id: storeId, subscription_uuid: UUID, topic, order_id: null, body: '{}', status: 'failed', attempt_count: 1, created_at: 1 }).execute();
    }

    const applied = await migrateToLatest(fresh.database);
    assert.ok(applied.includes('0009-message-delivery-fields'));
    const rows = await fresh.database.kysely.selectFrom('webhook_messages').select(['topic', 'content_type', 'max_attempts']).orderBy('id').execute();
    assert.deepEqual(
      rows.map((r) => [r.topic, r.content_type, Number(r.max_attempts)]),
      [
        ['order.created', 'application/json', 16],
        ['webhook.test', 'application/json', 1],
        ['legacy.order_xml', 'application/xml; charset=utf-8', 16],
      ],
    );
  });
});
