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

export interface SubscriptionStateCounts {
  healthy: number;
  failing: number;
  disabled: number;
  /** of the disabled: by the health sweep (failing too long) and by a 410 answer. */
  autoDisabled: { failing: number; gone: number };
}

/** Every subscription by health state, across stores, for the metrics (one scan of a small table). */
export async function subscriptionStateCounts(db: Kysely<Schema>): Promise<SubscriptionStateCounts> {
  const rows = await db
    .selectFrom('webhook_subscriptions')
    .select((eb) => [
      eb.case().when('status', '=', 'disabled').then('disabled').when('failing_since', 'is not', null).then('failing').else('healthy').end().as('state'),
      'disabled_by',
      eb.fn.countAll<number>().as('n'),
    ])
    .groupBy(['state', 'disabled_by'])
    .execute();
  const counts: SubscriptionStateCounts = { healthy: 0, failing: 0, disabled: 0, autoDisabled: { failing: 0, gone: 0 } };
  for (const r of rows) {
    const n = Number(r.n);
    counts[r.state as 'healthy' | 'failing' | 'disabled'] += n;
    if (r.state === 'disabled' && (r.disabled_by === 'failing' || r.disabled_by === 'gone')) counts.autoDisabled[r.disabled_by] += n;
  }
  return counts;
}

/** A subscription of the store that is failing or was disabled automatically: what the dashboard's banner lists. */
export interface HealthProblem {
  uuid: string;
  topic: string;
  url: string;
  state: 'failing' | 'disabled';
  /** failing: since when; disabled: when. */
  since: number;
  disabledBy: 'failing' | 'gone' | null;
}

/** The store's failing and automatically disabled subscriptions, longest trouble first. */
export async function healthProblems(db: Kysely<Schema>, storeId: number): Promise<HealthProblem[]> {
  const rows = await db
    .selectFrom('webhook_subscriptions')
    .select(['uuid', 'topic', 'url', 'status', 'failing_since', 'disabled_at', 'disabled_by'])
    .where('store_id', '=', storeId)
    .where((eb) => eb.or([eb.and([eb('status', '=', 'active'), eb('failing_since', 'is not', null)]), eb.and([eb('status', '=', 'disabled'), eb('disabled_by', 'in', ['failing', 'gone'])])]))
    .execute();
  return rows
    .map((r): HealthProblem => ({
      uuid: r.uuid,
      topic: r.topic,
      url: r.url,
      state: r.status === 'active' ? 'failing' : 'disabled',
      since: Number(r.status === 'active' ? r.failing_since : (r.disabled_at ?? r.failing_since ?? 0)),
      disabledBy: r.status === 'active' ? null : (r.disabled_by as 'failing' | 'gone'),
    }))
    .sort((a, b) => a.since - b.since);
}
