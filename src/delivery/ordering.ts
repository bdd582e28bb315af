/**
 * Ordered delivery as a chain (issue #17 §4). A message whose producer gave it an `ordering_key`
 * belongs to the chain of that key, whichever subscription it is for: the producer makes the key
 * name everything that shares the chain (the outbox: the store, the receiver's URL and the
 * resource, so one receiver's subscriptions of different topics share each resource's chain;
 * docs/architecture.md and docs/webhooks.md). A chain has at most one unfinished head
 * (pending, in flight included, or held); the messages queued behind it are `blocked`: outside the
 * due indexes, so the claim (claim.ts) never sees them and stays as cheap as ever. When the head
 * reaches a final state (delivered, or failed for good), the oldest blocked message of its chain
 * becomes pending, due at once, in the same transaction as the outcome.
 *
 * The key is opaque here: the producer (webhooks/outbox.ts) decides what it names.
 *
 * PostgreSQL (READ COMMITTED): an enqueue and an outcome of the same chain must not interleave, or
 * a blocked message could be left with nothing ahead of it, or two heads could be pending at once.
 * Both take an advisory lock per chain (lockChains, in hash order) before they read the chain, and
 * hold it to their commit. SQLite runs one write transaction at a time: no lock is needed.
 *
 * An operator can still put a second message of a chain in flight (resend, recover): a chain then
 * advances only once none of its messages is pending or held, so nothing blocked overtakes them.
 * The dispatcher's housekeeping runs repairChains as a safety net, and the operator actions that
 * remove or finish a head (discarding held messages, turning ordering off) run it at once.
 */
import { sql, type Insertable, type Kysely } from 'kysely';
import { advisoryXactLocksOnNames } from '../db/dialect.js';
import type { Schema, WebhookMessagesTable } from '../db/schema.js';
import type { LaneMark } from './lanes.js';

type Db = Kysely<Schema>;

/** One chain: the messages with one ordering key, of one or more subscriptions. */
export interface Chain {
  orderingKey: string;
}

/** The class of the chains' advisory locks ('ORDR'); the object is a hash of the chain. */
const CHAIN_LOCK = 0x4f524452;

const chainName = (c: Chain) => c.orderingKey;

function distinctChains(chains: readonly Chain[]): Chain[] {
  const seen = new Map<string, Chain>();
  for (const c of chains) seen.set(chainName(c), c);
  return [...seen.values()];
}

/** PostgreSQL: locks these chains until the transaction ends (see the file comment). */
export function lockChains(db: Db, chains: readonly Chain[]): Promise<void> {
  return advisoryXactLocksOnNames(db, CHAIN_LOCK, chains.map(chainName));
}

/** `m.ordering_key in (…)` for these chains. */
function inChains(alias: string, chains: readonly Chain[]) {
  return sql`${sql.ref(`${alias}.ordering_key`)} in (${sql.join(chains.map((c) => c.orderingKey))})`;
}

/**
 * PostgreSQL: locks every chain a subscription has unfinished messages in, before an operator
 * action (discard, delete, ordering off) changes them: the same lock-then-rows order as an
 * enqueue or an outcome, so the action and a chain's outcome never wait on each other in a cycle.
 */
export async function lockChainsOf(db: Db, subscriptionUuid: string): Promise<void> {
  const keys = await db
    .selectFrom('webhook_messages')
    .select('ordering_key')
    .distinct()
    .where('subscription_uuid', '=', subscriptionUuid)
    .where('ordering_key', 'is not', null)
    .where('status', 'in', ['pending', 'held', 'blocked'])
    .execute();
  await lockChains(db, keys.map((k) => ({ orderingKey: k.ordering_key! })));
}

/** Of these chains, those with an unfinished message (pending, held or blocked). */
async function busyChains(db: Db, chains: readonly Chain[]): Promise<Set<string>> {
  const rows = await sql<{ ordering_key: string }>`
    select distinct m.ordering_key from webhook_messages m
    where ${inChains('m', chains)} and m.status in ('pending', 'held', 'blocked')`.execute(db);
  return new Set(rows.rows.map((r) => chainName({ orderingKey: r.ordering_key })));
}

/**
 * New message rows, with those that must wait made `blocked`: a keyed row whose chain already has
 * an unfinished message, or an earlier row of the same chain in this batch. Locks the chains first
 * (PostgreSQL), so call it inside the transaction that inserts the rows.
 */
