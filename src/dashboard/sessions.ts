/**
 * Dashboard sessions, stored in `dashboard_sessions`. The browser holds a random 256-bit id in an
 * `HttpOnly; SameSite=Strict` cookie; the table holds only its SHA-256, so a leaked database (or
 * backup) does not hand out live sessions. Each session has its own CSRF token, an idle timeout
 * and an absolute lifetime, and ends when the user's API key is rotated or the user is removed.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthContext } from '../api/auth.js';
import type { Database } from '../db/connection.js';
import type { Plan } from '../db/schema.js';

export const SESSION_COOKIE = 'storehook_session';
/** Holds the sign-in form's CSRF token before there is a session (double-submit). */
export const SIGN_IN_COOKIE = 'storehook_signin';

export interface SessionTimes {
  /** a session unused this long ends (default 12 h). */
  idleMs: number;
  /** a session ends this long after sign-in, used or not (default 7 days). */
  absoluteMs: number;
}

export const DEFAULT_SESSION_TIMES: SessionTimes = { idleMs: 12 * 3600_000, absoluteMs: 7 * 86_400_000 };

/** Touch `last_seen_at` at most this often, so reading pages does not write on every request. */
const TOUCH_EVERY_MS = 60_000;

export interface Flash {
  kind: 'ok' | 'error' | 'info';
  text: string;
}

export interface Session {
  idHash: string;
  csrfToken: string;
  auth: AuthContext;
  flash: Flash | null;
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time string comparison (false for different lengths). */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!(name in out)) {
      try {
        out[name] = decodeURIComponent(value);
      } catch {
        out[name] = value;
      }
    }
  }
  return out;
}

/** HTTPS directly, or a proxy in front saying so (the flag only ever makes the cookie stricter). */
export function isHttps(request: FastifyRequest): boolean {
  if (request.protocol === 'https') return true;
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

export function setCookie(reply: FastifyReply, request: FastifyRequest, name: string, value: string, maxAgeSec: number): void {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.max(0, Math.floor(maxAgeSec))}`];
  if (isHttps(request)) parts.push('Secure');
  // Fastify appends set-cookie values instead of replacing them.
  reply.header('set-cookie', parts.join('; '));
}

export function clearCookie(reply: FastifyReply, request: FastifyRequest, name: string): void {
  setCookie(reply, request, name, '', 0);
}

export class SessionStore {
  constructor(
    private readonly database: Database,
    private readonly times: SessionTimes = DEFAULT_SESSION_TIMES,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts a session; returns the token for the cookie and its lifetime in seconds. */
  async create(auth: AuthContext): Promise<{ token: string; maxAgeSec: number }> {
    const db = this.database.kysely;
    const now = this.now();
    // Ended sessions are removed whenever someone signs in: cheap, and the table stays small.
    await db
      .deleteFrom('dashboard_sessions')
      .where((eb) => eb.or([eb('expires_at', '<', now), eb('last_seen_at', '<', now - this.times.idleMs)]))
      .execute();
    const token = randomToken();
    await db
      .insertInto('dashboard_sessions')
      .values({
        id_hash: hashToken(token),
        user_id: auth.userId,
        store_id: auth.storeId,
        csrf_token: randomToken(),
        flash: null,
        created_at: now,
        last_seen_at: now,
        expires_at: now + this.times.absoluteMs,
      })
      .execute();
    return { token, maxAgeSec: this.times.absoluteMs / 1000 };
  }

  /** The live session for a cookie token, or null (unknown, ended, key rotated, user gone). */
  async find(token: string | undefined): Promise<Session | null> {
    if (!token || token.length > 200) return null;
    const db = this.database.kysely;
    const now = this.now();
    const idHash = hashToken(token);
    const row = await db
      .selectFrom('dashboard_sessions as s')
      .innerJoin('api_users as u', 'u.id', 's.user_id')
      .innerJoin('stores as st', 'st.id', 'u.store_id')
      .select([
        's.csrf_token',
        's.flash',
        's.created_at',
        's.last_seen_at',
        's.expires_at',
        'u.id as userId',
        'u.email',
        'u.key_rotated_at',
        'st.id as storeId',
        'st.name as storeName',
        'st.plan',
        'st.timezone',
      ])
      .where('s.id_hash', '=', idHash)
      .executeTakeFirst();
    if (!row) return null;
    const ended =
      row.expires_at <= now ||
      row.last_seen_at + this.times.idleMs <= now ||
      // A rotated key ends every session opened with the old one.
      (row.key_rotated_at !== null && row.key_rotated_at >= row.created_at);
    if (ended) {
      await db.deleteFrom('dashboard_sessions').where('id_hash', '=', idHash).execute();
      return null;
    }
    if (now - row.last_seen_at >= TOUCH_EVERY_MS) {
      await db.updateTable('dashboard_sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
    }
    let flash: Flash | null = null;
    if (row.flash) {
      try {
        flash = JSON.parse(row.flash) as Flash;
      } catch {
        flash = null;
      }
    }
    return {
      idHash,
      csrfToken: row.csrf_token,
      flash,
      auth: { userId: row.userId, email: row.email, storeId: row.storeId, storeName: row.storeName, plan: row.plan as Plan, timezone: row.timezone },
    };
  }

  /** A message for the next page this session sees (POST-redirect-GET). */
  async setFlash(session: Session, flash: Flash): Promise<void> {
    await this.database.kysely.updateTable('dashboard_sessions').set({ flash: JSON.stringify(flash) }).where('id_hash', '=', session.idHash).execute();
  }

  /** Takes the flash message once: the page that shows it clears it. */
  async takeFlash(session: Session): Promise<Flash | null> {
    if (!session.flash) return null;
    await this.database.kysely.updateTable('dashboard_sessions').set({ flash: null }).where('id_hash', '=', session.idHash).execute();
    const flash = session.flash;
    session.flash = null;
    return flash;
  }

  async destroy(session: Session): Promise<void> {
    await this.database.kysely.deleteFrom('dashboard_sessions').where('id_hash', '=', session.idHash).execute();
  }
}
