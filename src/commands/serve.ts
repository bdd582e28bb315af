/**
 * `storehook serve` and `storehook worker`: take the SQLite serving lock, start the server, print
 * the banner, and stop cleanly on SIGTERM/SIGINT. Loaded by those commands' actions only.
 */
import { mkdirSync } from 'node:fs';
import type { Config } from '../config.js';
import { sqliteFileFor } from '../db/connection.js';
import { databasePlace, recognizeDatabaseError } from '../db/describe-error.js';
import { dialectName } from '../db/dialect.js';
import { acquireServeLock, LockedError } from '../db/sqlite-lock.js';
import type { RunningServer } from '../server.js';
import { VERSION } from '../version.js';
import { config, fail } from './support.js';

function banner(server: RunningServer, cfg: Config, role: string): void {
  const lines = [`storehook ${VERSION} ${role} on ${server.url}`, `  database: ${server.database.location} (${dialectName(server.database.dialect)})`];
  if (role !== 'worker') lines.push(`  dashboard: ${server.url}/  (sign in with an API user's e-mail and key)`, `  API docs:  ${server.url}/docs`);
  const creds = server.demoCredentials;
  if (creds) {
    lines.push(
      '',
      '  A demo store "demo" (advanced plan) was created with one API user.',
      '  Its API key is shown only this once — keep it:',
      `    e-mail:  ${creds.email}`,
      `    API key: ${creds.apiKey}`,
      '',
      '  Try it:',
      `    curl -u '${creds.email}:${creds.apiKey}' ${server.url}/api/v1/orders`,
    );
  }
  if (cfg.allowTargets.cidrs.length === 0 && role !== 'worker') {
    lines.push('', '  Webhooks to localhost/private addresses are refused; for local receivers start with', "    STOREHOOK_ALLOW_TARGETS=127.0.0.0/8,::1/128");
  }
  // stderr: stdout carries the JSON log stream, and the one-time key must not end up in it.
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** `serve` runs everything; `api` is `serve --no-dispatcher`; `worker` runs a dispatcher only. */
export type ServeRole = 'serve' | 'api' | 'worker';

export async function serve(flags: Record<string, unknown>, role: ServeRole): Promise<void> {
  const cfg = config(flags);
  let release: (() => void) | null = null;
  // SQLite serves from one process; PostgreSQL needs no such lock.
  const sqliteFile = sqliteFileFor(cfg);
  if (sqliteFile) {
    try {
      mkdirSync(cfg.dataDir, { recursive: true });
      release = acquireServeLock(sqliteFile);
    } catch (err) {
      if (err instanceof LockedError) fail(err.message);
      fail(`cannot use the data directory ${cfg.dataDir}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let server: RunningServer;
  try {
    // Loaded only when serving: admin commands (stores, users, migrate) then never load Fastify,
    // undici and the dispatcher.
    const { startServer } = await import('../server.js');
    server = await startServer({
      config: cfg,
      api: role !== 'worker',
      dispatcher: role !== 'api',
      seedDemo: role === 'serve' || role === 'api',
    });
  } catch (err) {
    release?.();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') fail(`port ${cfg.port} on ${cfg.host} is already in use; choose another with --port or PORT`);
    if (e.code === 'EACCES') fail(`no permission to listen on ${cfg.host}:${cfg.port}; use a port above 1024`);
    fail(recognizeDatabaseError(err, databasePlace(cfg.databaseUrl, cfg.dataDir)) ?? `cannot start: ${e.message} (${sqliteFile ? `data directory ${cfg.dataDir}` : 'check DATABASE_URL and that PostgreSQL answers'})`);
  }
  banner(server, cfg, role === 'worker' ? 'worker' : role === 'api' ? 'API (no dispatcher)' : 'listening');
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`storehook: ${signal} received, finishing in-flight deliveries…\n`);
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    server
      .close()
      .then(() => {
        release?.();
        process.exit(0);
      })
      .catch(() => process.exit(1));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
