// Migrations: a fresh database gets every table of the typed Schema, re-running is a no-op, and
// on PostgreSQL concurrent starters migrate exactly once (Kysely's Migrator advisory lock).
import { afterEach, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrationsFor } from '../../src/db/migrations/index.js';
import type { Schema } from '../../src/db/schema.js';
import { forEachDialect, freshDatabase, type FreshDatabase } from '../helpers/database.js';

// `satisfies` makes the compiler reject this list if a table is added to (or removed from) Schema
// without updating it, so "every table of Schema" stays true.
const SCHEMA_TABLES = {
  stores: true,
  api_users: true,
  orders: true,
  order_products: true,
  shipments: true,
  payments: true,
  comments: true,
  order_events: true,
  shipping_methods: true,
  payment_methods: true,
  webhook_subscriptions: true,
  webhook_messages: true,
  webhook_attempts: true,
  subscription_signing_keys: true,
  delivery_lanes: true,
  store_events: true,
  dashboard_sessions: true,
  legacy_settings: true,
  legacy_order_changes: true,
  login_failures: true,
  storage_probe: true,
  products: true,
  product_categories: true,
  variations: true,
  stock_items: true,
  stock_changes: true,
  brands: true,
  suppliers: true,
  categories: true,
  customer_groups: true,
  campaigns: true,
  versions: true,
  customers: true,
  customer_group_links: true,
  resource_sequences: true,
} as const satisfies Record<keyof Schema, true>;
const TABLES = Object.keys(SCHEMA_TABLES).sort() as (keyof Schema)[];

/** Tables Kysely's Migrator keeps for itself. */
const KYSELY_TABLES = ['kysely_migration', 'kysely_migration_lock'];

async function userTables(database: Database): Promise<string[]> {
  if (database.dialect === 'postgres') {
    const { rows } = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(database.kysely);
    return rows.map((r) => r.name).sort();
  }
  const { rows } = await sql<{ name: string }>`
    select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(database.kysely);
  return rows.map((r) => r.name).sort();
}

async function assertAllTablesQueryable(database: Database): Promise<void> {
  for (const table of TABLES) {
    // A typed query on each table: fails if the table is missing.
    const rows = await database.kysely.selectFrom(table).selectAll().limit(1).execute();
    assert.deepEqual(rows, [], `${table} should exist and be empty`);
    const count = await database.kysely
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 0, `${table} count`);
  }
}

forEachDialect('migrations', (dialect) => {
  const allMigrations = Object.keys(migrationsFor(dialect)).sort();
  let fresh: FreshDatabase | undefined;
  const extraHandles: Database[] = [];

  afterEach(async () => {
    for (const handle of extraHandles.splice(0)) await handle.close();
    await fresh?.cleanup();
    fresh = undefined;
  });

  it('creates every table of Schema on a fresh database', async () => {
    fresh = await freshDatabase(dialect, { cloneMigrated: false });
    assert.deepEqual(fresh.applied, allMigrations);
    await assertAllTablesQueryable(fresh.database);
    // Nothing more, nothing less: the typed Schema and the migrations agree on the table set.
    assert.deepEqual(await userTables(fresh.database), [...TABLES, ...KYSELY_TABLES].sort());
  });

  it('is a no-op the second time', async () => {
    fresh = await freshDatabase(dialect, { migrate: false });
    assert.deepEqual(await userTables(fresh.database), []);
    const first = await migrateToLatest(fresh.database);
    assert.ok(first.length > 0, 'the first run applies migrations');
    assert.deepEqual(first, allMigrations);
    const second = await migrateToLatest(fresh.database);
    assert.deepEqual(second, []);
    await assertAllTablesQueryable(fresh.database);
  });

  if (dialect === 'postgres') {
    it('migrates exactly once when 3 handles migrate concurrently', async () => {
      fresh = await freshDatabase(dialect, { migrate: false });
      const url = fresh.databaseUrl;
      assert.ok(url, 'freshDatabase returns the URL of the PostgreSQL database');
      for (let i = 0; i < 2; i++) {
        extraHandles.push(await openDatabase({ databaseUrl: url, dataDir: fresh.dataDir }));
      }
      const handles = [fresh.database, ...extraHandles];
      assert.equal(new Set(handles).size, 3);

      const results = await Promise.all(handles.map((handle) => migrateToLatest(handle)));

      const appliers = results.filter((applied) => applied.length > 0);
      assert.equal(appliers.length, 1, `exactly one handle applies: ${JSON.stringify(results)}`);
      assert.deepEqual(appliers[0], allMigrations);
      assert.equal(results.filter((applied) => applied.length === 0).length, 2);

      const recorded = await fresh.database.kysely
        .withTables<{ kysely_migration: { name: string } }>()
        .selectFrom('kysely_migration')
        .select('name')
        .orderBy('name')
        .execute();
      assert.deepEqual(
        recorded.map((r) => r.name),
        allMigrations,
        'each migration is recorded once',
      );
      for (const handle of handles) await assertAllTablesQueryable(handle);
    });
  }
});
