/**
 * A batch of outcomes in ONE PostgreSQL statement (issue #14 §3): a round trip per batch instead
 * of two per outcome plus BEGIN and COMMIT. The same rules as recordOutcomes (queue.ts), which
 * SQLite, batches with a 410 in them and outcomes that finish a message of ordered delivery use:
 *
 * - each outcome is written only where `locked_by` is still this worker (invariant 2); the
 *   statement returns the rows it wrote, so each caller learns whether its lease held;
 * - the rows are locked in id order (`locked`), the order the lease heartbeat locks in, so the two
 *   never deadlock (test/delivery/heartbeat-deadlock.test.ts);
 * - a failed message with a retry left goes back `pending` at its retry time, or `held` while its
 *   subscription is disabled; its lane is lowered in the same statement, lanes in subscription
 *   order as every writer of lanes does (lanes.ts).
 *
 * - the subscriptions' health counters (health-counters.ts) change with the outcomes actually
 *   written (`upd`): per subscription the batch's last outcome decides, and a success writes
 *   only a subscription that was failing, so a healthy one costs a probe and no write. Their rows
 *   are locked in uuid order, before the lanes (the order the CTEs are listed and run in).
 *
 * All parts of a data-modifying WITH see one snapshot and run as one atomic statement, so no
 * transaction is needed around it.
 */
import { sql, type Kysely } from 'kysely';
import type { Schema } from '../db/schema.js';
import { countsForHealth } from './health-counters.js';
import { lowerLanes } from './lanes.js';
import { advanceChains, lockChains, type Chain } from './ordering.js';
import { finishedChain, type OutcomeBatchResult, type OutcomeRecord } from './queue.js';

/**
 * A batch split into what one statement can write and the outcomes that finish a keyed message:
 * those advance their chain under an advisory lock taken before anything is read (ordering.ts),
 * which a CTE cannot order, so they take the general path (recordOutcomeBatch) and the other
 * subscriptions' outcomes keep the one statement. Null when the batch has a 410 (it also disables
 * its subscription): all of it takes the general path.
 */
export function splitForOneStatement(records: readonly OutcomeRecord[]): { oneStatement: OutcomeRecord[]; chained: OutcomeRecord[] } | null {
  if (records.some((r) => r.outcome.kind === 'gone')) return null;
  return { oneStatement: records.filter((r) => finishedChain(r) === null), chained: records.filter((r) => finishedChain(r) !== null) };
}

/** Writes the batch (no 'gone' outcomes); returns, per record, whether its lease still held. */
export async function recordOutcomesInOneStatement(db: Kysely<Schema>, workerId: string, records: readonly OutcomeRecord[]): Promise<boolean[]> {
  if (records.length === 0) return [];
  const col = <T>(pick: (r: OutcomeRecord) => T): T[] => records.map(pick);
  const a = (r: OutcomeRecord) => r.attempt;
  const result = await sql<{ id: string | number }>`
    with v as (
      select * from unnest(
        ${col((r) => a(r).rowId)}::bigint[], ${col((r) => a(r).attemptNumber)}::int[], ${col((r) => a(r).startedAt)}::bigint[],
        ${col((r) => a(r).durationMs)}::bigint[], ${col((r) => a(r).statusCode)}::int[], ${col((r) => a(r).errorClass)}::text[],
        ${col((r) => a(r).errorMessage)}::text[], ${col((r) => a(r).responseBody)}::text[], ${col((r) => r.outcome.kind)}::text[],
        ${col((r) => (r.outcome.kind === 'delivered' ? r.outcome.at : null))}::bigint[],
        ${col((r) => (r.outcome.kind === 'failed' ? r.outcome.nextAttemptAt : null))}::bigint[]
      ) as v(id, attempt_number, started_at, duration_ms, status_code, error_class, error_message, response_body, kind, delivered_at, retry_at)
    ),
    locked as (
      select m.id, m.store_id, m.subscription_uuid from webhook_messages m
      where m.id in (select id from v) and m.locked_by = ${workerId}
      order by m.id
      for update
    ),
    upd as (
      update webhook_messages m set
        attempt_count = v.attempt_number,
        last_attempt_at = v.started_at + v.duration_ms,
        locked_by = null,
        locked_until = null,
        status = case
          when v.kind = 'delivered' then 'delivered'
          when v.retry_at is null then 'failed'
          when s.status = 'active' then 'pending'
          else 'held' end,
        delivered_at = case when v.kind = 'delivered' then v.delivered_at else m.delivered_at end,
        next_attempt_at = case when v.kind = 'failed' and s.status = 'active' then v.retry_at end
      from v, locked, webhook_subscriptions s
      where m.id = locked.id and v.id = m.id and s.uuid = m.subscription_uuid and m.locked_by = ${workerId}
      returning m.id, m.store_id, m.subscription_uuid, m.status, m.next_attempt_at
    ),
    attempts as (
      insert into webhook_attempts (message_row_id, store_id, attempt_number, started_at, duration_ms, status_code, error_class, error_message, response_body, worker_id)
      select upd.id, upd.store_id, v.attempt_number, v.started_at, v.duration_ms, v.status_code, v.error_class, v.error_message, v.response_body, ${workerId}
      from upd join v on v.id = upd.id
      order by upd.id
    ),
    ${healthCtes(records)},
    lanes as (
      insert into delivery_lanes (subscription_uuid, next_first_at, next_retry_at)
      select subscription_uuid, null, min(next_attempt_at) from upd
      where status = 'pending' and next_attempt_at is not null
      group by subscription_uuid
      order by subscription_uuid
      on conflict (subscription_uuid) do update set next_retry_at =
        case when delivery_lanes.next_retry_at is null or excluded.next_retry_at < delivery_lanes.next_retry_at then excluded.next_retry_at else delivery_lanes.next_retry_at end
    )
    select id from upd`.execute(db);
  const written = new Set(result.rows.map((r) => Number(r.id)));
  return records.map((r) => written.has(r.attempt.rowId));
}

