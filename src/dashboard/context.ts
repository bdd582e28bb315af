/** What every dashboard page handler gets: the database, settings, the session and render helpers. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { Database } from '../db/connection.js';
import type { Schema } from '../db/schema.js';
import { DomainError } from '../errors.js';
import type { WebhookOperations } from '../webhooks/operations.js';
import { html, type HtmlValue } from './html.js';
import { healthBanner } from './health-banner.js';
import { page, type Section } from './layout.js';
import type { Flash, Session, SessionStore } from './sessions.js';

export interface DashboardContext {
  database: Database;
  db: Kysely<Schema>;
  config: Config;
  /** the process's webhook operations (send now, recover, discard held, subscription changes). */
  webhooks: WebhookOperations;
  sessions: SessionStore;
  now: () => number;
}

const sessionsByRequest = new WeakMap<FastifyRequest, Session>();

export function attachSession(request: FastifyRequest, session: Session): void {
  sessionsByRequest.set(request, session);
}

export function sessionOf(request: FastifyRequest): Session {
  const s = sessionsByRequest.get(request);
  if (!s) throw new Error('dashboard route reached without a session');
  return s;
}

export function maybeSession(request: FastifyRequest): Session | undefined {
  return sessionsByRequest.get(request);
}

export interface RenderOptions {
  title: string;
  section: Section;
  body: HtmlValue;
  status?: number;
}

/** Sends a full page for the signed-in user, showing (and clearing) the pending flash message. */
export async function render(ctx: DashboardContext, request: FastifyRequest, reply: FastifyReply, o: RenderOptions): Promise<FastifyReply> {
  const session = sessionOf(request);
  const [flash, banner] = await Promise.all([ctx.sessions.takeFlash(session), healthBanner(ctx.db, session.auth.storeId, session.auth.timezone)]);
  const doc = page({ title: o.title, auth: session.auth, csrfToken: session.csrfToken, section: o.section, flash, banner, body: o.body });
  return reply.code(o.status ?? 200).type('text/html; charset=utf-8').send(doc.value);
}

/** POST-redirect-GET: remember the outcome for the next page, then 303 to it. */
export async function redirectWith(ctx: DashboardContext, request: FastifyRequest, reply: FastifyReply, to: string, flash?: Flash): Promise<FastifyReply> {
  if (flash) await ctx.sessions.setFlash(sessionOf(request), flash);
  return reply.code(303).header('location', to).send();
}

/** The first value of a form field (forms post `application/x-www-form-urlencoded`). */
export function field(body: unknown, name: string): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const v = (body as Record<string, unknown>)[name];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** Every value of a repeated form field (checkboxes). */
export function fields(body: unknown, name: string): string[] {
  if (!body || typeof body !== 'object') return [];
  const v = (body as Record<string, unknown>)[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

/** A query parameter as one string. */
export function param(query: unknown, name: string): string | undefined {
  return field(query, name);
}

/** `page` from the query: a positive integer, 1 when absent or wrong. */
export function pageParam(query: unknown): number {
  const raw = param(query, 'page');
  return raw && /^[1-9]\d{0,5}$/.test(raw) ? Number(raw) : 1;
}

/** The messages of a DomainError as a list for a form. */
export function errorList(error: DomainError): HtmlValue {
  const items = error.errors?.length ? error.errors.map((e) => `${e.field}: ${e.message}`) : [error.message];
  return html`<div class="problem errors" role="alert"><p><strong>That did not work:</strong></p><ul>${items.map((i) => html`<li>${i}</li>`)}</ul></div>`;
}
