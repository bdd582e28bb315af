/**
 * A built (not listening) storehook app on a fresh database, with one store on the `advanced` plan
 * and one API user, for tests that talk to the API through `app.inject()` (or `app.listen`).
 *
 *   const t = await createTestApp(dialect);
 *   const res = await t.app.inject({ method: 'GET', url: '/api/v1/orders', headers: { authorization: t.auth } });
 *   await t.close();
 *
 * The per-user rate limit is OFF by default here (`rateLimitPerSecond: 0`) so suites that create
 * hundreds of orders are not throttled; a test of the limit passes its own settings in
 * `configOverrides`. Everything else is the production default (`loadConfig({}, {})`).
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppDeps } from '../../src/api/app.js';
import { createApiUser, createStore } from '../../src/admin/stores.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Database } from '../../src/db/connection.js';
import type { Plan } from '../../src/db/schema.js';
import { createOutbox, type Outbox } from '../../src/webhooks/outbox.js';
import { freshDatabase, type Dialect, type FreshDatabase } from './database.js';

export interface TestUser {
  storeId: number;
  storeName: string;
  email: string;
  apiKey: string;
  userId: number;
  /** the `Authorization` header value: `Basic base64(email:apiKey)`. */
  auth: string;
}

export interface TestApp extends TestUser {
  app: FastifyInstance;
  database: Database;
  fresh: FreshDatabase;
  config: Config;
  outbox: Outbox;
  /** another store with its own API user (e-mail `<name>@test.example`). */
  addStore(name: string, plan?: Plan): Promise<TestUser>;
  /** another API user of an existing store. */
  addUser(storeName: string, email: string): Promise<TestUser>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** extra plugins for the authenticated /api/v1 scope (e.g. the webhooks routes). */
  apiV1Plugins?: AppDeps['apiV1Plugins'];
  rootPlugins?: AppDeps['rootPlugins'];
  /** store name of the first store (default `shop`) and its plan (default `advanced`). */
  storeName?: string;
  plan?: Plan;
}

/** Production defaults plus what delivery tests want: quiet logs, no rate limit, short timeouts to real receivers. */
export function deliveryTestConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}, {}), logLevel: 'silent', rateLimitPerSecond: 0, connectTimeoutMs: 2_000, requestTimeoutMs: 5_000, ...overrides };
}

export function basicAuth(email: string, apiKey: string): string {
  return `Basic ${Buffer.from(`${email}:${apiKey}`, 'utf8').toString('base64')}`;
}

export async function createTestApp(dialect: Dialect, configOverrides: Partial<Config> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const fresh = await freshDatabase(dialect);
  const database = fresh.database;
  let app: FastifyInstance | undefined;
  try {
    const config: Config = { ...loadConfig({}, {}), dataDir: fresh.dataDir, rateLimitPerSecond: 0, ...configOverrides };
    const outbox = createOutbox();
    app = await buildApp({
      config,
      database,
      sink: outbox,
      logger: false,
      ...(options.apiV1Plugins ? { apiV1Plugins: options.apiV1Plugins } : {}),
      ...(options.rootPlugins ? { rootPlugins: options.rootPlugins } : {}),
    });
    await app.ready();

    const addUser = async (storeName: string, email: string): Promise<TestUser> => {
      const u = await createApiUser(database.kysely, storeName, email);
      return { storeId: u.store.id, storeName: u.store.name, email: u.email, apiKey: u.apiKey, userId: u.userId, auth: basicAuth(u.email, u.apiKey) };
    };
    const addStore = async (name: string, plan: Plan = 'advanced'): Promise<TestUser> => {
      await createStore(database.kysely, { name, plan });
      return addUser(name, `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}@test.example`);
    };
    const first = await addStore(options.storeName ?? 'shop', options.plan ?? 'advanced');
    const built = app;
    let closed = false;
    return {
      ...first,
      app: built,
      database,
      fresh,
      config,
      outbox,
      addStore,
      addUser,
      async close() {
        if (closed) return;
        closed = true;
        try {
          await built.close();
        } finally {
          await fresh.cleanup();
        }
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await fresh.cleanup().catch(() => undefined);
    throw error;
  }
}

/** A valid order body: two products (2 × 19.99 and 1 × 5.00), shipping 4.90. */
export function orderBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customer_information: { first_name: 'Maija', last_name: 'Meikäläinen', email: 'maija@example.com', city: 'Helsinki', country: 'FI' },
    products: [
      { product_code: 'TSHIRT-M', product_name: 'T-shirt M', quantity: 2, unit_price: 19.99, vat_rate: 25.5 },
      { product_code: 'STICKER', product_name: 'Sticker', quantity: 1, unit_price: 5 },
    ],
    shipping_costs: 4.9,
    ...overrides,
  };
}

export interface CreatedOrder {
  id: number;
  shipmentId: number;
  paymentId: number;
  /** the whole `data` of the answer (the order with products, shipments, payments). */
  data: Record<string, any>;
}

/** POST /api/v1/orders with `orderBody(overrides)`; throws unless the answer is 200. */
export async function createOrder(app: FastifyInstance, auth: string, overrides: Record<string, unknown> = {}, prefix = '/api/v1'): Promise<CreatedOrder> {
  const res = await app.inject({ method: 'POST', url: `${prefix}/orders`, headers: { authorization: auth }, payload: orderBody(overrides) });
  if (res.statusCode !== 200) throw new Error(`createOrder: ${res.statusCode} ${res.body}`);
  const data = res.json().data as Record<string, any>;
  return { id: data.id, shipmentId: data.shipments[0].id, paymentId: data.payments[0].id, data };
}

/** `app.inject` with the Authorization header set; `payload` objects are sent as JSON. */
export function call(
  app: FastifyInstance,
  auth: string | undefined,
  method: InjectOptions['method'],
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    headers: { ...(auth ? { authorization: auth } : {}), ...headers },
    ...(payload !== undefined ? { payload: payload as InjectOptions['payload'] } : {}),
  });
}

/**
 * The parsed error body of an answer; throws unless it is JSON with exactly the SPEC §1 shape
 * `{code (= the status), error, message, errors?: [{field, message}]}`.
 */
export function errorBody(res: LightMyRequestResponse): { code: number; error: string; message: string; errors?: { field: string; message: string }[] } {
  const type = String(res.headers['content-type'] ?? '');
  if (!type.startsWith('application/json')) throw new Error(`error answer is not JSON (${type}): ${res.body.slice(0, 200)}`);
  const body = res.json() as Record<string, unknown>;
  if (body.code !== res.statusCode || typeof body.error !== 'string' || typeof body.message !== 'string') {
    throw new Error(`error body does not have the {code,error,message} shape: ${res.body.slice(0, 300)}`);
  }
  const allowed = new Set(['code', 'error', 'message', 'errors']);
  const extra = Object.keys(body).filter((k) => !allowed.has(k));
  if (extra.length) throw new Error(`error body has unexpected keys ${extra.join(', ')}: ${res.body.slice(0, 300)}`);
  if (body.errors !== undefined) {
    if (!Array.isArray(body.errors) || body.errors.some((e) => typeof e?.field !== 'string' || typeof e?.message !== 'string')) {
      throw new Error(`errors[] entries must be {field, message}: ${res.body.slice(0, 300)}`);
    }
  }
  return body as ReturnType<typeof errorBody>;
}
