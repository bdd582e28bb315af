// Migration 0012 on a database that already holds disabled subscriptions: each gets what disabled
// it (a 410 by its reason text, otherwise an operator), when (its last change), and counts as
// already announced, so the first health sweep after the upgrade sends no news about old ones.
import assert from 'node:assert/strict';
import { afterEach, it } from 'node:test';
import type { Kysely } from 'kysely';
import { migrateToLatest } from '../../src/db/migrate.js';
import { HealthSweep } from '../../src/webhooks/health.js';
import { forEachDialect, freshDatabaseMigratedTo, type FreshDatabase } from '../helpers/database.js';

const GONE = '6f1c1d8e-2a9b-4c1e-9f1a-0c1d2e3f4a51';
const BY_HAND = '6f1c1d8e-2a9b-4c1e-9f1a-0c1d2e3f4a52';
const ACTIVE = '6f1c1d8e-2a9b-4c1e-9f1a-0c1d2e3f4a53';
const WATCHER = '6f1c1d8e-2a9b-4c1e-9f1a-0c1d2e3f4a54';

forEachDialect('migration 0012-subscription-health', (dialect) => {
  let fresh: FreshDatabase | undefined;
  afterEach(async () => {
    await fresh?.cleanup();
    fresh = undefined;
  });

  it('records what disabled each old subscription and when, and announces none of them afterwards', async () => {
    fresh = await freshDatabaseMigratedTo(dialect, '0011-signing-keys');
    const db = fresh.database.kysely;

    // Rows as the schema of 0011 had them (untyped: the typed Schema is the later one).
    const raw = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    const store = await raw.insertInto('stores').values({ name: 'old', plan: 'pro', timezone: 'UTC', created_at: 1 }).returning('id').executeTakeFirstOrThrow();
    const subscription = (uuid: string, status: string, reason: string | null, updatedAt: number) =>
      raw.insertInto('webhook_subscriptions').values({ uuid, store_id: Number(store['id']), user_id: 0, topic: 'order.created', expands: '[]', url: `https://example.com/${uuid}`, status, disabled_reason: reason, created_at: 1, updated_at: updatedAt }).execute();
    await subscription(GONE, 'disabled', 'The receiver answered 410 Gone at 2026-01-02T00:00:00.000Z; enable the subscription again to resume.', 1_767_312_000_000);
    await subscription(BY_HAND, 'disabled', 'paused for maintenance', 1_767_398_400_000);
    await subscription(ACTIVE, 'active', null, 1_767_484_800_000);

    const applied = await migrateToLatest(fresh.database);
    assert.ok(applied.includes('0012-subscription-health'));
    const rows = await fresh.database.kysely.selectFrom('webhook_subscriptions').select(['uuid', 'disabled_by', 'disabled_at', 'alert_level']).orderBy('uuid').execute();
    assert.deepEqual(
      rows.map((r) => [r.uuid, r.disabled_by, r.disabled_at === null ? null : Number(r.disabled_at), Number(r.alert_level)]),
      [
        [GONE, 'gone', 1_767_312_000_000, 3],
        [BY_HAND, 'operator', 1_767_398_400_000, 3],
        [ACTIVE, null, null, 0],
      ],
    );

    // A store watching subscription.disabled hears nothing about disablements older than the upgrade.
    await raw.insertInto('webhook_subscriptions').values({ uuid: WATCHER, store_id: Number(store['id']), user_id: 0, topic: 'subscription.disabled', expands: '[]', url: 'https://example.com/watch', status: 'active', disabled_reason: null, created_at: 2, updated_at: 2 }).execute();
    const quiet = { warn: () => undefined, info: () => undefined };
    const sweep = new HealthSweep({ database: fresh.database, disableAfterMs: 432_000_000, intervalMs: 60_000, log: quiet, wake: () => undefined });
    assert.deepEqual(await sweep.sweep(), []);
  });
});