/** The health counters' part of the statement: the batch per subscription, then one UPDATE of the failing ones. */
function healthCtes(records: readonly OutcomeRecord[]) {
  const counted = records.filter(countsForHealth).map((r) => r.attempt.rowId);
  return sql`
    health_rows as (
      select upd.subscription_uuid as uuid, v.kind, v.started_at,
        max(case when v.kind = 'delivered' then v.started_at end) over (partition by upd.subscription_uuid) as ok_at
      from upd join v on v.id = upd.id
      where upd.id = any(${counted}::bigint[])
    ),
    health as (
      select uuid, max(ok_at) as ok_at,
        count(*) filter (where kind <> 'delivered' and (ok_at is null or started_at > ok_at)) as failures,
        min(started_at) filter (where kind <> 'delivered' and (ok_at is null or started_at > ok_at)) as first_failure,
        max(started_at) filter (where kind <> 'delivered') as last_failure
      from health_rows group by uuid
    ),
    health_locked as (
      select s.uuid from webhook_subscriptions s join health h on h.uuid = s.uuid
      where h.failures > 0 or s.consecutive_failures > 0 or s.failing_since is not null
      order by s.uuid
      -- NO KEY: a message insert's foreign-key check holds KEY SHARE on its subscription, which
      -- FOR UPDATE would wait for (an order's transaction inserting a message while this batch
      -- waits on it, and it on this batch's lane: a deadlock).
      for no key update of s
    ),
    health_write as (
      update webhook_subscriptions s set
        consecutive_failures = case when h.ok_at is null then s.consecutive_failures + h.failures else h.failures end,
        failing_since = case when h.failures = 0 then null when h.ok_at is null then coalesce(s.failing_since, h.first_failure) else h.first_failure end,
        last_failure_at = case when h.last_failure is not null and (s.last_failure_at is null or s.last_failure_at < h.last_failure) then h.last_failure else s.last_failure_at end,
        last_success_at = coalesce(h.ok_at, s.last_success_at)
      from health h join health_locked l on l.uuid = h.uuid
      where s.uuid = h.uuid
    )`;
}

/**
 * Outcomes that finish keyed messages (ordered delivery), in the caller's transaction, in a few
 * round trips whatever their number: the chains' advisory locks first (ordering.ts: before
 * anything is read), then the one-statement batch above, then each chain's next message promoted,
 * then its lane lowered. Every record here is final, so the batch lowers no lane itself: lanes are
 * locked last, after the blocked rows, as in recordOutcomeBatch.
 */
export async function recordChainedOutcomesInTransaction(tx: Kysely<Schema>, workerId: string, records: readonly OutcomeRecord[]): Promise<OutcomeBatchResult> {
  const chains = records.map(finishedChain).filter((c): c is Chain => c !== null);
  await lockChains(tx, chains);
  const held = await recordOutcomesInOneStatement(tx, workerId, records);
  const finished = records.filter((r, i) => held[i] && finishedChain(r) !== null);
  const at = Math.max(0, ...finished.map((r) => r.attempt.startedAt + r.attempt.durationMs));
  const promoted = await advanceChains(tx, finished.map((r) => finishedChain(r)!), at);
  await lowerLanes(tx, promoted);
  return { held, promoted: promoted.length };
}
