/** The list envelope's `meta` (SPEC §1): `next` only when another page exists. */
import type { FastifyRequest } from 'fastify';
import type { ListMeta } from './schemas/common.js';

export const DEFAULT_PAGE_SIZE = 50;

/** The same request URL with some query parameters replaced, absolute. */
export function urlWith(request: FastifyRequest, changes: Record<string, string | undefined>): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) url.searchParams.delete(key);
    else url.searchParams.set(key, value);
  }
  return url.toString();
}

export function listMeta(
  request: FastifyRequest,
  page: number,
  pageSize: number,
  itemCount: number,
  next?: Record<string, string | undefined>,
): ListMeta {
  return {
    page,
    page_size: pageSize,
    page_count: Math.ceil(itemCount / pageSize),
    item_count: itemCount,
    ...(next ? { next: urlWith(request, { page: String(page + 1), page_size: String(pageSize), ...next }) } : {}),
  };
}
