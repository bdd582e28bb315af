/**
 * Times every answered HTTP request into `storehook_http_request_duration_seconds`, labelled by
 * the route pattern (`/api/v1/orders/:id`), never the raw URL, so the number of series stays
 * bounded: requests that match no route (404s to any path) share one label value. Health and
 * metrics requests are counted too: they are two fixed routes, and a slow `/healthz` is worth seeing.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

export const UNMATCHED_ROUTE = '(unmatched)';

/** Install before any route is registered: Fastify gives a route the hooks that exist when it is added. */
export function timeRequests(app: FastifyInstance, metrics: Pick<Metrics, 'onRequest'>): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    metrics.onRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
}
