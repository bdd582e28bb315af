/**
 * The `storehook` command. Every command finds its database the same way (SPEC §5a): flags win
 * over environment variables, which win over defaults.
 */
import { mkdirSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { createApiUser, createStore, listApiUsers, listStores, parsePlan, rotateApiKey, updateStore } from './admin/stores.js';
import { config, fail, print, withDatabase, withSettings } from './commands/support.js';
import { SETTINGS, type Config, type SettingName } from './config.js';
import { sqliteFileFor } from './db/connection.js';
import { databasePlace, recognizeDatabaseError } from './db/describe-error.js';
import { dialectName } from './db/dialect.js';
import { acquireServeLock, LockedError } from './db/sqlite-lock.js';
import { registerLegacyCommands } from './legacy/commands.js';
import type { RunningServer } from './server.js';
import { isoTime } from './time.js';
import { registerToolkitCommands } from './toolkit/commands.js';
import { VERSION } from './version.js';

const DB_SETTINGS: SettingName[] = ['databaseUrl', 'dataDir', 'logLevel', 'sqliteSync'];
/** Settings only the API reads: `worker --help` leaves them out. */
const API_ONLY_SETTINGS: SettingName[] = ['rateLimitPerSecond', 'rateLimitBurst', 'authFailuresPerMinute', 'maxSubscriptions', 'httpsOnly', 'logRequests'];
const WORKER_SETTINGS = (Object.keys(SETTINGS) as SettingName[]).filter((name) => !API_ONLY_SETTINGS.includes(name));

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)';
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i]!)).join('  ').trimEnd();
  return [line(cols), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n');
}

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

