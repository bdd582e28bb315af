/**
 * A subscription's health counters (migration 0012), written by every outcome writer in the same
 * transaction (recordOutcomes, queue.ts) or statement (outcome-batch-pg.ts) as the outcomes:
 *
 * - a failed attempt (any failure, a 410 too): `consecutive_failures` + 1, `failing_since` =
 *   the start of the run (kept if set), `last_failure_at`;
 * - a success: `consecutive_failures` 0, `failing_since` null, `last_success_at`.
 *
 * Cost: per batch, per subscription, the last outcome decides (failures after the batch's last
 * success are the new run), and a success is written only to a subscription that was failing, so a
 * healthy subscription's batch costs an index probe and no write. The test message (one attempt:
 * `countsForHealth` false) does not count: an operator trying a dead URL must not start the clock.
 *
 * Rows are written in subscription order, before the lanes, the order every writer of both keeps
 * (the health sweep locks a subscription, then holds its messages and enqueues).
 */
import { sql, type Kysely } from 'kysely';
import type { Schema } from '../db/schema.js';
import type { OutcomeRecord } from './queue.js';

type Db = Kysely<Schema>;

/** The health columns of a subscription that never failed (a new one, or one enabled again). */
export const HEALTHY = { consecutive_failures: 0, failing_since: null, last_failure_at: null, last_success_at: null, alert_level: 0, disabled_at: null, disabled_by: null } as const;

/** What one batch changes in one subscription's health. */
export interface HealthChange {
  subscriptionUuid: string;
  /** the start of the batch's last successful attempt; null: none succeeded. */
  lastSuccessAt: number | null;
  /** failed attempts after the last success (all of the batch's, without one). */
  failures: number;
  /** the start of the first of those. */
  firstFailureAt: number | null;
  /** the start of the batch's last failed attempt, before or after a success. */
  lastFailureAt: number | null;
}

/** Whether an outcome counts toward its subscription's health (a written attempt of a message with retries). */
export function countsForHealth(record: OutcomeRecord): boolean {
  return record.attempt.countsForHealth !== false;
}

/** The batch's change per subscription, from the records whose write held, in subscription order. */
export function healthChanges(records: readonly OutcomeRecord[], written: readonly boolean[]): HealthChange[] {
  const bySubscription = new Map<string, OutcomeRecord[]>();
  records.forEach((r, i) => {
    if (!written[i] || !countsForHealth(r)) return;
    const list = bySubscription.get(r.attempt.subscriptionUuid) ?? [];
    list.push(r);
    bySubscription.set(r.attempt.subscriptionUuid, list);
  });
  const changes: HealthChange[] = [];
  for (const [subscriptionUuid, list] of bySubscription) {
    const change: HealthChange = { subscriptionUuid, lastSuccessAt: null, failures: 0, firstFailureAt: null, lastFailureAt: null };
    // In the order the attempts started: the batch itself is in row-id order.
    for (const r of [...list].sort((a, b) => a.attempt.startedAt - b.attempt.startedAt)) {
      const at = r.attempt.startedAt;
      if (r.outcome.kind === 'delivered') {
        change.lastSuccessAt = at;
        change.failures = 0;
        change.firstFailureAt = null;
      } else {
        change.failures += 1;
        change.firstFailureAt ??= at;
        change.lastFailureAt = at;
      }
    }
    changes.push(change);
  }
  return changes.sort((a, b) => (a.subscriptionUuid < b.subscriptionUuid ? -1 : a.subscriptionUuid > b.subscriptionUuid ? 1 : 0));
}

/** Writes the changes in the caller's transaction: one UPDATE per subscription, none for a healthy one's successes. */
export async function applyHealthChanges(db: Db, changes: readonly HealthChange[]): Promise<void> {
  for (const c of changes) {
    const row = db.updateTable('webhook_subscriptions').where('uuid', '=', c.subscriptionUuid);
    const lastFailure = c.lastFailureAt === null ? sql<number | null>`last_failure_at` : sql<number>`case when last_failure_at is null or last_failure_at < ${c.lastFailureAt} then ${c.lastFailureAt} else last_failure_at end`;
    if (c.failures === 0) {
      // Only a subscription that was failing is written: healthy ones cost the probe alone.
      await row
        .set({ consecutive_failures: 0, failing_since: null, last_success_at: c.lastSuccessAt, last_failure_at: lastFailure })
        .where((eb) => eb.or([eb('consecutive_failures', '>', 0), eb('failing_since', 'is not', null)]))
        .execute();
    } else if (c.lastSuccessAt !== null) {
      // A success, then failures: the run started after that success.
      await row.set({ consecutive_failures: c.failures, failing_since: c.firstFailureAt, last_success_at: c.lastSuccessAt, last_failure_at: lastFailure }).execute();
    } else {
      await row
        .set((eb) => ({
          consecutive_failures: sql<number>`${eb.ref('consecutive_failures')} + ${c.failures}`,
          failing_since: eb.fn.coalesce('failing_since', sql<number>`${c.firstFailureAt}`),
          last_failure_at: lastFailure,
        }))
        .execute();
    }
  }
}

/** Records the health of a batch written by recordOutcomes: `written[i]` says whether record i's lease held. */
export function recordHealth(db: Db, records: readonly OutcomeRecord[], written: readonly boolean[]): Promise<void> {
  return applyHealthChanges(db, healthChanges(records, written));
}
