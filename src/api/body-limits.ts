/**
 * The largest body each route accepts (docs/api.md, "Limits"), applied to every route that does
 * not set its own `bodyLimit`. An order may carry 500 products and its custom data, so order
 * writes keep 1 MiB; everything else holds a few fields and gets far less, which bounds what a
 * hostile client makes the server parse. Past the limit: 413 naming it.
 */
import type { RouteOptions } from 'fastify';

const KiB = 1024;
const MiB = 1024 * KiB;

/** The default for a route not listed below (the server-wide `bodyLimit`). */
export const DEFAULT_BODY_LIMIT = 1 * MiB;

const LIMITS: { method: string; path: RegExp; limit: number; what: string }[] = [
  { method: 'POST', path: /^\/api\/v[01]\/orders$/, limit: 1 * MiB, what: 'create an order' },
  { method: 'PATCH', path: /^\/api\/v[01]\/orders\/:id$/, limit: 1 * MiB, what: 'change an order' },
  { method: 'POST', path: /^\/api\/v[01]\/orders\/:id\/comments$/, limit: 128 * KiB, what: 'add a comment (text ≤ 10,000 characters)' },
  { method: '*', path: /^\/api\/v[01]\/orders\//, limit: 16 * KiB, what: 'order actions (cancel, quick-process, complete, payments)' },
  { method: '*', path: /^\/api\/v1\/webhooks/, limit: 16 * KiB, what: 'the Webhooks API' },
  { method: '*', path: /^\/webhooks\//, limit: 1 * MiB, what: 'the legacy XML actions' },
  { method: '*', path: /^\/(?!api\/|webhooks\/)/, limit: 64 * KiB, what: 'dashboard forms' },
];

export function bodyLimitFor(method: string, url: string): number {
  return LIMITS.find((l) => (l.method === '*' || l.method === method) && l.path.test(url))?.limit ?? DEFAULT_BODY_LIMIT;
}

/** An `onRoute` hook: gives each route its limit unless the route chose one itself. */
export function assignBodyLimit(route: RouteOptions): void {
  if (route.bodyLimit !== undefined) return;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  route.bodyLimit = Math.max(...methods.map((m) => bodyLimitFor(m, route.url ?? '')));
}
