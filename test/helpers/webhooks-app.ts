/**
 * A storehook API in-process for the webhooks suites: a fresh database, one store on the
 * `advanced` plan with one API user, the orders API and the Webhooks API mounted exactly as
 * src/server.ts mounts them (outbox sink, guarded sender), and no dispatcher unless asked for.
 * Requests go through `app.inject`, so no port is opened for the API itself.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { createApiUser, createStore } from '../../src/admin/stores.js';
import type { Config } from '../../src/config.js';
import { Dispatcher } from '../../src/delivery/dispatcher.js';
import { createSender, type Sender } from '../../src/delivery/http-sender.js';
import { NetworkGuard, parseAllowList } from '../../src/delivery/network-guard.js';
import type { Database } from '../../src/db/connection.js';
import type { OrderEventSink } from '../../src/orders/events.js';
import { VERSION } from '../../src/version.js';
import { createOutbox, type Outbox } from '../../src/webhooks/outbox.js';
import { webhookOperationsFor } from '../../src/webhooks/operations.js';
import { signingKeyLookup } from '../../src/webhooks/signing-keys.js';
import { webhooksRoutes } from '../../src/api/routes/webhooks.js';
import { freshDatabase, type Dialect, type FreshDatabase } from './database.js';
import { basicAuth, deliveryTestConfig } from './app.js';

export interface HarnessOptions {
  /** config overrides; `allowTargets` may be given as the CIDR text. */
  config?: Partial<Omit<Config, 'allowTargets'>> & { allowTargets?: string };
  /** wraps the outbox (e.g. to fail after it wrote); default: the outbox itself. */
  sink?: (outbox: Outbox) => OrderEventSink;
  /** run a dispatcher too (woken by commits and by recover/enable, as in `serve`). */
  dispatcher?: boolean;
}

export interface Credentials {
  storeId: number;
  userId: number;
  email: string;
  apiKey: string;
  /** the Authorization header value. */
  auth: string;
}

export interface Harness extends Credentials {
  app: FastifyInstance;
  fresh: FreshDatabase;
  database: Database;
  config: Config;
  outbox: Outbox;
  sender: Sender;
  dispatcher: Dispatcher | null;
  /** how many times recover/enable asked to wake the dispatcher. */
  requeued: { count: number };
  /** another store (advanced plan) with its own API user. */
  addStore(plan?: 'free' | 'advanced'): Promise<Credentials>;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  // JSON bodies are read loosely in tests: each assertion says what it expects.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Record<string, unknown>;
}

let storeCounter = 0;

export async function startHarness(dialect: Dialect, options: HarnessOptions = {}): Promise<Harness> {
  const fresh = await freshDatabase(dialect);
  const { allowTargets, ...overrides } = options.config ?? {};
  const config = deliveryTestConfig({ ...overrides, allowTargets: parseAllowList(allowTargets ?? '') });
  const database = fresh.database;
  const guard = new NetworkGuard(config.allowTargets);
  const sender = createSender({ guard, connectTimeoutMs: config.connectTimeoutMs, totalTimeoutMs: config.requestTimeoutMs, userAgent: `storehook/${VERSION}` });
  const outbox = createOutbox();
  const requeued = { count: 0 };
  let dispatcher: Dispatcher | null = null;
  if (options.dispatcher) {
    dispatcher = new Dispatcher({
      database,
      sender,
      workerId: `test:${process.pid}`,
      concurrency: config.deliveryConcurrency,
      maxInFlightPerSubscription: config.maxInFlightPerSubscription,
      leaseMs: config.leaseMs,
      pollIntervalMs: 50,
      retryBaseMs: config.retryBaseMs,
      retentionDays: config.retentionDays,
      version: VERSION,
      signingKeys: signingKeyLookup(database.kysely),
      log: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined },
    });
    const d = dispatcher;
    outbox.onWake(() => d.wake());
    d.start();
  }
  const d = dispatcher;
  const app = await buildApp({
    config,
    database,
    sink: options.sink ? options.sink(outbox) : outbox,
    logger: false,
    apiV1Plugins: [
      async (api) => {
        await api.register(webhooksRoutes, {
          database,
          webhooks: webhookOperationsFor({
            database,
            sender,
            guard,
            config,
            version: VERSION,
            wake: () => {
              requeued.count += 1;
              d?.wake();
            },
          }),
        });
      },
    ],
  });
  await app.ready();

  const addStore = async (plan: 'free' | 'advanced' = 'advanced'): Promise<Credentials> => {
    storeCounter += 1;
    const name = `store-${process.pid}-${storeCounter}`;
    await createStore(database.kysely, { name, plan });
    const user = await createApiUser(database.kysely, name, `${name}@example.com`);
    return { storeId: user.store.id, userId: user.userId, email: user.email, apiKey: user.apiKey, auth: basicAuth(user.email, user.apiKey) };
  };
  const main = await addStore();

  let closed = false;
  return {
    ...main,
    app,
    fresh,
    database,
    config,
    outbox,
    sender,
    dispatcher,
    requeued,
    addStore,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await dispatcher?.stop(1_000);
      await sender.close();
      await fresh.cleanup();
    },
  };
}

/** One API request as `who` (default: the harness's own user). */
export async function api(h: Harness, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, who: { auth: string } = h): Promise<ApiResponse> {
  const res = await h.app.inject({
    method,
    url,
    headers: { authorization: who.auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, body: res.body === '' ? null : JSON.parse(res.body), headers: res.headers };
}

export const ORDER_BODY = {
  customer_information: { first_name: 'Maija', last_name: 'Meikäläinen', email: 'maija@example.com', city: 'Helsinki', country: 'FI' },
  products: [
    { product_code: 'A-1', product_name: 'Widget', quantity: 2, unit_price: 10.5 },
    { product_code: 'B-2', product_name: 'Gadget', quantity: 1, unit_price: 3.25, vat_rate: 14 },
  ],
  shipping_costs: 5.9,
};

/** Creates an order through the API; returns its id. */
export async function createOrder(h: Harness, extra: Record<string, unknown> = {}, who: { auth: string } = h): Promise<number> {
  const res = await api(h, 'POST', '/api/v1/orders', { ...ORDER_BODY, ...extra }, who);
  if (res.status !== 200) throw new Error(`createOrder: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.id as number;
}

/** Subscribes through the API; returns the subscription as the API shows it. */
export async function subscribe(h: Harness, topic: string, url: string, expands: string[] = [], who: { auth: string } = h): Promise<{ uuid: string; topic: string; url: string; expands: string[] }> {
  const res = await api(h, 'POST', '/api/v1/webhooks', { topic, url, expands }, who);
  if (res.status !== 200) throw new Error(`subscribe: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

/** A public IPv4 literal: passes the network guard without a DNS lookup (nothing is sent to it). */
export const PUBLIC_TARGET = 'http://93.184.216.34';
