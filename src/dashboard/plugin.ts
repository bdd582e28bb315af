/**
 * The operator dashboard (docs/dashboard.md): server-rendered pages at `/`, served by
 * the API process, working without JavaScript. Mounted as one root plugin; everything here
 * (form parser, session hook, CSRF check, HTML error pages, security headers) is encapsulated
 * and does not touch the JSON API.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, type AuthContext } from '../api/auth.js';
import { MemoryLoginFailures, type Limiters } from '../api/limiters.js';
import type { Config } from '../config.js';
import type { Database } from '../db/connection.js';
import { classifyFault, isClientAbort } from '../db/faults.js';
import type { Plan } from '../db/schema.js';
import { DomainError } from '../errors.js';
import type { WebhookOperations } from '../webhooks/operations.js';
import { attachSession, field, maybeSession, param, type DashboardContext } from './context.js';
import { html, path, type HtmlValue } from './html.js';
import { CONTENT_SECURITY_POLICY, page } from './layout.js';
import { registerMessagePages } from './pages/messages.js';
import { registerOrderPages } from './pages/orders.js';
import { registerOverview } from './pages/overview.js';
import { registerSigningPages } from './pages/signing.js';
import { registerRecoveryPages } from './pages/recovery.js';
import { registerSearchPage } from './pages/search.js';
import { registerSubscriptionPages } from './pages/subscriptions.js';
import { registerTopicPages } from './pages/topics.js';
import { clearCookie, DEFAULT_SESSION_TIMES, parseCookies, randomToken, sameToken, SESSION_COOKIE, SessionStore, setCookie, SIGN_IN_COOKIE, type SessionTimes } from './sessions.js';

export interface DashboardOptions {
  database: Database;
  config: Config;
  /** the process's webhook operations, shared with the JSON API. */
  webhooks: WebhookOperations;
  /** the process's shared limiters; default: a failed-login limit of the dashboard's own. */
  limiters?: Limiters;
  /** session lifetimes (tests shorten them). */
  sessionTimes?: SessionTimes;
  now?: () => number;
}

/** The plans that may use the API, the Webhooks API and so the dashboard (SPEC §1). */
const DASHBOARD_PLANS: readonly Plan[] = ['advanced', 'pro', 'enterprise'];
const PUBLIC_ROUTES = new Set(['/sign-in']);
const FORM_BODY_LIMIT = 64 * 1024;

function planRefusal(auth: Pick<AuthContext, 'storeName' | 'plan'>): string {
  return `The dashboard, like the API and Webhooks, is available from the Advanced plan up; store "${auth.storeName}" is on the ${auth.plan} plan. Move the store to advanced, pro or enterprise.`;
}

