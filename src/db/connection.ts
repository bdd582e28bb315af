/**
 * Opens the database the configuration points at: PostgreSQL when a `postgres://` URL is set,
 * otherwise the embedded SQLite file `<dataDir>/storehook.db`. This is the one place that decides;
 * where SQL must differ the rest of the code calls the helpers of dialect.ts, which ask
 * `database.dialect` (or `tx.dialect`).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Dialect } from './dialect.js';
import { StorageHealth } from './health.js';
import { listenOn, SILENT_LISTENER, type Listener } from './listen.js';
import { PoolGate } from './pool-gate.js';
import type { Schema } from './schema.js';

export type { Dialect } from './dialect.js';
export type { Listener } from './listen.js';

export interface Database {
  kysely: Kysely<Schema>;
  dialect: Dialect;
  /** where the data lives, for log lines (never includes a password). */
  location: string;
  /** the SQLite file path (SQLite only), e.g. for the single-process lock. */
  sqliteFile?: string;
  /**
   * Calls `onNotify` whenever a transaction that called `notify(tx, channel)` commits, in any
   * process, and when the listening connection is (re)established. PostgreSQL only; on SQLite it
   * never calls (its one process wakes itself).
   */
  listen(channel: string, onNotify: () => void, log: Pick<Logger, 'warn'>): Listener;
  /** faults seen (full disk, damage found at start), for /healthz. */
  health: StorageHealth;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /** PostgreSQL: requests that may wait for a pool connection at once (default 500). */
  poolQueueLimit?: number;
  /** PostgreSQL: how long a request may wait for a pool connection, in ms (default 10,000). */
  poolWaitMs?: number;
  /** SQLite `synchronous` pragma: NORMAL survives process crashes; FULL also survives power loss. */
  sqliteSync?: 'normal' | 'full';
}

// int8 (bigint) columns hold millisecond timestamps and ids, all far below 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));
// numeric, as returned by count()/sum() on PostgreSQL.
pg.types.setTypeParser(1700, (value: string) => Number(value));

export const SQLITE_FILE_NAME = 'storehook.db';

export function sqliteFilePath(dataDir: string): string {
  return join(resolve(dataDir), SQLITE_FILE_NAME);
}

export type DatabaseTarget = { postgresUrl: string } | { sqliteFile: string; dataDir: string };

/** The one place that decides which database the settings point at. */
export function databaseTarget(settings: Pick<DatabaseOptions, 'databaseUrl' | 'dataDir'>): DatabaseTarget {
  return settings.databaseUrl ? { postgresUrl: settings.databaseUrl } : { sqliteFile: sqliteFilePath(settings.dataDir), dataDir: settings.dataDir };
}

/**
 * The SQLite file these settings open, or null when they point at PostgreSQL: what the command
 * line asks before opening (the serving lock, refusing to create a database by mistake).
 */
export function sqliteFileFor(settings: Pick<DatabaseOptions, 'databaseUrl' | 'dataDir'>): string | null {
  const target = databaseTarget(settings);
  return 'sqliteFile' in target ? target.sqliteFile : null;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const target = databaseTarget(options);
  if ('postgresUrl' in target) {
    return openPostgres(target.postgresUrl, { size: options.poolSize ?? 10, queueLimit: options.poolQueueLimit ?? 500, waitMs: options.poolWaitMs ?? 10_000 });
  }
  return openSqlite(target.dataDir, options.sqliteSync ?? 'normal');
}

function openSqlite(dataDir: string, sync: 'normal' | 'full'): Database {
  mkdirSync(resolve(dataDir), { recursive: true });
  const file = sqliteFilePath(dataDir);
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('foreign_keys = ON');
  // Admin commands may write beside a running server: wait for the lock instead of failing.
  sqlite.pragma('busy_timeout = 5000');
  const health = new StorageHealth();
  const kysely = new Kysely<Schema>({ dialect: new SafeRollbackSqliteDialect(withStatementCache(sqlite), health) });
  return {
    kysely,
    dialect: 'sqlite',
    location: file,
    sqliteFile: file,
    health,
    listen: () => SILENT_LISTENER,
    close: () => kysely.destroy(),
  };
}

const watchedClients = new WeakSet<pg.PoolClient>();

