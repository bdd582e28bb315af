/**
 * `GET /healthz` (ready only while the database answers) and `GET /metrics` (Prometheus), on
 * every role. Neither needs credentials: bind the port to a private network in production.
 */
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/connection.js';
import { probeWrite } from '../db/write-probe.js';
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

/** Why the database cannot serve (damage, a full disk, no answer), or null. */
async function databaseProblem(database: Database, timeoutMs: number): Promise<string | null> {
  if (database.health.corruption) return database.health.corruption;
  const unanswered = await databaseAnswers(database, timeoutMs);
  if (unanswered) return unanswered;
  // A full disk was seen: ready again only once a write succeeds.
  if (database.health.diskFullAt !== null) return probeWrite(database);
  return null;
}

export async function opsRoutes(app: FastifyInstance, options: OpsOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 2000;
  app.get('/healthz', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
    const problem = await databaseProblem(options.database, timeoutMs);
    const note = options.database.health.checkNote;
    const body = {
      status: problem ? 'unavailable' : 'ok',
      role: options.role,
      version: VERSION,
      database: options.database.dialect,
      ...(problem ? { error: `database: ${problem}` } : {}),
      ...(note ? { note } : {}),
    };
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
