/**
 * A whole storehook (API + dispatcher, `startServer`) on a fresh database for delivery tests,
 * with the few API calls those tests need: subscribe a receiver, create an order, read the log.
 * The server listens on 127.0.0.1:0 and its network guard lets 127.0.0.0/8 through, so the
 * receivers of test/helpers/receiver.ts can be subscribed through the API.
 */
import assert from 'node:assert/strict';
import { afterEach } from 'node:test';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { loadConfig, type Config } from '../../src/config.js';
import type { Database } from '../../src/db/connection.js';
import type { AttemptResult } from '../../src/delivery/attempt.js';
import { Dispatcher } from '../../src/delivery/dispatcher.js';
import { createSender, type Sender } from '../../src/delivery/http-sender.js';
import { lowerLanesFromQueue } from '../../src/delivery/lanes.js';
import { NetworkGuard, parseAllowList } from '../../src/delivery/network-guard.js';
import type { ClaimedMessage } from '../../src/delivery/queue.js';
import type { AttemptRow as StoredAttempt, MessageRow } from '../../src/db/schema.js';
import { verify } from '../../src/sdk/verify.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { VERSION } from '../../src/version.js';
import { freshDatabase, type Dialect, type FreshDatabase } from './database.js';
import { startReceiver, type ReceivedRequest, type Receiver } from './receiver.js';

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
}

export interface SubscriptionData {
  uuid: string;
  topic: string;
  url: string;
  status: string;
  disabled_reason: string | null;
  expands: string[];
}

export interface Engine {
  server: RunningServer;
  /** the server's own database handle (queries see what the dispatcher wrote). */
  database: Database;
  config: Config;
  fresh: FreshDatabase;
  storeId: number;
  /** an authenticated call to `/api/v1<path>`; the body is parsed JSON (null for 204). */
  api<T = any>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>>;
  /** POST /webhooks; throws unless 200. */
  subscribe(url: string, topic?: string, expands?: string[]): Promise<SubscriptionData>;
  /** POST /orders with one product; returns the order id. Throws unless 200. */
  createOrder(note?: string): Promise<number>;
  /** the stored messages of one subscription, oldest first. */
  messages(subscriptionUuid: string): Promise<MessageRow[]>;
  /** the recorded attempts of one message row, in attempt order. */
  attempts(messageRowId: number): Promise<AttemptRow[]>;
  /**
   * Skips a waiting message's clock: due now (its lane too, as every write that makes a message due
   * lowers it), optionally at a later attempt; wakes the dispatcher. Not while it is in flight.
   */
  dueNow(messageRowId: number, attemptCount?: number): Promise<void>;
  close(): Promise<void>;
}

export type AttemptRow = Pick<StoredAttempt, 'attempt_number' | 'started_at' | 'duration_ms' | 'status_code' | 'error_class' | 'error_message' | 'response_body' | 'worker_id'>;

/** Settings every delivery test wants; `overrides` wins. */
export function engineConfig(dataDir: string, databaseUrl: string | undefined, overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({}, {}),
    port: 0,
    host: '127.0.0.1',
    dataDir,
    databaseUrl,
    allowTargets: parseAllowList('127.0.0.0/8'),
    logLevel: (process.env['TEST_LOG_LEVEL'] ?? 'silent') as Config['logLevel'],
    retryBaseMs: 100,
    rateLimitPerSecond: 0,
    requestTimeoutMs: 5000,
    connectTimeoutMs: 2000,
    ...overrides,
  };
}

export interface EngineOptions {
  config?: Partial<Config>;
  /** run the dispatcher inside the server (default true). */
  dispatcher?: boolean;
  /** the server's logger (default: one at config.logLevel, silent). */
  logger?: pino.Logger;
}