async function serve(flags: Record<string, unknown>, role: 'serve' | 'api' | 'worker'): Promise<void> {
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
    // undici and the dispatcher. (`--version` is answered by bin/storehook.js before this file loads.)
    const { startServer } = await import('./server.js');
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

export function buildCli(): Command {
  const program = new Command('storehook')
    .version(VERSION)
    .description('Self-hosted store API with a Webhooks engine (MyCashflow-compatible).')
    // Set before any subcommand exists: subcommands inherit both. Usage errors become one
    // `storehook: …` line and exit 2 (see the catch at the bottom).
    .exitOverride()
    .configureOutput({ outputError: (message, write) => write(`storehook: ${message.replace(/^error: /, '').trimEnd()} (run with --help for usage)\n`) });

  withSettings(program.command('serve'))
    .description('Run the API, dashboard and dispatcher (first run: creates ./data/storehook.db and a demo store)')
    .option('--no-dispatcher', 'serve the API only; run `storehook worker` processes to deliver (PostgreSQL)')
    .addHelpText('after', '\nExample:\n  STOREHOOK_ALLOW_TARGETS=127.0.0.0/8 storehook serve --port 8080')
    .action((opts: Record<string, unknown>) => serve(opts, opts.dispatcher === false ? 'api' : 'serve'));

  withSettings(program.command('worker'), WORKER_SETTINGS)
    .description('Run a dispatcher only (delivers messages; scale out on PostgreSQL)')
    .addHelpText('after', '\nExample:\n  DATABASE_URL=postgres://storehook@db/storehook storehook worker --port 8081')
    .action((opts: Record<string, unknown>) => serve(opts, 'worker'));

  withSettings(program.command('migrate'), DB_SETTINGS)
    .description('Bring the database schema up to date (safe beside a running server); creates the SQLite file in an existing --data-dir')
    .action((opts: Record<string, unknown>) =>
      withDatabase(
        opts,
        async (db, _cfg, applied) => {
          for (const name of applied) print(`applied ${name}`);
          print(applied.length ? `database ${db.location} is up to date (${applied.length} migration${applied.length === 1 ? '' : 's'} applied)` : `database ${db.location} is up to date (nothing to apply)`);
        },
        { mayCreate: true },
      ),
    );

  const stores = program.command('stores').description('Manage stores');
  registerLegacyCommands(stores);
  withSettings(stores.command('create'), DB_SETTINGS)
    .description('Create a store')
    .requiredOption('--name <name>', 'store name')
    .option('--plan <plan>', 'free, basic, advanced, pro or enterprise (the API needs advanced or above)', 'advanced')
    .option('--timezone <tz>', 'IANA time zone: dashboard, XML bridge times, date filters without offset', 'UTC')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  storehook stores create --name acme --plan pro --timezone Europe/Helsinki')
    .action((opts: Record<string, string | boolean>) =>
      withDatabase(opts, async (db) => {
        const store = await createStore(db.kysely, { name: String(opts.name), plan: parsePlan(String(opts.plan)), timezone: String(opts.timezone) });
        print(opts.json ? { id: store.id, name: store.name, plan: store.plan, timezone: store.timezone } : `store "${store.name}" created (id ${store.id}, plan ${store.plan})`);
      }),
    );
  withSettings(stores.command('list'), DB_SETTINGS)
    .description('List stores')
    .option('--json', 'print JSON')
    .action((opts: Record<string, unknown>) =>
      withDatabase(opts, async (db) => {
        const rows = (await listStores(db.kysely)).map((s) => ({ id: s.id, name: s.name, plan: s.plan, timezone: s.timezone, users: s.users, created_at: isoTime(s.created_at) }));
        print(opts.json ? rows : table(rows));
      }),
    );
  withSettings(stores.command('update'), DB_SETTINGS)
    .description("Change a store's plan or time zone")
    .requiredOption('--store <name>', 'store name or id')
    .option('--plan <plan>', 'free, basic, advanced, pro or enterprise')
    .option('--timezone <tz>', 'IANA time zone')
    .option('--json', 'print JSON')
    .action((opts: Record<string, string | boolean | undefined>) =>
      withDatabase(opts, async (db) => {
        const store = await updateStore(db.kysely, String(opts.store), {
          ...(opts.plan ? { plan: parsePlan(String(opts.plan)) } : {}),
          ...(opts.timezone ? { timezone: String(opts.timezone) } : {}),
        });
        print(opts.json ? { id: store.id, name: store.name, plan: store.plan, timezone: store.timezone } : `store "${store.name}": plan ${store.plan}, time zone ${store.timezone}`);
      }),
    );

  const users = program.command('users').description('Manage API users (HTTP Basic: e-mail + API key)');
  withSettings(users.command('create'), DB_SETTINGS)
    .description('Create an API user; prints its API key once')
    .requiredOption('--store <name>', 'store name or id')
    .requiredOption('--email <email>', 'the login')
    .option('--json', 'print {"store","email","api_key"}')
    .addHelpText('after', '\nExample:\n  storehook users create --store acme --email erp@acme.example --json')
    .action((opts: Record<string, string | boolean>) =>
      withDatabase(opts, async (db) => {
        const u = await createApiUser(db.kysely, String(opts.store), String(opts.email));
        print(opts.json ? { store: u.store.name, email: u.email, api_key: u.apiKey } : `API user ${u.email} created for store "${u.store.name}".\nAPI key (shown only once): ${u.apiKey}`);
      }),
    );
  withSettings(users.command('list'), DB_SETTINGS)
    .description('List API users (keys are never shown, only their first characters)')
    .option('--store <name>', 'only this store')
    .option('--json', 'print JSON')
    .action((opts: Record<string, string | boolean | undefined>) =>
      withDatabase(opts, async (db) => {
        const rows = (await listApiUsers(db.kysely, opts.store ? String(opts.store) : undefined)).map((u) => ({
          id: u.id,
          email: u.email,
          store: u.store,
          key: `${u.key_prefix}…`,
          created_at: isoTime(u.created_at),
          key_rotated_at: isoTime(u.key_rotated_at),
        }));
        print(opts.json ? rows : table(rows));
      }),
    );
  withSettings(users.command('rotate-key'), DB_SETTINGS)
    .description('Replace an API user\'s key; the old one stops working at once')
    .requiredOption('--email <email>', 'the API user')
    .option('--json', 'print {"email","api_key"}')
    .action((opts: Record<string, string | boolean>) =>
      withDatabase(opts, async (db) => {
        const r = await rotateApiKey(db.kysely, String(opts.email));
        print(opts.json ? { email: r.email, api_key: r.apiKey } : `New API key for ${r.email} (shown only once): ${r.apiKey}`);
      }),
    );
  registerToolkitCommands(program);
  return program;
}

buildCli()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    // --help and --version end here too, with exit code 0; commander has printed the message.
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    fail(err instanceof Error ? err.message : String(err));
  });
