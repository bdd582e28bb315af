/**
 * What every `storehook` command shares: settings as options, one-line failures, configuration
 * loading, and opening the database for an admin command.
 */
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { AdminError } from '../admin/stores.js';
import { ConfigError, loadConfig, SETTINGS, type Config, type SettingName } from '../config.js';
import { openDatabase, sqliteFileFor, type Database } from '../db/connection.js';
import { databasePlace, describeDatabaseError } from '../db/describe-error.js';
import { migrateToLatest } from '../db/migrate.js';

/** Adds the flags of these settings (all by default) to a command, each naming its variable. */
export function withSettings(cmd: Command, names: SettingName[] = Object.keys(SETTINGS) as SettingName[]): Command {
  for (const name of names) {
    const s = SETTINGS[name];
    const isBool = typeof s.default === 'boolean';
    const shown = defaultForHelp(s);
    cmd.addOption(new Option(isBool ? `--${s.flag}` : `--${s.flag} <value>`, `${s.description} [${s.env}]${shown === undefined ? '' : ` (default: ${shown})`}`));
  }
  return cmd;
}

/**
 * A setting's default as --help shows it. Commander's own `.default()` is not used: it would set
 * the option and so hide the environment variable (flags win over the environment).
 */
function defaultForHelp(setting: { default: unknown; helpDefault?: string }): string | undefined {
  if (setting.helpDefault !== undefined) return setting.helpDefault;
  const value = setting.default;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return value === '' ? undefined : value;
  return undefined;
}

/** One line on stderr, then exit: 1 for a failure, 2 for a usage or configuration error. */
export function fail(message: string, code = 1): never {
  process.stderr.write(`storehook: ${message}\n`);
  process.exit(code);
}

export function config(flags: Record<string, unknown>): Config {
  try {
    return loadConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
}

export const print = (value: unknown): void => void process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);

/** Opens and migrates the database for an admin command, with one clear line on failure. */
export async function withDatabase<T>(
  flags: Record<string, unknown>,
  work: (db: Database, cfg: Config, applied: string[]) => Promise<T>,
  options: { mayCreate?: boolean } = {},
): Promise<T> {
  const cfg = config(flags);
  const sqliteFile = sqliteFileFor(cfg);
  if (sqliteFile) refuseMissingSqlite(cfg.dataDir, sqliteFile, options.mayCreate ?? false);
  const place = databasePlace(cfg.databaseUrl, cfg.dataDir);
  let database: Database;
  let applied: string[];
  try {
    database = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, sqliteSync: cfg.sqliteSync, poolSize: 2 });
  } catch (err) {
    fail(describeDatabaseError(err, place, 'cannot open'));
  }
  try {
    applied = await migrateToLatest(database);
  } catch (err) {
    await database.close().catch(() => undefined);
    fail(describeDatabaseError(err, place, 'cannot bring up to date'));
  }
  try {
    return await work(database, cfg, applied);
  } catch (err) {
    if (err instanceof AdminError) fail(err.message);
    throw err;
  } finally {
    await database.close();
  }
}

/**
 * An admin command never creates a SQLite database as a side effect: a mistyped --data-dir would
 * otherwise list "(none)" from a new empty file. `migrate` may create the file, in a folder that
 * exists; `serve` creates both on the first run.
 */
function refuseMissingSqlite(dataDir: string, sqliteFile: string, mayCreate: boolean): void {
  const hint = 'check --data-dir / STOREHOOK_DATA_DIR, or create the database with `storehook migrate --data-dir <folder>` (or a first `storehook serve`)';
  if (!existsSync(dataDir)) fail(`the data directory ${dataDir} does not exist; ${hint}`, 2);
  if (!mayCreate && !existsSync(sqliteFile)) fail(`there is no storehook database in ${dataDir} (no ${sqliteFile}); ${hint}`, 2);
}
