/**
 * A subscription's health as the API and the dashboard show it: the counters delivery keeps
 * (migration 0012), when it will be disabled, and its success rates over the last hour and day
 * (read from the attempts, two queries for a whole page of subscriptions, not one per row).
 */
import type { Kysely } from 'kysely';
import type { Schema, SubscriptionRow } from '../db/schema.js';
import { successRates, type SuccessRate } from '../delivery/queue-views.js';
import { uuidFingerprint } from '../log.js';
import { isoTime } from '../time.js';
import type { SubscriptionHealth } from './contract.js';
import { disablesAt, healthPolicy } from './health.js';

const HOUR_MS = 3_600_000;

function rate(r: SuccessRate | undefined): number | null {
  return r && r.attempts > 0 ? r.delivered / r.attempts : null;
}

/** One subscription's health from its row and its rates. */
export function healthView(row: SubscriptionRow, disableAfterMs: number, lastHour?: SuccessRate, lastDay?: SuccessRate): SubscriptionHealth {
  const at = (t: number | null) => (t === null ? null : isoTime(t));
  const until = disablesAt(row, healthPolicy(disableAfterMs));
  return {
    reference: uuidFingerprint(row.uuid),
    state: row.status === 'disabled' ? 'disabled' : row.failing_since !== null ? 'failing' : 'healthy',
    consecutive_failures: row.consecutive_failures,
    failing_since: at(row.failing_since),
    last_failure_at: at(row.last_failure_at),
    last_success_at: at(row.last_success_at),
    disables_at: at(until),
    success_rate_1h: rate(lastHour),
    success_rate_24h: rate(lastDay),
  };
}

/** The health of a store's subscriptions (one page), keyed by uuid. */
export async function healthViews(db: Kysely<Schema>, storeId: number, rows: readonly SubscriptionRow[], disableAfterMs: number, now: number): Promise<Map<string, SubscriptionHealth>> {
  const uuids = rows.map((r) => r.uuid);
  const [hour, day] = await Promise.all([successRates(db, storeId, now - HOUR_MS, uuids), successRates(db, storeId, now - 24 * HOUR_MS, uuids)]);
  return new Map(rows.map((r) => [r.uuid, healthView(r, disableAfterMs, hour.get(r.uuid), day.get(r.uuid))]));
}
