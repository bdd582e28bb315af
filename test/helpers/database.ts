/**
 * Test databases. Every suite that touches the database runs on SQLite always, and also on
 * PostgreSQL when `TEST_DATABASE_URL` points at a server whose user may `CREATE DATABASE`.
 * Each call to `freshDatabase` gets its own empty database (a temp folder for SQLite, a new
 * `storehook_t_<hex>` database for PostgreSQL), so tests never see each other's rows.
 * A migrated PostgreSQL database is cloned from a template built once by the real migrations
 * (`CREATE DATABASE … TEMPLATE` takes a fraction of the time of running every migration).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Migrator, sql } from 'kysely';
import pg from 'pg';
import { openDatabase, type Database, type Dialect } from '../../src/db/connection.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrationsFor } from '../../src/db/migrations/index.js';

export type { Dialect };

export interface FreshDatabase {
  database: Database;
  /** PostgreSQL only: the URL of the new database, to open more handles on it. */
  databaseUrl?: string;
  /** an empty temp folder (SQLite keeps its file here; usable as `dataDir` either way). */
  dataDir: string;
  /** the migrations `freshDatabase` applied ([] when called with `migrate: false`). */
  applied: string[];
  /** closes the database, drops it (PostgreSQL) and removes `dataDir`. Safe to call twice. */
  cleanup(): Promise<void>;
}

export interface FreshDatabaseOptions {
  /** run `migrateToLatest` before returning (default true). */
  migrate?: boolean;
  /** PostgreSQL pool size for the returned handle. */
  poolSize?: number;
  /**
   * PostgreSQL: clone the migrated template instead of migrating (default true). False runs
   * `migrateToLatest` on the new database itself, for tests of the migrations.
   */
  cloneMigrated?: boolean;
}

/** The dialects to run database suites on: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function dialects(): Dialect[] {
  return process.env['TEST_DATABASE_URL'] ? ['sqlite', 'postgres'] : ['sqlite'];
}

function adminUrl(): string {
  const url = process.env['TEST_DATABASE_URL'];
  if (!url) throw new Error('TEST_DATABASE_URL is not set: cannot create a PostgreSQL test database');
  return url;
}

/** The same URL with its database name replaced (user, host, port and query kept). */
export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

/** Runs one statement on the server named by TEST_DATABASE_URL, on a short-lived connection. */
async function adminQuery(statement: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(statement)).rows;
  } finally {
    await client.end();
  }
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../../src/db/migrations/', import.meta.url));
let template: Promise<string> | undefined;

/**
 * The name of a PostgreSQL database migrated to the latest schema, to clone. It is named by a
 * hash of the migration sources, so a changed migration gets a new one; it is built under a
 * temporary name and renamed when complete, so test processes running side by side never clone
 * a half-built one (the loser of that race drops its copy).
 */
function migratedTemplate(): Promise<string> {
  template ??= buildTemplate().catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  return template;
}

async function buildTemplate(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of (await readdir(MIGRATIONS_DIR)).sort()) hash.update(file).update(await readFile(join(MIGRATIONS_DIR, file)));
  // [0-9a-f] after fixed prefixes: safe to interpolate as identifiers and literals.
  const name = `storehook_tpl_${hash.digest('hex').slice(0, 16)}`;
  if ((await adminQuery(`SELECT 1 FROM pg_database WHERE datname = '${name}'`)).length > 0) return name;
  const building = `storehook_tplb_${randomBytes(8).toString('hex')}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'storehook-template-'));
  try {
    await adminQuery(`CREATE DATABASE "${building}"`);
    const database = await openDatabase({ databaseUrl: withDatabaseName(adminUrl(), building), dataDir });
    try {
      await migrateToLatest(database);
    } finally {
      await database.close();
    }
    await adminQuery(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
  } catch (error) {
    await adminQuery(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`).catch(() => undefined);
    // Another process renamed its copy first: use that one.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
  // Templates of older migration sets are of no more use.
  for (const row of await adminQuery(`SELECT datname FROM pg_database WHERE datname LIKE 'storehook\\_tpl\\_%' AND datname <> '${name}'`)) {
    await adminQuery(`DROP DATABASE IF EXISTS "${String(row['datname'])}" WITH (FORCE)`).catch(() => undefined);
  }
  return name;
}

export async function freshDatabase(
  dialect: Dialect,
  options: FreshDatabaseOptions = {},
): Promise<FreshDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'storehook-test-'));
  let databaseUrl: string | undefined;
  let dbName: string | undefined;
  let database: Database | undefined;
  let cloned = false;
  let cleaned = false;

  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    try {
      if (database) await database.close();
    } finally {
      try {
        // WITH (FORCE) also ends connections another handle of the test left open.
        if (dbName) await adminQuery(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    }
  };

  try {
    if (dialect === 'postgres') {
      // Only [0-9a-f] after a fixed prefix: safe to interpolate as an identifier.
      dbName = `storehook_t_${randomBytes(8).toString('hex')}`;
      cloned = options.migrate !== false && options.cloneMigrated !== false;
      await adminQuery(`CREATE DATABASE "${dbName}"${cloned ? ` TEMPLATE "${await migratedTemplate()}"` : ''}`);
      databaseUrl = withDatabaseName(adminUrl(), dbName);
    }
    database = await openDatabase({
      databaseUrl,
      dataDir,
      ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
    });
    const applied = options.migrate === false ? [] : cloned ? await migrationsIn(database) : await migrateToLatest(database);
    return {
      database,
      ...(databaseUrl !== undefined ? { databaseUrl } : {}),
      dataDir,
      applied,
      cleanup,
    };
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }
}

/**
 * A fresh database migrated only up to `migration` (included): to put rows of an older schema in
 * it, then test what a later migration does with them (`migrateToLatest`).
 */
export async function freshDatabaseMigratedTo(dialect: Dialect, migration: string): Promise<FreshDatabase> {
  const fresh = await freshDatabase(dialect, { migrate: false });
  const provider = { getMigrations: async () => migrationsFor(dialect) };
  const result = await new Migrator({ db: fresh.database.kysely, provider }).migrateTo(migration);
  if (result.error) {
    await fresh.cleanup();
    throw result.error;
  }
  return fresh;
}

/** The migrations recorded in a database (a clone's, which the template applied). */
async function migrationsIn(database: Database): Promise<string[]> {
  const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(database.kysely);
  return rows.rows.map((r) => r.name);
}

/**
 * Runs the same suite once per dialect: `describe('<name> [sqlite]')`, `describe('<name> [postgres]')`.
 * The body typically calls `freshDatabase(dialect)` in `beforeEach`/`before` hooks.
 */
export function forEachDialect(name: string, body: (dialect: Dialect) => void): void {
  for (const dialect of dialects()) {
    void describe(`${name} [${dialect}]`, () => body(dialect));
  }
}
