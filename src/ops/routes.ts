/**
 * `GET /healthz` (ready only while the database answers) and `GET /metrics` (Prometheus), on
 * every role. Neither needs credentials: bind the port to a private network in production.
 */
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/connection.js';
import { VERSION } from '../version.js';
import type { Metrics } from './metrics.js';

export interface OpsOptions {
  database: Database;
  metrics: Metrics;
  role: string;
  /** how long a health check may wait for the database. */
  timeoutMs?: number;
}

async function databaseAnswers(database: Database, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sql`select 1`.execute(database.kysely),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

export async function opsRoutes(app: FastifyInstance, options: OpsOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 2000;
  app.get('/healthz', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
    const problem = await databaseAnswers(options.database, timeoutMs);
    const body = { status: problem ? 'unavailable' : 'ok', role: options.role, version: VERSION, database: options.database.dialect, ...(problem ? { error: `database: ${problem}` } : {}) };
    return reply.code(problem ? 503 : 200).send(body);
  });
  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
    try {
      const text = await options.metrics.registry.metrics();
      return reply.type(options.metrics.registry.contentType).send(text);
    } catch (err) {
      return reply.code(503).type('text/plain').send(`# metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  });
}
