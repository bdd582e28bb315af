/**
 * A storehook app wired like src/server.ts for the legacy bridge (the outbox wrapped by
 * withLegacyBridge, the /webhooks/* routes, the JSON Webhooks API), on a fresh database, with one
 * store, one API user and the legacy extension enabled. Requests go through `app.inject()`.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { createApiUser, createStore } from '../../src/admin/stores.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Database } from '../../src/db/connection.js';
import type { Plan } from '../../src/db/schema.js';
import { createSender, type Sender } from '../../src/delivery/http-sender.js';
import { NetworkGuard, parseAllowList } from '../../src/delivery/network-guard.js';
import { legacyRoutes } from '../../src/legacy/routes.js';
import { issueLegacyKey } from '../../src/legacy/settings.js';
import { withLegacyBridge } from '../../src/legacy/sink.js';
import { createOrder, type OrderContext } from '../../src/orders/service.js';
import type { CreateOrderBody } from '../../src/orders/contract.js';
import { createOutbox, type Outbox } from '../../src/webhooks/outbox.js';
import { webhookOperationsFor } from '../../src/webhooks/operations.js';
import { webhooksRoutes } from '../../src/api/routes/webhooks.js';
import { freshDatabase, type Dialect, type FreshDatabase } from './database.js';

export interface LegacyTestApp {
  app: FastifyInstance;
  database: Database;
  fresh: FreshDatabase;
  config: Config;
  outbox: Outbox;
  sender: Sender;
  guard: NetworkGuard;
  storeId: number;
  storeName: string;
  /** HTTP Basic header of the store's API user. */
  auth: string;
  userId: number;
  /** the store's legacy key (null when created with `enable: false`). */
  key: string | null;
  /** an order context like the API's, e.g. to create orders fast. */
  ctx(source?: string): OrderContext;
  /** `GET|POST /webhooks/<path>`; a `form` object is sent form-encoded. */
  legacy(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface LegacyTestOptions {
  plan?: Plan;
  enable?: boolean;
  timezone?: string;
  pageSize?: number;
  maxOrderIds?: number;
  config?: Partial<Config>;
}

export async function createLegacyApp(dialect: Dialect, options: LegacyTestOptions = {}): Promise<LegacyTestApp> {
  const fresh = await freshDatabase(dialect);
  const database = fresh.database;
  const config: Config = { ...loadConfig({}, {}), dataDir: fresh.dataDir, rateLimitPerSecond: 0, allowTargets: parseAllowList('127.0.0.0/8'), retryBaseMs: 50, ...options.config };
  const guard = new NetworkGuard(config.allowTargets);
  const sender = createSender({ guard, connectTimeoutMs: 2000, totalTimeoutMs: 5000, userAgent: 'storehook/test' });
  const outbox = withLegacyBridge(createOutbox());
  const webhooks = webhookOperationsFor({ database, sender, guard, config, version: 'test', wake: () => undefined });
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp({
      config,
      database,
      sink: outbox,
      logger: false,
      apiV1Plugins: [
        async (api) => {
          await api.register(webhooksRoutes, { database, webhooks });
        },
      ],
      rootPlugins: [
        async (root) => {
          await root.register(legacyRoutes, {
            database,
            config,
            webhooks,
            sink: outbox,
            ...(options.pageSize ? { pageSize: options.pageSize } : {}),
            ...(options.maxOrderIds ? { maxOrderIds: options.maxOrderIds } : {}),
          });
        },
      ],
    });
    await app.ready();
    const store = await createStore(database.kysely, { name: 'shop', plan: options.plan ?? 'advanced', timezone: options.timezone ?? 'Europe/Helsinki' });
    const user = await createApiUser(database.kysely, 'shop', 'erp@shop.example');
    const key = options.enable === false ? null : (await issueLegacyKey(database, 'shop', { rotate: false })).key;
    const built = app;
    let closed = false;
    return {
      app: built,
      database,
      fresh,
      config,
      outbox,
      sender,
      guard,
      storeId: store.id,
      storeName: store.name,
      auth: `Basic ${Buffer.from(`${user.email}:${user.apiKey}`).toString('base64')}`,
      userId: user.userId,
      key,
      ctx: (source = 'storefront') => ({ database, storeId: store.id, userId: null, sink: outbox, source }),
      legacy(method, path, form) {
        return built.inject({
          method,
          url: `/webhooks/${path}`,
          ...(form ? { payload: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
        });
      },
      async close() {
        if (closed) return;
        closed = true;
        try {
          await built.close();
          await sender.close();
        } finally {
          await fresh.cleanup();
        }
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await sender.close().catch(() => undefined);
    await fresh.cleanup().catch(() => undefined);
    throw error;
  }
}

/** An order with two products, shipping, payment costs and a discount (every kind of XML row). */
export function fullOrderBody(overrides: Partial<CreateOrderBody> = {}): CreateOrderBody {
  return {
    language: 'fi',
    customer_information: { first_name: 'Maija', last_name: 'Meikäläinen', company: 'Oy Esimerkki Ab', vat_code: '1234567-8', email: 'maija@example.com', phone: '+358401234567', street_address: 'Katu 1', postal_code: '00100', city: 'Helsinki', country: 'FI' },
    shipping_method_id: 3,
    payment_method_id: 5,
    products: [
      { product_code: 'TSHIRT-M', product_name: 'T-shirt M', quantity: 2, unit_price: 19.99, vat_rate: 25.5 },
      { product_code: '63', product_name: 'Sticker', quantity: 1, unit_price: 5, vat_rate: 14 },
    ],
    shipping_costs: 4.9,
    payment_costs: 1.5,
    discount: 3,
    details: 'Please leave at the door',
    custom_data: { coupon_code: 'SUMMER3' },
    ...overrides,
  };
}

export async function makeOrder(t: LegacyTestApp, overrides: Partial<CreateOrderBody> = {}, source = 'storefront'): Promise<number> {
  const agg = await createOrder(t.ctx(source), fullOrderBody(overrides));
  return agg.order.id;
}
