/**
 * One log line per request, written once it is answered, instead of Fastify's two (one when it
 * arrives, one when it is answered). `off` leaves the request lines out; errors Fastify logs
 * itself (a failed response, a stream error) are still logged. Routes with their own `logLevel`
 * (health and metrics use warn) stay quiet either way.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

export class RequestLog extends LogController {
  constructor(private readonly mode: 'on' | 'off') {
    super();
  }

  override incomingRequest(): void {
    // the completed line says it all
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return super.requestCompleted(error, request, reply);
    if (this.mode === 'off') return;
    reply.log.info({ req: request, res: { statusCode: reply.statusCode }, responseTime: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
  }
}
