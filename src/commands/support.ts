/**
 * What every `storehook` command shares: settings as options, one-line failures, configuration
 * loading, and opening the database for an admin command.
 */
import { Option, type Command } from 'commander';
import { AdminError } from '../admin/stores.js';
import { ConfigError, loadConfig, SETTINGS, type Config, type SettingName } from '../config.js';
import { openDatabase, type Database } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';

/** Adds the flags of these settings (all by default) to a command, each naming its variable. */
export function withSettings(cmd: Command, names: SettingName[] = Object.keys(SETTINGS) as SettingName[]): Command {
  for (const name of names) {
    const s = SETTINGS[name];
    const isBool = typeof s.default === 'boolean';
    cmd.addOption(new Option(isBool ? `--${s.flag}` : `--${s.flag} <value>`, `${s.description} [${s.env}]`));
  }
  return cmd;
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
export async function withDatabase<T>(flags: Record<string, unknown>, work: (db: Database, cfg: Config) => Promise<T>): Promise<T> {
  const cfg = config(flags);
  let database: Database;
  try {
    database = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, sqliteSync: cfg.sqliteSync, poolSize: 2 });
    await migrateToLatest(database);
  } catch (err) {
    fail(`cannot open the database (${cfg.databaseUrl ? 'DATABASE_URL' : `STOREHOOK_DATA_DIR=${cfg.dataDir}`}): ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return await work(database, cfg);
  } catch (err) {
    if (err instanceof AdminError) fail(err.message);
    throw err;
  } finally {
    await database.close();
  }
}
