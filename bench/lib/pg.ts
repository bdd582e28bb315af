/**
 * PostgreSQL databases for the bench: `storehook_bench_<pid>_<hex>`, created per scenario and
 * dropped WITH (FORCE) at the end (or on Ctrl-C). Databases left by a bench process that is no
 * longer alive (killed with SIGKILL) are dropped at the next start.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onCleanup } from './cleanup.js';

export const ADMIN_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The server's version, or null when PostgreSQL does not answer (the PG rows are then skipped). */
export async function postgresVersion(): Promise<string | null> {
  try {
    return await admin(async (c) => String((await c.query('show server_version')).rows[0]?.server_version ?? '?'));
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function dropStaleBenchDatabases(): Promise<string[]> {
  return admin(async (c) => {
    const rows = (await c.query<{ datname: string }>("select datname from pg_database where datname like 'storehook\\_bench\\_%'")).rows;
    const dropped: string[] = [];
    for (const { datname } of rows) {
      const m = /^storehook_bench_(\d+)_[0-9a-f]+$/.exec(datname);
      if (!m || alive(Number(m[1]))) continue;
      await c.query(`drop database if exists "${datname}" with (force)`);
      dropped.push(datname);
    }
    return dropped;
  });
}

/** Creates an empty database; it is dropped by the cleanup registry. Returns its URL. */
export async function createBenchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `storehook_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`create database "${name}"`));
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await admin((c) => c.query(`drop database if exists "${name}" with (force)`));
  };
  const unregister = onCleanup(`drop database ${name}`, drop);
  return {
    url: withDatabaseName(ADMIN_URL, name),
    drop: async () => {
      unregister();
      await drop();
    },
  };
}