export async function chainNewRows(db: Db, rows: readonly Insertable<WebhookMessagesTable>[]): Promise<Insertable<WebhookMessagesTable>[]> {
  const chains = distinctChains(rows.filter((r) => typeof r.ordering_key === 'string').map((r) => ({ orderingKey: r.ordering_key! })));
  if (chains.length === 0) return [...rows];
  await lockChains(db, chains);
  const busy = await busyChains(db, chains);
  return rows.map((r) => {
    if (typeof r.ordering_key !== 'string') return r;
    const name = chainName({ orderingKey: r.ordering_key });
    if (busy.has(name)) return { ...r, status: 'blocked', next_attempt_at: null };
    // The next row of this chain in the same batch waits behind this one.
    busy.add(name);
    return r;
  });
}

/** The status a promoted message takes: held while its subscription is disabled. */
const PROMOTED_STATUS = sql<'pending' | 'held'>`case when (select s.status from webhook_subscriptions s where s.uuid = webhook_messages.subscription_uuid) = 'active' then 'pending' else 'held' end`;

function promotedAt(at: number) {
  return sql<number | null>`case when (select s.status from webhook_subscriptions s where s.uuid = webhook_messages.subscription_uuid) = 'active' then cast(${at} as bigint) else null end`;
}

/**
 * For each of these chains with no pending or held message left, its oldest blocked message
 * becomes pending, due at `now` (held if its subscription is disabled). Returns the lane marks of
 * the messages made due: the caller lowers the lanes (lanes.ts) in the same transaction, after
 * every other write, as every writer of lanes does. The chains must be locked (lockChains).
 */
export async function advanceChains(db: Db, chains: readonly Chain[], now: number): Promise<LaneMark[]> {
  const distinct = distinctChains(chains);
  if (distinct.length === 0) return [];
  // Literal statuses: SQLite uses a partial index only when it can see the query implies its WHERE.
  const promoted = await sql<{ subscription_uuid: string; attempt_count: number; status: string; next_attempt_at: number | null }>`
    update webhook_messages set status = ${PROMOTED_STATUS}, next_attempt_at = ${promotedAt(now)}
    where id in (
      select min(b.id) from webhook_messages b
      where b.status = ${sql.lit('blocked')} and ${inChains('b', distinct)}
      group by b.ordering_key)
    and not exists (
      select 1 from webhook_messages o
      where o.ordering_key = webhook_messages.ordering_key and o.status in ('pending', 'held'))
    returning subscription_uuid, attempt_count, status, next_attempt_at`.execute(db);
  return promoted.rows
    .filter((r) => r.status === 'pending' && r.next_attempt_at !== null)
    .map((r) => {
      const at = Number(r.next_attempt_at);
      return Number(r.attempt_count) > 0 ? { subscriptionUuid: r.subscription_uuid, firstAt: null, retryAt: at } : { subscriptionUuid: r.subscription_uuid, firstAt: at, retryAt: null };
    });
}

/** How many chains the safety net repairs per run at most (the rest on the next run). */
const REPAIR_BATCH = 500;

/**
 * Chains with blocked messages and no pending or held one, oldest first: what repairChains fixes.
 * Read without the lock; advanceChains checks again under it.
 */
export async function strandedChains(db: Db): Promise<Chain[]> {
  const rows = await sql<{ ordering_key: string }>`
    select b.ordering_key from webhook_messages b
    where b.status = ${sql.lit('blocked')}
      and not exists (
        select 1 from webhook_messages o
        where o.ordering_key = b.ordering_key and o.status in ('pending', 'held'))
    group by b.ordering_key
    order by min(b.id)
    limit ${REPAIR_BATCH}`.execute(db);
  return rows.rows.map((r) => ({ orderingKey: r.ordering_key }));
}

/**
 * The safety net: every chain that has blocked messages and nothing pending or held gets its
 * oldest blocked one promoted (a chain may span subscriptions, so this looks at all of them; the
 * blocked rows are few and have an index of their own). Run inside a transaction; returns the
 * lane marks to lower (the caller lowers them last).
 */
export async function repairChainsIn(db: Db, now: number): Promise<LaneMark[]> {
  const chains = await strandedChains(db);
  if (chains.length === 0) return [];
  await lockChains(db, chains);
  return advanceChains(db, chains, now);
}
