/**
 * The query of every catalogue and customer list, built the way `GET /orders` reads its own:
 * `page`/`page_size`, `id=1,2,3`, `<field>-from`/`-to` (any form parseTimeParam reads), `sort`
 * and `expand`. One place, so every list pages and filters alike.
 */
import type { FastifyRequest } from 'fastify';
import { Type, type TOptional, type TString } from 'typebox';
import { commitWatermark } from '../db/commit-clock.js';
import type { Database } from '../db/connection.js';
import { listPage, stampsUsed, type ListableTable, type ResourceListQuery, type ResourcePage } from '../catalogue/list.js';
import { DEFAULT_PAGE_SIZE, listMeta } from './paging.js';
import { parseIdList, parseSort, parseTimeParam } from './query.js';
import type { ListMeta } from './schemas/common.js';

export interface ListShape {
  sortFields: readonly string[];
  rangeFields: readonly string[];
  /** the commit-clock stamps among the range and sort fields (see src/catalogue/list.ts). */
  stampFields: readonly string[];
  /** largest page_size (1000, or 10,000 for the stock ledger as connectors ask). */
  maxPageSize?: number;
}

/** The querystring properties of a list with these ranges (add `expand` and others beside). */
export function listQueryProperties(shape: ListShape): Record<string, TOptional<TString> | ReturnType<typeof Type.Optional>> {
  const max = shape.maxPageSize ?? 1000;
  return {
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'page number, from 1' })),
    page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: max, description: `items per page (default ${DEFAULT_PAGE_SIZE}, max ${max})` })),
    id: Type.Optional(Type.String({ maxLength: 20_000, description: 'several by id: id=1,2,3 (at most 1000)' })),
    sort: Type.Optional(Type.String({ maxLength: 40, description: `${shape.sortFields.map((f) => `${f}-asc|${f}-desc`).join(', ')}; default id-asc` })),
    ...Object.fromEntries(
      shape.rangeFields.flatMap((f) => [
        [`${f}-from`, Type.Optional(Type.String({ maxLength: 40, description: `${f} on or after (inclusive): 2021-03-05T10:00:00+02:00, 2021-03-05T10:00:00 (store's time zone) or 2021-03-05` }))],
        [`${f}-to`, Type.Optional(Type.String({ maxLength: 40, description: `${f} on or before (inclusive): same forms; a date means through its end` }))],
      ]),
    ),
  };
}

type ListRequest = FastifyRequest & { auth: { storeId: number; timezone: string } };

/** Reads one page of `table` for the request; `equals` narrows it (e.g. a product's variations). */
export async function pageFor<T extends ListableTable>(
  database: Database,
  request: ListRequest,
  table: T,
  shape: ListShape,
  equals?: Record<string, string | number>,
): Promise<{ page: ResourcePage<T>; meta: ListMeta }> {
  const q = request.query as Record<string, string | number | undefined>;
  const ranges: ResourceListQuery['ranges'] = {};
  for (const field of shape.rangeFields) {
    const from = parseTimeParam(`${field}-from`, q[`${field}-from`] as string | undefined, request.auth.timezone, 'from');
    const to = parseTimeParam(`${field}-to`, q[`${field}-to`] as string | undefined, request.auth.timezone, 'to');
    if (from !== undefined || to !== undefined) ranges[field] = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
  }
  const pageNumber = (q.page as number | undefined) ?? 1;
  const pageSize = (q.page_size as number | undefined) ?? DEFAULT_PAGE_SIZE;
  const ids = parseIdList('id', q.id as string | undefined);
  const query: ResourceListQuery = {
    ranges,
    sort: parseSort(q.sort as string | undefined, ['id', ...shape.sortFields.filter((f) => f !== 'id')], 'id'),
    page: pageNumber,
    pageSize,
    ...(ids ? { ids } : {}),
    ...(equals ? { equals } : {}),
  };
  const stamps = stampsUsed(query, shape.stampFields);
  if (stamps.length) {
    query.stampColumns = stamps;
    query.stampedBefore = await commitWatermark(database, request.auth.storeId);
  }
  const page = await listPage(database.kysely, table, request.auth.storeId, query);
  return { page, meta: listMeta(request, pageNumber, pageSize, page.itemCount, page.hasMore ? {} : undefined) };
}