export async function startEngine(dialect: Dialect, options: EngineOptions = {}): Promise<Engine> {
  const fresh = await freshDatabase(dialect, { poolSize: 2 });
  const config = engineConfig(fresh.dataDir, fresh.databaseUrl, options.config);
  let server: RunningServer;
  try {
    server = await startServer({ config, api: true, dispatcher: options.dispatcher ?? true, seedDemo: true, ...(options.logger ? { logger: options.logger } : {}) });
  } catch (err) {
    await fresh.cleanup();
    throw err;
  }
  const creds = server.demoCredentials;
  if (!creds) throw new Error('expected demo credentials on a fresh database');
  const authorization = `Basic ${Buffer.from(`${creds.email}:${creds.apiKey}`).toString('base64')}`;
  const database = server.database;
  const store = await database.kysely.selectFrom('stores').select('id').executeTakeFirstOrThrow();

  const api = async <T>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };

  let closed = false;
  return {
    server,
    database,
    config,
    fresh,
    storeId: Number(store.id),
    api,
    async subscribe(url, topic = 'order.created', expands) {
      const res = await api<{ data: SubscriptionData }>('POST', '/webhooks', { topic, url, ...(expands ? { expands } : {}) });
      if (res.status !== 200) throw new Error(`subscribe ${url}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.data;
    },
    async createOrder(note = 'engine test') {
      const res = await api<{ data: { id: number } }>('POST', '/orders', {
        customer_information: { first_name: 'Testi', last_name: 'Asiakas', email: 'testi@example.com', country: 'FI' },
        products: [{ product_code: 'SKU-1', product_name: 'Widget', quantity: 2, unit_price: 12.5 }],
        details: note,
      });
      if (res.status !== 200) throw new Error(`create order: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.data.id;
    },
    async messages(subscriptionUuid) {
      return database.kysely.selectFrom('webhook_messages').selectAll().where('subscription_uuid', '=', subscriptionUuid).orderBy('id').execute();
    },
    async attempts(messageRowId) {
      const rows = await database.kysely
        .selectFrom('webhook_attempts')
        .select(['attempt_number', 'started_at', 'duration_ms', 'status_code', 'error_class', 'error_message', 'response_body', 'worker_id'])
        .where('message_row_id', '=', messageRowId)
        .orderBy('attempt_number')
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ ...r, started_at: Number(r.started_at), duration_ms: Number(r.duration_ms) }));
    },
    async dueNow(messageRowId, attemptCount) {
      await database.kysely.transaction().execute(async (db) => {
        const moved = await db
          .updateTable('webhook_messages')
          .set({ next_attempt_at: Date.now(), ...(attemptCount === undefined ? {} : { attempt_count: attemptCount }) })
          .where('id', '=', messageRowId)
          .where('locked_by', 'is', null)
          .returning('subscription_uuid')
          .executeTakeFirstOrThrow();
        await lowerLanesFromQueue(db, [moved.subscription_uuid]);
      });
      server.dispatcher?.wake();
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await server.close();
      } finally {
        await fresh.cleanup();
      }
    },
  };
}

export { sleep, waitUntil } from './waiting.js';

/** `whsec_` + base64(uuid): the secret any Standard Webhooks library takes for a subscription. */
export function whsecOf(uuid: string): string {
  return `whsec_${Buffer.from(uuid, 'utf8').toString('base64')}`;
}

/** A received request's headers as one string each (what verify() libraries take). */
export function flatHeaders(req: ReceivedRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export interface MessageEnvelope {
  id: string;
  topic: string;
  created_at: string;
  data: { id: number } & Record<string, unknown>;
}

/**
 * Verifies a received message with the official `standardwebhooks` package (secret
 * `whsec_` + base64(uuid)) and with storehook/verify (the uuid); both must agree. Returns the body.
 */
export function verifyBoth(req: ReceivedRequest, uuid: string): MessageEnvelope {
  const headers = flatHeaders(req);
  const official = new Webhook(whsecOf(uuid)).verify(req.body, headers);
  const ours = verify(req.body, headers, uuid);
  assert.deepEqual(ours, official);
  return ours as MessageEnvelope;
}

export interface OwnDispatcherOptions {
  retryBaseMs: number;
  /** receives every log.error call (a crashed attempt is a bug). */
  errors: unknown[];
  maxInFlightPerSubscription?: number;
  concurrency?: number;
  onAttempt?: (m: ClaimedMessage, r: AttemptResult) => void;
}

/**
 * A Dispatcher of our own on an engine started with `dispatcher: false`, to observe attempts
 * (onAttempt) or to start delivering only once a backlog is in place. It is not woken by commits:
 * it polls every 20 ms.
 */
export function startOwnDispatcher(e: Engine, o: OwnDispatcherOptions): { dispatcher: Dispatcher; close(): Promise<void> } {
  const sender: Sender = createSender({ guard: new NetworkGuard(e.config.allowTargets), connectTimeoutMs: 2000, totalTimeoutMs: 5000, userAgent: `storehook/${VERSION}` });
  const log = pino({ level: 'silent' });
  const dispatcher = new Dispatcher({
    database: e.database,
    sender,
    workerId: `own-dispatcher-${Math.random().toString(16).slice(2, 8)}`,
    concurrency: o.concurrency ?? 16,
    maxInFlightPerSubscription: o.maxInFlightPerSubscription ?? 4,
    leaseMs: 10_000,
    pollIntervalMs: 20,
    retryBaseMs: o.retryBaseMs,
    retentionDays: 30,
    version: VERSION,
    log: Object.assign(log, { error: (...a: unknown[]) => void o.errors.push(a) }),
    ...(o.onAttempt ? { onAttempt: o.onAttempt } : {}),
  });
  return {
    dispatcher,
    async close() {
      await dispatcher.stop(1000);
      await sender.close();
    },
  };
}

/**
 * Engines and receivers for one test file, closed after each test in reverse order: receivers
 * (started after their engine) close first, so hung requests end at once and stop() is quick.
 */
export function perTestFixtures(): {
  engine(dialect: Dialect, options?: EngineOptions): Promise<Engine>;
  receiver(handler?: Parameters<typeof startReceiver>[0]): Promise<Receiver>;
  /** more clean-ups to run after the test. */
  cleanups: (() => Promise<unknown>)[];
} {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  });
  return {
    cleanups,
    async engine(dialect, options = {}) {
      const e = await startEngine(dialect, options);
      cleanups.push(() => e.close());
      return e;
    },
    async receiver(handler) {
      const r = await startReceiver(handler);
      cleanups.push(() => r.close());
      return r;
    },
  };
}
