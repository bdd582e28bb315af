/**
 * What every `storehook` command shares: settings as options, one-line failures, configuration
 * loading and printing. Light on purpose: command registration imports it, and `--help` must not
 * load the database layer (opening the database is in with-database.ts, loaded by the actions).
 */
import { Option, type Command } from 'commander';
import { ConfigError, loadConfig, SETTINGS, type Config, type SettingName } from '../config.js';

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