/** Every failed query of this client is shown to `health`, so a full disk is noticed wherever it happens. */
function watchClient(client: pg.PoolClient, health: StorageHealth): pg.PoolClient {
  if (watchedClients.has(client)) return client;
  watchedClients.add(client);
  const query = client.query as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = function (this: pg.PoolClient, ...args: unknown[]) {
    const result = query.apply(this, args);
    // A promise: watch it on a side branch; the caller still gets (and handles) the original.
    if (result instanceof Promise) result.catch((err: unknown) => health.noteError(err));
    return result;
  };
  return client;
}

/**
 * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, …); the
 * ROLLBACK Kysely then sends fails with "cannot rollback - no transaction is active", and that
 * error replaced the real one. Roll back only a transaction that is still open.
 */
class SafeRollbackSqliteDialect extends SqliteDialect {
  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly health: StorageHealth,
  ) {
    super({ database: sqlite });
  }

  override createDriver(): Driver {
    const { sqlite, health } = this;
    const watched = new WeakSet<DatabaseConnection>();
    return new (class extends SqliteDriver {
      override async acquireConnection(): Promise<DatabaseConnection> {
        const connection = await super.acquireConnection();
        if (!watched.has(connection)) {
          watched.add(connection);
          // Every failed statement is shown to `health` (a full disk is noticed wherever it happens).
          // better-sqlite3 throws synchronously: a try/catch costs nothing on success.
          const execute = connection.executeQuery.bind(connection);
          connection.executeQuery = (query) => {
            try {
              return execute(query);
            } catch (err) {
              health.noteError(err);
              throw err;
            }
          };
        }
        return connection;
      }

      // IMMEDIATE: the write lock is taken at BEGIN, waiting (busy_timeout) for another connection's
      // commit. A deferred transaction that reads and then writes would fail with SQLITE_BUSY
      // instead when the dispatcher's thread (its own connection) wrote in between.
      override async beginTransaction(connection: DatabaseConnection): Promise<void> {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
      }

      override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
        if (sqlite.inTransaction) await super.rollbackTransaction(connection);
      }
    })({ database: sqlite });
  }
}

/**
 * Kysely prepares every query anew; on SQLite preparing costs as much as running a small
 * statement. The same SQL text (parameters are bound separately) reuses its statement. Safe
 * because Kysely runs each statement to completion synchronously before the next one.
 */
function withStatementCache(sqlite: SQLite.Database): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  return new Proxy(sqlite, {
    get(target, property, receiver) {
      if (property !== 'prepare') {
        const value = Reflect.get(target, property, receiver) as unknown;
        // native methods need the real database as `this`
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      }
      return (source: string) => {
        let statement = cache.get(source);
        if (!statement) {
          statement = target.prepare(source);
          // Queries with IN lists vary in text: keep the cache bounded.
          if (cache.size >= 1000) cache.delete(cache.keys().next().value!);
          cache.set(source, statement);
        }
        return statement;
      };
    },
  });
}

/** How every PostgreSQL connection is made: the pool's and the LISTEN connection's. */
function clientSettings(url: string): pg.ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: 5000,
    // A query that hangs (e.g. during a failover) must not hang the request forever.
    query_timeout: 30_000,
    keepAlive: true,
  };
}

async function openPostgres(url: string, limits: { size: number; queueLimit: number; waitMs: number }): Promise<Database> {
  const pool = new pg.Pool({ ...clientSettings(url), max: limits.size });
  // A client losing its connection (database restart) must not crash the process: idle clients
  // report on the pool, checked-out ones (e.g. between the statements of a transaction) on
  // themselves. The failed query rejects as usual, and the pool drops the broken client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const gate = new PoolGate(limits);
  const health = new StorageHealth();
  const gated = gate.wrap(pool);
  const watched = { connect: async () => watchClient(await gated.connect(), health), end: () => gated.end() };
  const kysely = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: watched }) });
  return {
    kysely,
    dialect: 'postgres',
    location: redactUrl(url),
    health,
    listen: (channel, onNotify, log) => listenOn(clientSettings(url), channel, onNotify, log),
    close: () => kysely.destroy(),
  };
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable url)';
  }
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH',
  '57P01', '57P02', '57P03', // admin shutdown, crash shutdown, cannot connect now
  '08000', '08001', '08003', '08004', '08006', // connection exceptions
  'SQLITE_BUSY', 'SQLITE_LOCKED',
]);

/** True for errors that mean "the database is not answering", as opposed to a bad query. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(err.message);
}
