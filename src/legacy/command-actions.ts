/**
 * What `storehook stores legacy-key` and `storehook stores legacy` do (commands.ts registers
 * them): loaded by their actions only, so `--help` does not load the database layer.
 */
import { AdminError, findStore } from '../admin/stores.js';
import { print } from '../commands/support.js';
import { withDatabase } from '../commands/with-database.js';
import { isoTime } from '../time.js';
import { subscriptionPolicy } from '../webhooks/subscriptions.js';
import { clearPostUrl, disableLegacy, issueLegacyKey, legacyStatus, setIncludeApiOrders, setPostUrl, type LegacyStatus } from './settings.js';

export function statusJson(s: LegacyStatus): Record<string, unknown> {
  return {
    store: s.storeName,
    store_id: s.storeId,
    enabled: s.enabled,
    key_prefix: s.keyPrefix,
    key_created_at: isoTime(s.keyCreatedAt),
    post_url: s.postUrl,
    post_status: s.postStatus,
    post_disabled_reason: s.postDisabledReason,
    include_api_orders: s.includeApiOrders,
    subscription_uuid: s.subscriptionUuid,
  };
}

export function statusText(s: LegacyStatus): string {
  const lines = [
    `store "${s.storeName}" (id ${s.storeId}, plan ${s.plan}): Webhooks extension ${s.enabled ? 'ENABLED' : 'disabled'}`,
    `  key:                 ${s.keyPrefix ? `${s.keyPrefix}… (issued ${isoTime(s.keyCreatedAt)})` : '(none; issue one with `storehook stores legacy-key`)'}`,
    `  automatic POST:      ${s.postUrl ? `${s.postUrl} (${s.postStatus}${s.postDisabledReason ? `: ${s.postDisabledReason}` : ''})` : '(no URL)'}`,
    `  orders from the API: ${s.includeApiOrders ? 'POSTed too' : 'not POSTed (as in MyCashflow); --include-api-orders yes to POST them'}`,
  ];
  if (s.subscriptionUuid) lines.push(`  POSTs are signed with subscription ${s.subscriptionUuid}; log: GET /api/v1/webhooks/${s.subscriptionUuid}/deliveries`);
  return lines.join('\n');
}

function yesNo(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['yes', 'true', '1', 'on'].includes(v)) return true;
  if (['no', 'false', '0', 'off'].includes(v)) return false;
  throw new AdminError(`--include-api-orders takes yes or no, not "${raw}"`);
}

export function legacyKeyCommand(opts: Record<string, string | boolean | undefined>): Promise<void> {
  return withDatabase(opts, async (db) => {
    const { status, key } = await issueLegacyKey(db, String(opts.store), { rotate: opts.rotate === true });
    if (opts.json) {
      print({ ...statusJson(status), key });
      return;
    }
    if (key) print(`Webhooks extension enabled for store "${status.storeName}".\nLegacy key (shown only once; the integration sends it as key=…): ${key}`);
    else print(`Webhooks extension enabled again for store "${status.storeName}"; its existing key (${status.keyPrefix}…) works again. Use --rotate for a new one.`);
    print(statusText(status));
  });
}

export function legacySettingsCommand(opts: Record<string, string | boolean | undefined>): Promise<void> {
  return withDatabase(opts, async (db, cfg) => {
    const store = String(opts.store);
    if (opts.postUrl !== undefined && opts.clearPostUrl) throw new AdminError('give --post-url or --clear-post-url, not both');
    let status: LegacyStatus | undefined;
    if (typeof opts.postUrl === 'string') {
      const policy = subscriptionPolicy(cfg);
      status = await setPostUrl(db, policy, store, opts.postUrl);
    }
    if (opts.clearPostUrl) status = await clearPostUrl(db, store);
    if (typeof opts.includeApiOrders === 'string') status = await setIncludeApiOrders(db, store, yesNo(opts.includeApiOrders));
    if (opts.disable) status = await disableLegacy(db, store);
    status ??= await legacyStatus(db.kysely, await findStore(db.kysely, store));
    print(opts.json ? statusJson(status) : statusText(status));
  });
}
