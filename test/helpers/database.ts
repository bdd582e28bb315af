/**
 * Test databases. Every suite that touches the database runs on SQLite always, and also on
 * PostgreSQL when `TEST_DATABASE_URL` points at a server whose user may `CREATE DATABASE`.
 * Each call to `freshDatabase` gets its own empty database (a temp folder for SQLite, a new
 * `storehook_t_<hex>` database for PostgreSQL), so tests never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database, type Dialect } from '../../src/db/connection.js';
import { migrateToLatest } from '../../src/db/migrate.js';

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
async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export async function freshDatabase(
  dialect: Dialect,
  options: FreshDatabaseOptions = {},
): Promise<FreshDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'storehook-test-'));
  let databaseUrl: string | undefined;
  let dbName: string | undefined;
  let database: Database | undefined;
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
      await adminQuery(`CREATE DATABASE "${dbName}"`);
      databaseUrl = withDatabaseName(adminUrl(), dbName);
    }
    database = await openDatabase({
      databaseUrl,
      dataDir,
      ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
    });
    const applied = options.migrate === false ? [] : await migrateToLatest(database);
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
 * Runs the same suite once per dialect: `describe('<name> [sqlite]')`, `describe('<name> [postgres]')`.
 * The body typically calls `freshDatabase(dialect)` in `beforeEach`/`before` hooks.
 */
export function forEachDialect(name: string, body: (dialect: Dialect) => void): void {
  for (const dialect of dialects()) {
    void describe(`${name} [${dialect}]`, () => body(dialect));
  }
}
