/**
 * The per-resource `sequence` every message carries (issue #17 §4): an order's (or a product's,
 * stock item's, customer's) events are numbered 1, 2, 3, … in the order they were committed, so a
 * consumer can drop an update older than one it already has. The numbers are taken with one
 * upsert per change, inside the change's transaction: on PostgreSQL the upsert locks the
 * resource's row until commit, so two changes of one resource number in commit order.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Tx } from '../db/transaction.js';

/** A resource whose events a change publishes, and how many. */
export interface SequenceClaim {
  storeId: number;
  resource: string;
  resourceId: number;
  count: number;
}

const keyOf = (c: Pick<SequenceClaim, 'storeId' | 'resource' | 'resourceId'>) => `${c.storeId}/${c.resource}/${c.resourceId}`;

/**
 * Takes `count` numbers for each resource in one statement; answers each resource's first number
 * (the events then take first, first + 1, …, in the order the change lists them).
 */
export async function takeSequences(tx: Tx, claims: readonly SequenceClaim[]): Promise<Map<string, number>> {
  const merged = new Map<string, SequenceClaim>();
  for (const c of claims) {
    const seen = merged.get(keyOf(c));
    merged.set(keyOf(c), seen ? { ...seen, count: seen.count + c.count } : c);
  }
  // Resources in one order everywhere, so two changes never wait on each other's rows in a cycle.
  const rows = [...merged.values()].sort((a, b) => a.storeId - b.storeId || (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0) || a.resourceId - b.resourceId);
  if (rows.length === 0) return new Map();
  const taken = await tx.db
    .insertInto('resource_sequences')
    .values(rows.map((c) => ({ store_id: c.storeId, resource: c.resource, resource_id: c.resourceId, last_sequence: c.count })))
    .onConflict((oc) => oc.columns(['store_id', 'resource', 'resource_id']).doUpdateSet({ last_sequence: sql<number>`resource_sequences.last_sequence + excluded.last_sequence` }))
    .returning(['store_id', 'resource', 'resource_id', 'last_sequence'])
    .execute();
  const first = new Map<string, number>();
  for (const t of taken) {
    const key = keyOf({ storeId: Number(t.store_id), resource: t.resource, resourceId: Number(t.resource_id) });
    first.set(key, Number(t.last_sequence) - merged.get(key)!.count + 1);
  }
  return first;
}

/** The key takeSequences answers by. */
export function sequenceKey(storeId: number, resource: string, resourceId: number): string {
  return keyOf({ storeId, resource, resourceId });
}

/**
 * The ordering key of a resource's messages for a subscription with ordering 'per_order': one chain
 * per store, receiver URL and resource, so the messages about one order go to one receiver one at
 * a time whichever of its per_order subscriptions they belong to (its `order.created` before its
 * `order.updated`). The URL is hashed to keep the key short; changing a subscription's URL starts
 * new chains for its later messages.
 */
export function orderingKeyOf(storeId: number, url: string, resource: string, resourceId: number): string {
  const receiver = createHash('sha256').update(url).digest('hex').slice(0, 16);
  return `${storeId}:${receiver}:${resource}:${resourceId}`;
}
