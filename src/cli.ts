/**
 * The `storehook` command. Every command finds its database the same way (SPEC §5a): flags win
 * over environment variables, which win over defaults.
 *
 * This file only registers the commands (names, options, help) and imports nothing heavy: each
 * action loads its implementation with `await import()`, so `--help`, usage errors and the
 * toolkit commands (which only speak HTTP) never load the database drivers, the migrations or
 * Fastify. (`--version` is answered by bin/storehook.js before this file loads.)
 * test/cli/lazy-loading.test.ts fails when that stops being so.
 */
import { Command, CommanderError } from 'commander';
import { fail, withSettings } from './commands/support.js';
import { SETTINGS, type SettingName } from './config.js';
import { registerLegacyCommands } from './legacy/commands.js';
import { registerToolkitCommands } from './toolkit/commands.js';
import { VERSION } from './version.js';

const DB_SETTINGS: SettingName[] = ['databaseUrl', 'dataDir', 'logLevel', 'sqliteSync'];
/** Settings only the API reads: `worker --help` leaves them out. */
const API_ONLY_SETTINGS: SettingName[] = ['rateLimitPerSecond', 'rateLimitBurst', 'authFailuresPerMinute', 'maxSubscriptions', 'httpsOnly', 'logRequests'];
const WORKER_SETTINGS = (Object.keys(SETTINGS) as SettingName[]).filter((name) => !API_ONLY_SETTINGS.includes(name));

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
    .action(async (opts: Record<string, unknown>) => (await import('./commands/serve.js')).serve(opts, opts.dispatcher === false ? 'api' : 'serve'));

  withSettings(program.command('worker'), WORKER_SETTINGS)
    .description('Run a dispatcher only (delivers messages; scale out on PostgreSQL)')
    .addHelpText('after', '\nExample:\n  DATABASE_URL=postgres://storehook@db/storehook storehook worker --port 8081')
    .action(async (opts: Record<string, unknown>) => (await import('./commands/serve.js')).serve(opts, 'worker'));

  withSettings(program.command('migrate'), DB_SETTINGS)
    .description('Bring the database schema up to date (safe beside a running server); creates the SQLite file in an existing --data-dir')
    .action(async (opts: Record<string, unknown>) => (await import('./commands/migrate.js')).migrateCommand(opts));

  const stores = program.command('stores').description('Manage stores');
  registerLegacyCommands(stores);
  withSettings(stores.command('create'), DB_SETTINGS)
    .description('Create a store')
    .requiredOption('--name <name>', 'store name')
    .option('--plan <plan>', 'free, basic, advanced, pro or enterprise (the API needs advanced or above)', 'advanced')
    .option('--timezone <tz>', 'IANA time zone: dashboard, XML bridge times, date filters without offset', 'UTC')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  storehook stores create --name acme --plan pro --timezone Europe/Helsinki')
    .action(async (opts: Record<string, string | boolean>) => (await import('./commands/stores.js')).createStoreCommand(opts));
  withSettings(stores.command('list'), DB_SETTINGS)
    .description('List stores')
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, unknown>) => (await import('./commands/stores.js')).listStoresCommand(opts));
  withSettings(stores.command('update'), DB_SETTINGS)
    .description("Change a store's plan or time zone")
    .requiredOption('--store <name>', 'store name or id')
    .option('--plan <plan>', 'free, basic, advanced, pro or enterprise')
    .option('--timezone <tz>', 'IANA time zone')
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => (await import('./commands/stores.js')).updateStoreCommand(opts));

  const users = program.command('users').description('Manage API users (HTTP Basic: e-mail + API key)');
  withSettings(users.command('create'), DB_SETTINGS)
    .description('Create an API user; prints its API key once')
    .requiredOption('--store <name>', 'store name or id')
    .requiredOption('--email <email>', 'the login')
    .option('--json', 'print {"store","email","api_key"}')
    .addHelpText('after', '\nExample:\n  storehook users create --store acme --email erp@acme.example --json')
    .action(async (opts: Record<string, string | boolean>) => (await import('./commands/users.js')).createUserCommand(opts));
  withSettings(users.command('list'), DB_SETTINGS)
    .description('List API users (keys are never shown, only their first characters)')
    .option('--store <name>', 'only this store')
    .option('--json', 'print JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => (await import('./commands/users.js')).listUsersCommand(opts));
  withSettings(users.command('rotate-key'), DB_SETTINGS)
    .description('Replace an API user\'s key; the old one stops working at once')
    .requiredOption('--email <email>', 'the API user')
    .option('--json', 'print {"email","api_key"}')
    .action(async (opts: Record<string, string | boolean>) => (await import('./commands/users.js')).rotateKeyCommand(opts));
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
