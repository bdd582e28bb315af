/**
 * HTTP Basic authentication (username = API user's e-mail, password = API key), the plan gate,
 * the per-user rate limit, and the per-address limit on failed logins. Runs before the body is
 * parsed, so an unauthenticated client cannot make the server read a large body.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiKeyMatches } from '../auth/api-keys.js';
import type { Database } from '../db/connection.js';
import type { Plan } from '../db/schema.js';
import { sendError } from './errors.js';
import type { Limiters } from './limiters.js';

export interface AuthContext {
  userId: number;
  email: string;
  storeId: number;
  storeName: string;
  plan: Plan;
  timezone: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext;
  }
}


const API_PLANS: readonly Plan[] = ['advanced', 'pro', 'enterprise'];

export interface AuthOptions {
  database: Database;
  /** shared with every other surface of the process (src/api/limiters.ts). */
  limiters: Limiters;
}

export function parseBasic(header: string | undefined): { email: string; key: string } | null {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=._-]+)\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { email: decoded.slice(0, colon), key: decoded.slice(colon + 1) };
}

function unauthorized(reply: FastifyReply, message: string): FastifyReply {
  reply.header('WWW-Authenticate', 'Basic realm="storehook", charset="UTF-8"');
  return sendError(reply, 401, message);
}

/** Looks up a user by e-mail and checks the key; null when either is wrong. */
export async function authenticate(database: Database, email: string, key: string): Promise<AuthContext | null> {
  const row = await database.kysely
    .selectFrom('api_users')
    .innerJoin('stores', 'stores.id', 'api_users.store_id')
    .select(['api_users.id as userId', 'api_users.email', 'api_users.key_hash', 'stores.id as storeId', 'stores.name as storeName', 'stores.plan', 'stores.timezone'])
    .where('api_users.email', '=', email.toLowerCase())
    .executeTakeFirst();
  // Hash the presented key even when the user is unknown, so timing does not tell which e-mails exist.
  const matches = apiKeyMatches(key, row?.key_hash ?? '0'.repeat(64));
  if (!row || !matches) return null;
  return { userId: row.userId, email: row.email, storeId: row.storeId, storeName: row.storeName, plan: row.plan, timezone: row.timezone };
}

export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const { perUser, loginFailures: failures } = options.limiters;

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const blocked = await failures.blockedFor(request.ip);
    if (blocked > 0) {
      reply.header('Retry-After', String(blocked));
      return sendError(reply, 429, `Too many failed logins from your address; try again in ${blocked} s.`);
    }
    const credentials = parseBasic(request.headers.authorization);
    if (!credentials) {
      return unauthorized(reply, 'Authentication required: send HTTP Basic credentials, the API user\'s e-mail as the username and the API key as the password.');
    }
    const auth = await authenticate(options.database, credentials.email, credentials.key);
    if (!auth) {
      await failures.record(request.ip);
      return unauthorized(reply, 'Wrong e-mail or API key. Check both; an API key is shown only once, so rotate it with `storehook users rotate-key` if it is lost.');
    }
    if (!API_PLANS.includes(auth.plan)) {
      return sendError(reply, 403, `The API (and Webhooks) is available from the Advanced plan up; store "${auth.storeName}" is on the ${auth.plan} plan. Move the store to advanced, pro or enterprise.`);
    }
    const wait = perUser.take(String(auth.userId));
    if (wait > 0) {
      reply.header('Retry-After', String(wait));
      return sendError(reply, 429, `Rate limit reached for ${auth.email}; retry after ${wait} s.`);
    }
    request.auth = auth;
  });
}