/** Only a same-origin path may be a redirect target after sign-in. */
export function safeNext(raw: string | undefined): string {
  if (!raw || raw.length > 1000 || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\') || /[\u0000-\u001f\\]/.test(raw)) return '/';
  if (raw.startsWith('/sign-in') || raw.startsWith('/sign-out')) return '/';
  return raw;
}

function sendPage(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}

/** A full page for an error, with the navigation when someone is signed in. */
function errorPage(request: FastifyRequest, reply: FastifyReply, status: number, title: string, message: HtmlValue): FastifyReply {
  const session = maybeSession(request);
  const body = html`<h1>${title}</h1><div class="problem" role="alert"><p>${message}</p></div><p><a href="/">Back to the overview</a></p>`;
  return sendPage(reply, status, page({ title, auth: session?.auth ?? null, csrfToken: session?.csrfToken, section: 'none', body }).value);
}

export async function dashboardRoutes(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const { database, config } = options;
  const now = options.now ?? Date.now;
  const sessions = new SessionStore(database, options.sessionTimes ?? DEFAULT_SESSION_TIMES, now);
  const failures = options.limiters?.loginFailures ?? new MemoryLoginFailures(config.authFailuresPerMinute, now);
  const ctx: DashboardContext = {
    database,
    db: database.kysely,
    config,
    webhooks: options.webhooks,
    sessions,
    now,
  };

  // HTML forms post url-encoded fields; repeated names (checkboxes) become arrays.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
    const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
    for (const [key, value] of new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))) {
      const prev = out[key];
      // Push, not spread: a 64 KiB form of one name repeated 16,000 times must stay linear.
      if (prev === undefined) out[key] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else out[key] = [prev, value];
    }
    done(null, out);
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
    return payload;
  });

  // Who is asking: runs before the body is read, so a stranger cannot make the server parse forms.
  app.addHook('onRequest', async (request, reply) => {
    if (PUBLIC_ROUTES.has(request.routeOptions.url ?? '')) return;
    const token = parseCookies(request.headers.cookie)[SESSION_COOKIE];
    const session = await sessions.find(token);
    if (!session) {
      if (token) clearCookie(reply, request, SESSION_COOKIE);
      const next = request.method === 'GET' ? request.url : undefined;
      return reply.code(303).header('location', path('sign-in', { next: next === '/' ? undefined : next, expired: token ? '1' : undefined })).send();
    }
    if (!DASHBOARD_PLANS.includes(session.auth.plan)) {
      return errorPage(request, reply, 403, 'Not available on this plan', planRefusal(session.auth));
    }
    attachSession(request, session);
  });

  // Every form carries the session's CSRF token; a POST without the right one changes nothing.
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    const origin = request.headers.origin;
    if (origin && origin !== 'null') {
      let sameOrigin = false;
      try {
        const from = new URL(origin);
        // Host as the request named it, normalised the same way (a default port drops out).
        sameOrigin = from.host === new URL(`${from.protocol}//${request.headers.host ?? ''}`).host;
      } catch {
        sameOrigin = false;
      }
      if (!sameOrigin) return errorPage(request, reply, 403, 'Request refused', 'This form was sent from another site. Open the dashboard directly and try again.');
    }
    if (PUBLIC_ROUTES.has(request.routeOptions.url ?? '')) return; // the sign-in form checks its own token
    const session = maybeSession(request);
    if (!session || !sameToken(field(request.body, '_csrf'), session.csrfToken)) {
      return errorPage(request, reply, 403, 'Request refused', 'The form was missing its security token or it did not match your session (a stale page, or a form from another site). Go back, reload the page and try again.');
    }
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error instanceof DomainError) {
      const title = error.status === 404 ? 'Not found' : error.status === 409 ? 'Conflict' : 'Cannot do that';
      return errorPage(request, reply, error.status, title, error.message);
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return errorPage(request, reply, 413, 'Too much data', 'The form was larger than 64 KiB.');
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return errorPage(request, reply, 415, 'Unsupported form', 'Send the form as application/x-www-form-urlencoded, as a browser does.');
    if (isClientAbort(request, error)) {
      request.log.info({ reason: error.message }, 'client closed the connection before the answer');
      return errorPage(request, reply, 400, 'Request aborted', 'The request was aborted before its body arrived.');
    }
    const fault = classifyFault(error);
    if (fault) {
      request.log.warn({ err: error }, fault.log);
      if (fault.retryAfter) reply.header('retry-after', String(fault.retryAfter));
      return errorPage(request, reply, fault.status, fault.kind === 'busy' ? 'Busy' : 'Cannot do that now', fault.message);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return errorPage(request, reply, status, 'Bad request', error.message);
    request.log.error({ err: error }, 'dashboard error');
    return errorPage(request, reply, 500, 'Something went wrong', 'Something went wrong on the server; it has been logged. Try again, and report it if it persists.');
  });

  const hidden = { schema: { hide: true } };

  // --- sign-in and sign-out ------------------------------------------------------------------

  const signInPage = (reply: FastifyReply, request: FastifyRequest, o: { status?: number; csrf: string; next: string; email?: string; message?: HtmlValue; error?: HtmlValue }) => {
    const body = html`
      <h1>Sign in</h1>
      ${o.message ? html`<div class="flash" role="status">${o.message}</div>` : ''}
      ${o.error ? html`<div class="flash error" role="alert">${o.error}</div>` : ''}
      <p>Sign in with an API user of your store: its e-mail address and its API key (the same credentials the API takes).</p>
      <form method="post" action="/sign-in">
        <input type="hidden" name="_csrf" value="${o.csrf}">
        <input type="hidden" name="next" value="${o.next}">
        <label for="email">E-mail</label>
        <input id="email" name="email" type="email" autocomplete="username" required value="${o.email ?? ''}">
        <label for="api_key">API key</label>
        <input id="api_key" name="api_key" type="password" autocomplete="current-password" required>
        <p class="hint">Lost the key? An operator can issue a new one with <code>storehook users rotate-key --email &lt;e-mail&gt;</code>.</p>
        <p><button type="submit">Sign in</button></p>
      </form>`;
    return sendPage(reply, o.status ?? 200, page({ title: 'Sign in', auth: null, body }).value);
  };

  app.get('/sign-in', hidden, async (request, reply) => {
    const cookies = parseCookies(request.headers.cookie);
    if (await sessions.find(cookies[SESSION_COOKIE])) return reply.code(303).header('location', safeNext(param(request.query, 'next'))).send();
    const csrf = randomToken();
    setCookie(reply, request, SIGN_IN_COOKIE, csrf, 3600);
    const message = param(request.query, 'expired') ? 'Your session has ended. Sign in again to continue.' : param(request.query, 'signed_out') ? 'You are signed out.' : undefined;
    return signInPage(reply, request, { csrf, next: safeNext(param(request.query, 'next')), message });
  });

  app.post('/sign-in', hidden, async (request, reply) => {
    const cookies = parseCookies(request.headers.cookie);
    const next = safeNext(field(request.body, 'next'));
    const email = (field(request.body, 'email') ?? '').trim();
    const blocked = await failures.blockedFor(request.ip);
    if (blocked > 0) {
      reply.header('retry-after', String(blocked));
      const csrf = cookies[SIGN_IN_COOKIE] ?? randomToken();
      return signInPage(reply, request, { status: 429, csrf, next, email, error: `Too many failed sign-ins from your address; try again in ${blocked} s.` });
    }
    if (!sameToken(field(request.body, '_csrf'), cookies[SIGN_IN_COOKIE])) {
      return errorPage(request, reply, 403, 'Request refused', html`The sign-in form was missing its security token or it did not match (cookies blocked, or a form from another site). <a href="/sign-in">Open the sign-in page</a> and try again.`);
    }
    const key = field(request.body, 'api_key') ?? '';
    const csrf = cookies[SIGN_IN_COOKIE]!;
    if (!email || !key) return signInPage(reply, request, { status: 400, csrf, next, email, error: 'Enter both the e-mail address and the API key.' });
    const auth = await authenticate(database, email.slice(0, 320), key.slice(0, 200));
    if (!auth) {
      await failures.record(request.ip);
      request.log.info({ email: email.slice(0, 100) }, 'dashboard sign-in failed');
      return signInPage(reply, request, { status: 401, csrf, next, email, error: 'Wrong e-mail or API key. Check both; an API key is shown only once, so ask an operator to rotate it if it is lost.' });
    }
    if (!DASHBOARD_PLANS.includes(auth.plan)) return signInPage(reply, request, { status: 403, csrf, next, email, error: planRefusal(auth) });
    const previous = await sessions.find(cookies[SESSION_COOKIE]);
    if (previous) await sessions.destroy(previous);
    // A new id at every sign-in: a session id planted before sign-in is worth nothing after it.
    const created = await sessions.create(auth);
    setCookie(reply, request, SESSION_COOKIE, created.token, created.maxAgeSec);
    clearCookie(reply, request, SIGN_IN_COOKIE);
    request.log.info({ user: auth.userId, store: auth.storeId }, 'dashboard sign-in');
    return reply.code(303).header('location', next).send();
  });

  app.post('/sign-out', hidden, async (request, reply) => {
    const session = maybeSession(request);
    if (session) await sessions.destroy(session);
    clearCookie(reply, request, SESSION_COOKIE);
    return reply.code(303).header('location', '/sign-in?signed_out=1').send();
  });

  // --- the pages -----------------------------------------------------------------------------

  registerOverview(app, ctx);
  registerSubscriptionPages(app, ctx);
  registerSigningPages(app, ctx);
  registerRecoveryPages(app, ctx);
  registerSearchPage(app, ctx);
  registerMessagePages(app, ctx);
  registerTopicPages(app, ctx);
  registerOrderPages(app, ctx);
}
