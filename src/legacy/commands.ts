/**
 * Operator commands of the legacy XML Webhooks extension, under `storehook stores`:
 *
 *   storehook stores legacy-key --store acme             enable it; prints the store's key once
 *   storehook stores legacy-key --store acme --rotate    a new key (the old one stops working)
 *   storehook stores legacy --store acme                 show the settings
 *   storehook stores legacy --store acme --post-url https://erp.example/mcf-orders
 *   storehook stores legacy --store acme --clear-post-url | --include-api-orders yes|no | --disable
 *
 * Registration only; what they do is in command-actions.ts, loaded when one runs.
 */
import type { Command } from 'commander';
import { withSettings } from '../commands/support.js';
import type { SettingName } from '../config.js';

const SETTING_NAMES: SettingName[] = ['databaseUrl', 'dataDir', 'logLevel', 'sqliteSync', 'allowTargets', 'httpsOnly'];

/** Adds `legacy-key` and `legacy` to the `stores` command. */
export function registerLegacyCommands(stores: Command): void {
  withSettings(stores.command('legacy-key'), SETTING_NAMES)
    .description('Enable the old XML Webhooks extension (/webhooks/*) for a store and print its key once')
    .requiredOption('--store <name>', 'store name or id')
    .option('--rotate', 'replace the existing key; the old one stops working at once')
    .option('--json', 'print {"store","key",…}')
    .addHelpText('after', '\nExample:\n  storehook stores legacy-key --store acme\n  curl "http://127.0.0.1:8080/webhooks/changes?ts=1&key=<key>"')
    .action(async (opts: Record<string, string | boolean | undefined>) => (await import('./command-actions.js')).legacyKeyCommand(opts));

  withSettings(stores.command('legacy'), SETTING_NAMES)
    .description("Show or change a store's legacy Webhooks settings: automatic POST URL, API orders, disable")
    .requiredOption('--store <name>', 'store name or id')
    .option('--post-url <url>', 'POST each new order as XML to this URL (delivered with retries, like JSON webhooks)')
    .option('--clear-post-url', 'stop the automatic POST')
    .option('--include-api-orders <yes|no>', 'also POST orders created through the API (MyCashflow did not)')
    .option('--disable', 'turn the extension off (its key is kept; legacy-key turns it on again)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  storehook stores legacy --store acme --post-url https://erp.example.com/mcf/orders\n  storehook stores legacy --store acme --include-api-orders yes\n  storehook stores legacy --store acme --disable')
    .action(async (opts: Record<string, string | boolean | undefined>) => (await import('./command-actions.js')).legacySettingsCommand(opts));
}
