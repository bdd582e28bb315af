/**
 * Turns a driver error into words an operator can act on: what happened, and to which database
 * ("the database at 127.0.0.1:5432 did not answer (connection refused)"). Never shows a password.
 */
import { databaseTarget } from './connection.js';

/** Where the data lives, as an operator would name it. */
export function databasePlace(databaseUrl: string | undefined, dataDir: string): string {
  const target = databaseTarget({ databaseUrl, dataDir });
  if ('sqliteFile' in target) return `the SQLite database in ${dataDir}`;
  try {
    const url = new URL(target.postgresUrl);
    const name = url.pathname.replace(/^\//, '');
    return `the database at ${url.hostname || 'localhost'}:${url.port || '5432'}${name ? ` (database "${decodeURIComponent(name)}")` : ''}`;
  } catch {
    return 'the database of DATABASE_URL';
  }
}

interface DriverError {
  code?: string;
  message?: string;
  errors?: unknown[];
  cause?: unknown;
}

/** The innermost error that carries a code (pg's AggregateError and wrapped errors included). */
function withCode(err: unknown): DriverError | undefined {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as DriverError;
    if (typeof e.code === 'string') return e;
    current = e.errors?.[0] ?? e.cause;
  }
  return undefined;
}

const BY_CODE: Record<string, (place: string, e: DriverError) => string> = {
  ECONNREFUSED: (place) => `${place} did not answer (connection refused): is PostgreSQL running there?`,
  ETIMEDOUT: (place) => `${place} did not answer in time (timed out): check the host and the firewall`,
  ENOTFOUND: (place) => `${place} cannot be found (unknown host name): check DATABASE_URL`,
  EAI_AGAIN: (place) => `${place} cannot be found (the host name did not resolve): check DATABASE_URL and DNS`,
  ECONNRESET: (place) => `${place} closed the connection: check that the port is PostgreSQL's and the server's logs`,
  '28P01': (place) => `${place} refused the password: check the user and password in DATABASE_URL`,
  '28000': (place, e) => `${place} refused the login (${e.message ?? 'no such role'}): check the user in DATABASE_URL`,
  '3D000': (place, e) => `${place}: ${e.message ?? 'the database does not exist'}; create it (createdb) or fix DATABASE_URL`,
  '57P03': (place) => `${place} is starting up or shutting down: try again in a moment`,
  '53300': (place) => `${place} has no free connections (too many clients): lower the pool sizes or raise max_connections`,
  SQLITE_CANTOPEN: (place) => `${place} cannot be opened: check that the folder exists and this user may write to it`,
  SQLITE_READONLY: (place) => `${place} is read-only for this user: check the file's permissions`,
  SQLITE_BUSY: (place) => `${place} is locked by another process: try again, or stop the other process`,
  SQLITE_NOTADB: (place) => `${place} is not a SQLite database file: check --data-dir`,
  SQLITE_CORRUPT: (place) => `${place} is damaged (SQLITE_CORRUPT): restore it from a backup`,
  EACCES: (place) => `${place} cannot be opened: permission denied`,
};

/** The problem in plain words, or undefined when the error is not one this file knows. */
export function recognizeDatabaseError(err: unknown, place: string): string | undefined {
  const coded = withCode(err);
  const describe = coded?.code ? BY_CODE[coded.code] : undefined;
  return coded && describe ? describe(place, coded) : undefined;
}

/** The problem in plain words, or `<what failed> <place>: <the driver's message>`. */
export function describeDatabaseError(err: unknown, place: string, whatFailed: string): string {
  return recognizeDatabaseError(err, place) ?? `${whatFailed} ${place}: ${err instanceof Error ? err.message : String(err)}`;
}
