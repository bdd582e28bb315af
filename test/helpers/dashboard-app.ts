/**
 * The dashboard in-process: a fresh database, the API (orders + webhooks) and the dashboard
 * mounted as src/server.ts mounts them, no dispatcher. `Browser` is a tiny cookie-keeping client
 * over `app.inject()` that reads CSRF tokens out of the pages, as a browser submitting forms would.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { createApiUser, createStore } from '../../src/admin/stores.js';
import type { Config } from '../../src/config.js';
import { dashboardRoutes } from '../../src/dashboard/plugin.js';
import type { SessionTimes } from '../../src/dashboard/sessions.js';
import type { Database } from '../../src/db/connection.js';
import type { Plan } from '../../src/db/schema.js';
import { createSender, type Sender } from '../../src/delivery/http-sender.js';
import { NetworkGuard, parseAllowList } from '../../src/delivery/network-guard.js';
import { VERSION } from '../../src/version.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import { webhookOperationsFor } from '../../src/webhooks/operations.js';
import { webhooksRoutes } from '../../src/api/routes/webhooks.js';
import { freshDatabase, type Dialect, type FreshDatabase } from './database.js';
import { basicAuth, deliveryTestConfig } from './app.js';

export interface User {
  storeId: number;
  storeName: string;
  userId: number;
  email: string;
  apiKey: string;
  auth: string;
}

export interface DashboardTest extends User {
  app: FastifyInstance;
  database: Database;
  fresh: FreshDatabase;
  config: Config;
  sender: Sender;
  /** how often the dashboard asked to wake the dispatcher. */
  requeued: { count: number };
  addStore(plan?: Plan, timezone?: string): Promise<User>;
  /** a new cookie jar, not signed in. */
  browser(): Browser;
  /** a browser signed in as `who` (default: the first user). */
  signedIn(who?: User): Promise<Browser>;
  /** POST /api/v1/<path> as the first user; the parsed JSON. */
  api(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, who?: User): Promise<{ status: number; body: any }>;
  createOrder(extra?: Record<string, unknown>, who?: User): Promise<number>;
  close(): Promise<void>;
}

export interface DashboardTestOptions {
  config?: Partial<Config>;
  sessionTimes?: SessionTimes;
  now?: () => number;
  timezone?: string;
}

export const ORDER_BODY = {
  customer_information: { first_name: 'Maija', last_name: 'Meikäläinen', email: 'maija@example.com', city: 'Helsinki', country: 'FI' },
  products: [{ product_code: 'A-1', product_name: 'Widget', quantity: 2, unit_price: 10.5, vat_rate: 25.5 }],
  shipping_costs: 5.9,
};

/** The value of the first `name="_csrf"` field on a page. */
export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]*)"/.exec(html);
  if (!m) throw new Error(`no CSRF field on the page: ${html.slice(0, 300)}`);
  return m[1]!;
}

export class Browser {
  readonly cookies = new Map<string, string>();
  /** the last page fetched with get(). */
  last = '';
  constructor(private readonly app: FastifyInstance) {}

  private cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  private remember(res: LightMyRequestResponse): void {
    for (const c of res.cookies as { name: string; value: string; maxAge?: number }[]) {
      if (c.maxAge === 0 || c.value === '') this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({ method: 'GET', url, headers: { ...this.cookieHeader(), ...headers } });
    this.remember(res);
    if (res.statusCode === 200) this.last = res.body;
    return res;
  }

  /** Follows one 303 (POST-redirect-GET) with GET, as a browser does. */
  async follow(res: LightMyRequestResponse): Promise<LightMyRequestResponse> {
    if (res.statusCode !== 303 && res.statusCode !== 302) throw new Error(`expected a redirect, got ${res.statusCode}: ${res.body.slice(0, 500)}`);
    return this.get(String(res.headers.location));
  }

  /**
   * Submits a form. `csrf: 'page'` (default) takes the token from the last page fetched, like a
   * real form; a string sends that value; null sends none.
   */
  async post(url: string, fields: Record<string, string | string[]> = {}, options: { csrf?: 'page' | string | null; headers?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
    const params = new URLSearchParams();
    const csrf = options.csrf === undefined || options.csrf === 'page' ? csrfOf(this.last) : options.csrf;
    if (csrf !== null) params.append('_csrf', csrf);
    for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
    const res = await this.app.inject({
      method: 'POST',
      url,
      headers: { ...this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', ...(options.headers ?? {}) },
      payload: params.toString(),
    });
    this.remember(res);
    return res;
  }

  async signIn(email: string, apiKey: string, next?: string): Promise<LightMyRequestResponse> {
    await this.get(next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in');
    return this.post('/sign-in', { email, api_key: apiKey, ...(next ? { next } : {}) });
  }
}

let counter = 0;

export async function startDashboard(dialect: Dialect, options: DashboardTestOptions = {}): Promise<DashboardTest> {
  const fresh = await freshDatabase(dialect);
  const config = deliveryTestConfig({ allowTargets: parseAllowList('127.0.0.0/8'), ...options.config });
  const database = fresh.database;
  const guard = new NetworkGuard(config.allowTargets);
  const sender = createSender({ guard, connectTimeoutMs: config.connectTimeoutMs, totalTimeoutMs: config.requestTimeoutMs, userAgent: `storehook/${VERSION}` });
  const requeued = { count: 0 };
  const webhooks = webhookOperationsFor({ database, sender, guard, config, version: VERSION, wake: () => void (requeued.count += 1) });
  const app = await buildApp({
    config,
    database,
    sink: createOutbox(),
    logger: false,
    apiV1Plugins: [async (api) => void (await api.register(webhooksRoutes, { database, webhooks }))],
    rootPlugins: [
      async (root) =>
        dashboardRoutes(root, {
          database,
          config,
          webhooks,
          ...(options.sessionTimes ? { sessionTimes: options.sessionTimes } : {}),
          ...(options.now ? { now: options.now } : {}),
        }),
    ],
  });
  await app.ready();

  const addStore = async (plan: Plan = 'advanced', timezone = options.timezone ?? 'Europe/Helsinki'): Promise<User> => {
    counter += 1;
    const name = `shop-${counter}`;
    const store = await createStore(database.kysely, { name, plan, timezone });
    const u = await createApiUser(database.kysely, name, `${name}@test.example`);
    return { storeId: store.id, storeName: name, userId: u.userId, email: u.email, apiKey: u.apiKey, auth: basicAuth(u.email, u.apiKey) };
  };
  const main = await addStore();

  const api = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, who: User = main) => {
    const res = await app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: who.auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null };
  };

  let closed = false;
  return {
    ...main,
    app,
    database,
    fresh,
    config,
    sender,
    requeued,
    addStore,
    browser: () => new Browser(app),
    async signedIn(who: User = main) {
      const b = new Browser(app);
      const res = await b.signIn(who.email, who.apiKey);
      if (res.statusCode !== 303) throw new Error(`sign-in failed: ${res.statusCode} ${res.body.slice(0, 300)}`);
      await b.follow(res);
      return b;
    },
    api,
    async createOrder(extra: Record<string, unknown> = {}, who: User = main) {
      const res = await api('POST', '/orders', { ...ORDER_BODY, ...extra }, who);
      if (res.status !== 200) throw new Error(`createOrder: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.data.id as number;
    },
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await sender.close();
      await fresh.cleanup();
    },
  };
}

/** The text of a page without tags, whitespace collapsed: for "the page says …" assertions. */
export function textOf(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
