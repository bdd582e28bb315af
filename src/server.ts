/**
 * Assembles a running process from its parts: database, API, dispatcher. `serve` runs all three;
 * `serve --no-dispatcher` only the API; `worker` only the dispatcher (with health and metrics).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import Fastify from 'fastify';
import pino from 'pino';
import { buildApp } from './api/app.js';
import { createLimiters } from './api/limiters.js';
import { ensureDemoStore } from './admin/demo.js';
import type { Config } from './config.js';
import { openDatabase, type Database, type Listener } from './db/connection.js';
import { checkSqliteIntegrity } from './db/integrity.js';
import { migrateToLatest } from './db/migrate.js';
import type { DispatcherHandle } from './delivery/dispatcher.js';
import { ThreadedDispatcher } from './dispatcher-thread.js';
import { dispatcherFor, healthSweepFor, senderFor } from './dispatcher-setup.js';
import type { HealthSweep } from './webhooks/health.js';
import type { Sender } from './delivery/http-sender.js';
import { NetworkGuard } from './delivery/network-guard.js';
import { createLogger } from './log.js';
import { VERSION } from './version.js';
import { registerErrorHandling } from './api/errors.js';
import { applyConnectionLimits, httpServerOptions } from './api/http-server.js';
import { RequestLog } from './api/request-log.js';
import { timeRequests } from './ops/http-metrics.js';
import { createMetrics } from './ops/metrics.js';
import { opsRoutes } from './ops/routes.js';
import { listenRoutes } from './api/routes/listen.js';
import { dashboardRoutes } from './dashboard/plugin.js';
import { legacyRoutes } from './legacy/routes.js';
import { withLegacyBridge } from './legacy/sink.js';
import { WAKE_CHANNEL } from './db/channels.js';
import { createOutbox } from './webhooks/outbox.js';
import { webhookOperationsFor } from './webhooks/operations.js';
import { webhooksRoutes } from './api/routes/webhooks.js';

export interface RunningServer {
  app: FastifyInstance;
  database: Database;
  dispatcher: DispatcherHandle | null;
  /** `http://host:port` the API answers on. */
  url: string;
  /** set on the first run only: the demo store's credentials, shown once. */
  demoCredentials: { email: string; apiKey: string } | null;
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  dispatcher: boolean;
  api: boolean;
  /** create the demo store when the database has no store (serve only). */
  seedDemo: boolean;
  logger?: pino.Logger;
  /**
   * Run the dispatcher in a worker thread with its own connection (default: on SQLite when the API
   * runs in the same process, so no claim or outcome write holds a request; dispatcher-thread.ts).
   */
  dispatcherThread?: boolean;
}

export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config } = options;
  const log = options.logger ?? createLogger(config.logLevel);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    sqliteSync: config.sqliteSync,
    poolSize: config.dbPoolSize,
    poolQueueLimit: config.dbPoolQueue,
    poolWaitMs: config.dbPoolWaitMs,
  });
  let sender: Sender | null = null;
  let wake: Listener | null = null;
  let dispatcher: DispatcherHandle | null = null;
  // On the main thread only with a dispatcher there; the SQLite dispatcher thread runs its own (dispatcher-setup.ts).
  let health: HealthSweep | null = null;
  let app: FastifyInstance | null = null;
  try {
    const integrity = await checkSqliteIntegrity(database, config.sqliteCheckMaxMb);
    if (!integrity.ok) log.error({ problem: integrity.detail }, 'database file damaged: /healthz answers 503 until it is restored');
    else if (integrity.detail) log.warn(integrity.detail);
    await migrateToLatest(database);
    const demoCredentials = options.seedDemo ? await ensureDemoStore(database) : null;
    const guard = new NetworkGuard(config.allowTargets);
    const s = senderFor(config, guard);
    sender = s;
    // The legacy bridge rides on every order change: automatic POST + change log (src/legacy/sink.ts).
    const outbox = withLegacyBridge(createOutbox());
    const role = options.api ? (options.dispatcher ? 'serve' : 'api') : 'worker';
    const metrics = createMetrics(database, role, () => dispatcher?.inFlight ?? 0);
    if (options.dispatcher) {
      // SQLite `serve`: in a thread of its own, off the API's event loop (dispatcher-thread.ts).
      const threaded = options.dispatcherThread ?? (options.api && database.dialect === 'sqlite');
      const hooks = { workerId: newWorkerId(), log: log.child({ component: 'dispatcher' }), onClaim: metrics.onClaim, onAttempt: metrics.onAttempt };
      const d = threaded ? new ThreadedDispatcher({ config, ...hooks }) : dispatcherFor(config, { database, sender: s, ...hooks });
      dispatcher = d;
      outbox.onWake(() => d.wake());
      // Commits of other processes (PostgreSQL); this process's own commits wake it through the outbox.
      wake = database.listen(WAKE_CHANNEL, () => d.wake(), log);
      if (d instanceof ThreadedDispatcher) {
        const ready = d.ready();
        d.start();
        // Fail loudly at start rather than serve with no delivery.
        await ready;
      } else {
        d.start();
        health = healthSweepFor(config, { database, log: hooks.log, wake: () => d.wake() });
        health.start();
      }
    }
    const d = dispatcher;
    if (options.api) {
      // One service for what the front ends do to messages; `wake` tells this process's
      // dispatcher (if any) that messages became due: requeued, resumed, or a retry scheduled.
      const webhooks = webhookOperationsFor({ database, sender: s, guard, config, version: VERSION, wake: () => d?.wake() });
      // One failed-login limit per address and one rate per user, whichever surface is used.
      const limiters = createLimiters(database, config);
      app = await buildApp({
        config,
        database,
        sink: outbox,
        logger: log,
        limiters,
        instrument: (root) => timeRequests(root, metrics),
        apiV1Plugins: [
          async (api) => {
            await api.register(webhooksRoutes, { database, webhooks });
          },
          async (api) => {
            await api.register(listenRoutes, { database, outbox });
          },
          // (more authenticated /api/v1 plugins go here, one entry each)
        ],
        rootPlugins: [
          async (root) => opsRoutes(root, { database, metrics, role }),
          async (root) => dashboardRoutes(root, { database, config, webhooks, limiters }),
          // The old XML Webhooks extension at /webhooks/*.
          async (root) => {
            await root.register(legacyRoutes, { database, config, webhooks, sink: outbox, limiters });
          },
          // (plugins outside /api go here, one entry each: health, metrics, dashboard, legacy bridge)
        ],
      });
    } else {
      // A worker serves only health and metrics.
      const workerApp = Fastify({ loggerInstance: log, logController: new RequestLog(config.logRequests), ...httpServerOptions(config) }) as unknown as FastifyInstance;
      applyConnectionLimits(workerApp, config);
      timeRequests(workerApp, metrics);
      registerErrorHandling(workerApp);
      await workerApp.register(async (root) => opsRoutes(root, { database, metrics, role }));
      app = workerApp;
    }
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
    const running = app;
    return {
      app: running,
      database,
      dispatcher,
      url: `http://${shownHost}:${port}`,
      demoCredentials,
      async close() {
        await running.close();
        await health?.stop();
        await dispatcher?.stop();
        await wake?.close();
        await s.close();
        await database.close();
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await health?.stop();
    await dispatcher?.stop(0).catch(() => undefined);
    await wake?.close();
    await sender?.close().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw err;
  }
}
