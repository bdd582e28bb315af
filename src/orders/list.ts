/**
 * `GET /orders`: filters, sorting and paging. Pages are offsets for `page`, but the `next` link
 * carries a keyset cursor (the last row's sort value and id): a client that follows `next` never
 * skips an order that changed while it paged, and never loops on a run of equal `updated_at`s.
 */
import { type Kysely, type SelectQueryBuilder } from 'kysely';
import type { OrderRow, OrderStatus, Schema } from '../db/schema.js';
import { invalid } from '../errors.js';

export const ORDER_SORT_FIELDS = ['id', 'created_at', 'updated_at'] as const;
export type OrderSortField = (typeof ORDER_SORT_FIELDS)[number];
export const ORDER_RANGE_FIELDS = ['created_at', 'updated_at', 'archived_at', 'shipments_completed_at'] as const;
export type OrderRangeField = (typeof ORDER_RANGE_FIELDS)[number];

export interface OrderListQuery {
  ranges: Partial<Record<OrderRangeField, { from?: number; to?: number }>>;
  status?: OrderStatus;
  ids?: number[];
  sort: { field: OrderSortField; direction: 'asc' | 'desc' };
  page: number;
  pageSize: number;
  /** continue after this row (from a `next` link) instead of skipping `(page-1)*pageSize` rows. */
  after?: Cursor;
  /**
   * The commit clock's watermark (src/db/commit-clock.ts): answer only rows whose `stampColumns`
   * are strictly below it, so no change stamped at or before a time this answer shows can commit
   * after it. Set it whenever `stampColumns(query)` is not empty.
   */
  stampedBefore?: number;
}

/** The commit-clock stamps clients sync by. */
export type OrderStampField = 'created_at' | 'updated_at';

/** The stamps a query sorts or filters by: a client may resume from them, so they need the watermark. */
export function stampColumns(query: Pick<OrderListQuery, 'ranges' | 'sort'>): OrderStampField[] {
  return (['created_at', 'updated_at'] as const).filter((f) => query.sort.field === f || query.ranges[f] !== undefined);
}

export interface Cursor {
  value: number;
  id: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.value}:${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): Cursor {
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const m = /^(\d{1,16}):(\d{1,16})$/.exec(text);
  if (!m) throw invalid('cursor', 'is not a cursor this API issued; follow meta.next as it is, or drop the parameter');
  return { value: Number(m[1]), id: Number(m[2]) };
}

type OrdersQuery = SelectQueryBuilder<Schema, 'orders', object>;

function applyFilters(q: OrdersQuery, storeId: number, query: OrderListQuery): OrdersQuery {
  let out = q.where('store_id', '=', storeId);
  for (const field of ORDER_RANGE_FIELDS) {
    const range = query.ranges[field];
    if (range?.from !== undefined) out = out.where(field, '>=', range.from);
    if (range?.to !== undefined) out = out.where(field, '<=', range.to);
  }
  if (query.stampedBefore !== undefined) {
    for (const field of stampColumns(query)) out = out.where(field, '<', query.stampedBefore);
  }
  if (query.status) out = out.where('status', '=', query.status);
  if (query.ids) out = out.where('id', 'in', query.ids);
  return out;
}

export interface OrderPage {
  rows: OrderRow[];
  itemCount: number;
  /** the cursor for the next page, when there is one. */
  nextCursor?: Cursor;
}

export async function listOrders(db: Kysely<Schema>, storeId: number, query: OrderListQuery): Promise<OrderPage> {
  const { field, direction } = query.sort;
  const base = applyFilters(db.selectFrom('orders'), storeId, query);
  const countRow = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const itemCount = Number(countRow.n);

  let rowsQuery = base.selectAll();
  if (query.after) {
    const { value, id } = query.after;
    const op = direction === 'asc' ? '>' : '<';
    rowsQuery =
      field === 'id'
        ? rowsQuery.where('id', op, id)
        : rowsQuery.where((eb) => eb.or([eb(field, op, value), eb.and([eb(field, '=', value), eb('id', op, id)])]));
  } else {
    rowsQuery = rowsQuery.offset((query.page - 1) * query.pageSize);
  }
  // id breaks ties, so equal timestamps have one stable order and the cursor always advances.
  const rows = await rowsQuery
    .orderBy(field, direction)
    .orderBy('id', direction)
    .limit(query.pageSize + 1)
    .execute();
  const hasMore = rows.length > query.pageSize;
  const page = hasMore ? rows.slice(0, query.pageSize) : rows;
  const last = page[page.length - 1];
  return {
    rows: page,
    itemCount,
    ...(hasMore && last ? { nextCursor: { value: last[field], id: last.id } } : {}),
  };
}

