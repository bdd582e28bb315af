/**
 * Delivery lanes: one row per subscription with queued work, holding the earliest time a first
 * attempt (`next_first_at`) and a retry (`next_retry_at`) of its may be due (migration 0008).
 *
 * The rule that keeps them right: a lane's times are never later than the truth. Every write that
 * makes a message due lowers its lane (`lowerLanes`, `lowerLanesFromQueue`) in the same
 * transaction; only a claim, holding the lane, sets it to the exact time again. A lane that is
 * earlier than the truth (its message was delivered, a lease was renewed) costs one look when it
 * falls due, and that look corrects it.
 *
 * PostgreSQL: writers lower a lane with an upsert, which waits for a claim holding that lane; the
 * claim reads the queue, then sets the lane, and commits before the writer's `lesser()` applies, so
 * a message committed during a claim is never hidden behind a later lane time. Lanes are written
 * in subscription order, so two writers never wait on each other in a cycle.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Schema } from '../db/schema.js';

type Db = Kysely<Schema>;

export type LaneKind = 'first' | 'retry';

/** A subscription's messages became due at these times (null: none of that kind). */
export interface LaneMark {
  subscriptionUuid: string;
  firstAt: number | null;
  retryAt: number | null;
}

/** The lane column of a kind. */
export function laneColumn(kind: LaneKind): 'next_first_at' | 'next_retry_at' {
  return kind === 'first' ? 'next_first_at' : 'next_retry_at';
}

/** The earlier of two nullable times; null only when both are (`least`/`min` differ per dialect). */
function lesser(a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<number | null> {
  return sql<number | null>`case when ${a} is null then ${b} when ${b} is null or ${a} <= ${b} then ${a} else ${b} end`;
}

function minOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/** Lowers (or creates) the lanes of `marks` to their times; never raises one. */
export async function lowerLanes(db: Db, marks: readonly LaneMark[]): Promise<void> {
  const bySub = new Map<string, LaneMark>();
  for (const m of marks) {
    if (m.firstAt === null && m.retryAt === null) continue;
    const seen = bySub.get(m.subscriptionUuid);
    bySub.set(m.subscriptionUuid, seen ? { subscriptionUuid: m.subscriptionUuid, firstAt: minOf(seen.firstAt, m.firstAt), retryAt: minOf(seen.retryAt, m.retryAt) } : m);
  }
  if (bySub.size === 0) return;
  const rows = [...bySub.values()]
    .sort((a, b) => (a.subscriptionUuid < b.subscriptionUuid ? -1 : a.subscriptionUuid > b.subscriptionUuid ? 1 : 0))
    .map((m) => ({ subscription_uuid: m.subscriptionUuid, next_first_at: m.firstAt, next_retry_at: m.retryAt }));
  await db
    .insertInto('delivery_lanes')
    .values(rows)
    .onConflict((oc) =>
      oc.column('subscription_uuid').doUpdateSet({
        next_first_at: lesser(sql.ref('excluded.next_first_at'), sql.ref('delivery_lanes.next_first_at')),
        next_retry_at: lesser(sql.ref('excluded.next_retry_at'), sql.ref('delivery_lanes.next_retry_at')),
      }),
    )
    .execute();
}

/** The earliest due time of a subscription's pending messages of one kind, as an SQL expression (one index probe). */
export function earliestPending(kind: LaneKind, subscriptionRef: string, except?: RawBuilder<unknown>): RawBuilder<number | null> {
  // Literals, not parameters: SQLite uses the partial index webhook_messages_lane_* only when it
  // can see that the query implies the index's WHERE.
  const attempts = kind === 'first' ? sql`m.attempt_count = ${sql.lit(0)}` : sql`m.attempt_count > ${sql.lit(0)}`;
  const skip = except ? sql` and m.id not in (${except})` : sql``;
  return sql<number | null>`(select min(m.next_attempt_at) from webhook_messages m where m.subscription_uuid = ${sql.ref(subscriptionRef)} and m.status = ${sql.lit('pending')} and ${attempts}${skip})`;
}

/**
 * Lowers the lanes of these subscriptions to their earliest pending messages, read from the queue:
 * for writes that change many messages at once (enable, recover, release).
 */
export async function lowerLanesFromQueue(db: Db, subscriptionUuids: readonly string[]): Promise<void> {
  if (subscriptionUuids.length === 0) return;
  const subs = [...new Set(subscriptionUuids)].sort();
  await sql`
    insert into delivery_lanes (subscription_uuid, next_first_at, next_retry_at)
    select s.uuid, ${earliestPending('first', 's.uuid')}, ${earliestPending('retry', 's.uuid')}
    from webhook_subscriptions s
    where s.uuid in (${sql.join(subs)})
    order by s.uuid
    on conflict (subscription_uuid) do update set
      next_first_at = ${lesser(sql.ref('excluded.next_first_at'), sql.ref('delivery_lanes.next_first_at'))},
      next_retry_at = ${lesser(sql.ref('excluded.next_retry_at'), sql.ref('delivery_lanes.next_retry_at'))}`.execute(db);
}

/** Sets these lanes' time of one kind to the truth (the claim, holding them, after it took its messages). */
export async function settleLanes(db: Db, kind: LaneKind, subscriptionUuids: readonly string[]): Promise<void> {
  if (subscriptionUuids.length === 0) return;
  const column = laneColumn(kind);
  await sql`update delivery_lanes set ${sql.ref(column)} = ${earliestPending(kind, 'delivery_lanes.subscription_uuid')}
    where subscription_uuid in (${sql.join([...subscriptionUuids])})`.execute(db);
}

/** The earliest time anything is due, from the lanes (one index probe per kind). */
export async function earliestLaneTime(db: Db): Promise<number | null> {
  const times: number[] = [];
  for (const column of ['next_first_at', 'next_retry_at'] as const) {
    const row = await db.selectFrom('delivery_lanes').select((eb) => eb.fn.min(column).as('at')).executeTakeFirst();
    if (row?.at !== null && row?.at !== undefined) times.push(Number(row.at));
  }
  return times.length ? Math.min(...times) : null;
}
