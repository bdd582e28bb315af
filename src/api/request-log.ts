/**
 * One log line per request, written once it is answered (Fastify's default is two: one when it
 * arrives, one when it is answered). `off` leaves request lines out; errors are logged anyway.
 * Routes with their own `logLevel` (health and metrics use warn) stay quiet either way.
 */
import type { FastifyInstance } from 'fastify';

export function registerRequestLog(app: FastifyInstance, mode: 'on' | 'off'): void {
  if (mode === 'off') return;
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ req: request, res: { statusCode: reply.statusCode }, responseTime: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
  });
}
