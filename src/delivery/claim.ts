/**
 * The claim: takes due messages under a lease, lane by lane (lanes.ts). It reads the due lanes, at
 * most one per free slot, then at most each lane's headroom of its oldest due messages, so its cost
 * depends on the slots it fills, not on the queue's size nor on the backlog of subscriptions that
 * are full, slow or dead (ARCHITECTURE invariant 7).
 *
 * A claim sets `locked_by` and pushes `next_attempt_at` to the end of the lease, so a message whose
 * worker died becomes due again when its lease runs out (and its lane says so). First attempts and
 * retries are claimed separately, each from its own lane time and partial index.
 *
 * PostgreSQL: one statement per claim (lanes locked `SKIP LOCKED`, so concurrent workers take
 * different lanes; messages joined to their subscription's URL; the lanes set right). SQLite: the
 * same steps in one write transaction, each an index probe, in the dispatcher's own thread.
 */
import { sql } from 'kysely';
import type { Database } from '../db/connection.js';
import { inTransaction } from '../db/transaction.js';
import { earliestPending, laneColumn, settleLanes, type LaneKind } from './lanes.js';
import type { ClaimedMessage } from './queue.js';

export type ClaimKind = LaneKind;

export interface ClaimOptions {
  workerId: string;
  now: number;
  leaseMs: number;
  /** messages to claim at most (the free slots). */
  limit: number;
  kind: ClaimKind;
  /** messages one subscription may be given by one claim at most (its in-flight cap). */
  perLane: number;
  /** subscriptions with less room than `perLane` here, and their room (0: leave the lane alone). */
  room: ReadonlyMap<string, number>;
}

const CLAIMED_COLUMNS = ['id', 'message_id', 'store_id', 'subscription_uuid', 'topic', 'body', 'attempt_count', 'schedule_base', 'created_at', 'content_type', 'max_attempts', 'ordering_key'] as const;

export interface ClaimResult {
  /** oldest first. */
  messages: ClaimedMessage[];
  /** lanes looked at: as many as `limit` means more may be due. */
  lanes: number;
}

export async function claimDue(database: Database, o: ClaimOptions): Promise<ClaimResult> {
  if (o.limit <= 0 || o.perLane <= 0) return { messages: [], lanes: 0 };
  const result = database.dialect === 'postgres' ? await claimOnPostgres(database, o) : await claimOnSqlite(database, o);
  result.messages.sort((a, b) => a.created_at - b.created_at || a.id - b.id);
  return result;
}

function roomOf(o: ClaimOptions, sub: string): number {
  return Math.min(o.perLane, o.room.get(sub) ?? o.perLane);
}

async function claimOnSqlite(database: Database, o: ClaimOptions): Promise<ClaimResult> {
  const column = laneColumn(o.kind);
  const full = [...o.room].filter(([, room]) => room <= 0).map(([sub]) => sub);
  const leaseEnd = o.now + o.leaseMs;
  return inTransaction(database, async ({ db }) => {
    let lanes = db.selectFrom('delivery_lanes').select('subscription_uuid').where(column, '<=', o.now).orderBy(column).limit(o.limit);
    if (full.length) lanes = lanes.where('subscription_uuid', 'not in', full);
    const due = await lanes.execute();
    if (due.length === 0) return { messages: [], lanes: 0 };
    const ids: number[] = [];
    for (const { subscription_uuid: sub } of due) {
      const take = Math.min(roomOf(o, sub), o.limit - ids.length);
      if (take <= 0) break;
      const rows = await db
        .selectFrom('webhook_messages as m')
        .select('m.id')
        .where('m.subscription_uuid', '=', sub)
        .where('m.status', '=', sql.lit('pending'))
        .where('m.attempt_count', o.kind === 'first' ? '=' : '>', sql.lit(0))
        .where('m.next_attempt_at', '<=', o.now)
        .orderBy('m.next_attempt_at')
        .limit(take)
        .execute();
      for (const r of rows) ids.push(r.id);
    }
    const claimed = ids.length
      ? await db
          .updateTable('webhook_messages')
          .set({ locked_by: o.workerId, locked_until: leaseEnd, next_attempt_at: leaseEnd })
          .where('id', 'in', ids)
          .returning([...CLAIMED_COLUMNS])
          .execute()
      : [];
    const subs = claimed.length
      ? await db.selectFrom('webhook_subscriptions').select(['uuid', 'url', 'status']).where('uuid', 'in', [...new Set(claimed.map((c) => c.subscription_uuid))]).execute()
      : [];
    const activeUrl = new Map(subs.filter((s) => s.status === 'active').map((s) => [s.uuid, s.url]));
    // Disabled between the message's commit and this claim: hold it, as the disable would have.
    const strays = claimed.filter((c) => !activeUrl.has(c.subscription_uuid)).map((c) => c.id);
    if (strays.length) await db.updateTable('webhook_messages').set({ status: 'held', next_attempt_at: null, locked_by: null, locked_until: null }).where('id', 'in', strays).execute();
    await settleLanes(db, o.kind, due.map((l) => l.subscription_uuid));
    const messages = claimed.filter((c) => activeUrl.has(c.subscription_uuid)).map((c) => ({ ...c, url: activeUrl.get(c.subscription_uuid)! }));
    return { messages, lanes: due.length };
  });
}

