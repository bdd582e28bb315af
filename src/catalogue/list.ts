/**
 * `GET` on every catalogue and customer list: `id=1,2,3`, `<field>-from/-to` ranges, `sort`, and
 * page/page_size paging, always scoped by store. A range or sort on a commit-clock stamp answers
 * only stamps strictly below the watermark (src/db/commit-clock.ts), as orders do, so a client
 * that resumes from the last stamp it saw never misses a change that committed late.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Schema } from '../db/schema.js';

export type ListableTable = 'products' | 'variations' | 'customers' | 'stock_changes' | 'stock_items' | 'brands' | 'suppliers' | 'categories' | 'customer_groups' | 'campaigns' | 'versions' | 'payment_methods' | 'shipping_methods';

export interface ResourceListQuery {
  ids?: number[];
  /** inclusive bounds in epoch ms, by column. */
  ranges: Record<string, { from?: number; to?: number }>;
  sort: { field: string; direction: 'asc' | 'desc' };
  page: number;
  pageSize: number;
  /** exact-match filters (e.g. a product's id for its variations). */
  equals?: Record<string, string | number>;
  /** answer only rows whose `stampColumns` are below this (see the module comment). */
  stampedBefore?: number;
  stampColumns?: readonly string[];
}

export interface ResourcePage<T extends ListableTable> {
  rows: Selectable<Schema[T]>[];
  itemCount: number;
  hasMore: boolean;
}

/** Which of `stamps` a query filters or sorts by: those need the watermark. */
export function stampsUsed(query: Pick<ResourceListQuery, 'ranges' | 'sort'>, stamps: readonly string[]): string[] {
  return stamps.filter((f) => query.sort.field === f || query.ranges[f] !== undefined);
}

export async function listPage<T extends ListableTable>(db: Kysely<Schema>, table: T, storeId: number, query: ResourceListQuery): Promise<ResourcePage<T>> {
  const { ref } = db.dynamic;
  // One code path for every table: the columns are named at run time, checked by the callers'
  // allowed lists (sort and range fields come from fixed sets, never from raw input).
  let base = db.selectFrom(table as ListableTable).where(ref('store_id'), '=', storeId);
  for (const [field, range] of Object.entries(query.ranges)) {
    if (range.from !== undefined) base = base.where(ref(field), '>=', range.from);
    if (range.to !== undefined) base = base.where(ref(field), '<=', range.to);
  }
  for (const [field, value] of Object.entries(query.equals ?? {})) base = base.where(ref(field), '=', value);
  if (query.stampedBefore !== undefined) {
    for (const field of query.stampColumns ?? []) base = base.where(ref(field), '<', query.stampedBefore);
  }
  if (query.ids) base = base.where(ref('id'), 'in', query.ids);
  const count = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await base
    .selectAll()
    .orderBy(ref(query.sort.field), query.sort.direction)
    .orderBy(ref('id'), query.sort.direction)
    .offset((query.page - 1) * query.pageSize)
    .limit(query.pageSize + 1)
    .execute();
  const hasMore = rows.length > query.pageSize;
  return { rows: (hasMore ? rows.slice(0, query.pageSize) : rows) as unknown as Selectable<Schema[T]>[], itemCount: Number(count.n), hasMore };
}