async function claimOnPostgres(database: Database, o: ClaimOptions): Promise<ClaimResult> {
  const column = sql.ref(laneColumn(o.kind));
  const attempts = o.kind === 'first' ? sql`m.attempt_count = 0` : sql`m.attempt_count > 0`;
  const full = [...o.room].filter(([, room]) => room <= 0).map(([sub]) => sub);
  const busy = [...o.room].filter(([, room]) => room > 0 && room < o.perLane);
  const leaseEnd = o.now + o.leaseMs;
  const chosenIds = sql`select id from chosen`;
  const result = await sql<ClaimedMessage & { lanes: number }>`
    with lane as (
      select subscription_uuid, ${column} as due from delivery_lanes
      where ${column} <= ${o.now} and not (subscription_uuid = any(${full}::text[]))
      order by ${column}
      limit ${o.limit}
      for update skip locked
    ),
    candidate as (
      select c.id, c.subscription_uuid, l.due,
             row_number() over (partition by c.subscription_uuid order by c.next_attempt_at, c.id) as rn
      from lane l
      cross join lateral (
        select m.id, m.subscription_uuid, m.next_attempt_at from webhook_messages m
        where m.subscription_uuid = l.subscription_uuid and m.status = 'pending' and ${attempts} and m.next_attempt_at <= ${o.now}
        order by m.next_attempt_at
        limit ${o.perLane}
        for update skip locked
      ) c
    ),
    chosen as (
      select c.id, c.subscription_uuid from candidate c
      left join unnest(${busy.map(([s]) => s)}::text[], ${busy.map(([, r]) => r)}::int[]) as b(subscription_uuid, room) on b.subscription_uuid = c.subscription_uuid
      where c.rn <= coalesce(b.room, ${o.perLane})
      order by c.rn, c.due, c.subscription_uuid
      limit ${o.limit}
    ),
    claimed as (
      update webhook_messages m set locked_by = ${o.workerId}, locked_until = ${leaseEnd}, next_attempt_at = ${leaseEnd}
      from chosen, webhook_subscriptions s
      where m.id = chosen.id and s.uuid = m.subscription_uuid and s.status = 'active'
      returning ${sql.join(CLAIMED_COLUMNS.map((c) => sql.ref(`m.${c}`)))}, s.url
    ),
    stray as (
      update webhook_messages m set status = 'held', next_attempt_at = null
      from chosen, webhook_subscriptions s
      where m.id = chosen.id and s.uuid = m.subscription_uuid and s.status <> 'active'
      returning m.id
    ),
    settled as (
      update delivery_lanes d set ${column} = least(
        ${earliestPending(o.kind, 'd.subscription_uuid', chosenIds)},
        (select ${leaseEnd}::bigint where exists (select 1 from chosen where chosen.subscription_uuid = d.subscription_uuid)))
      from lane where d.subscription_uuid = lane.subscription_uuid
      returning d.subscription_uuid
    )
    select (select count(*) from settled) as lanes, claimed.* from (select 1) as one left join claimed on true`.execute(database.kysely);
  // One row even when nothing was claimed, to carry the lane count.
  const lanes = Number(result.rows[0]?.lanes ?? 0);
  const messages = result.rows.filter((r) => r.id !== null).map(({ lanes: _, ...m }) => m);
  return { messages, lanes };
}
