/**
 * The Fastify application: conventions first (errors, JSON parsing, text guard, docs), then the
 * authenticated /api scope with one plugin per resource.
 */
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/connection.js';
import { loggerOptions } from '../log.js';
import { RequestLog } from './request-log.js';
import type { OrderEventSink } from '../orders/events.js';
import { registerAuth } from './auth.js';
import { assignBodyLimit, DEFAULT_BODY_LIMIT } from './body-limits.js';
import { createLimiters, type Limiters } from './limiters.js';
import { registerErrorHandling, sendError } from './errors.js';
import { applyConnectionLimits, httpServerOptions } from './http-server.js';
import { swaggerOptions } from './openapi.js';
import { catalogueRoutes } from './routes/catalogue.js';
import { customersRoutes } from './routes/customers.js';
import { ordersRoutes } from './routes/orders.js';
import { productsRoutes } from './routes/products.js';
import { stockRoutes } from './routes/stock.js';
import { coerceToSchema } from './query.js';
import { findForbiddenText } from './text-guard.js';
import { boundedValidatorFactory } from './validation.js';

export interface AppDeps {
  config: Config;
  database: Database;
  sink: OrderEventSink;
  /** extra plugins mounted inside the authenticated /api/v1 scope (webhooks, listen, …). */
  apiV1Plugins?: ((app: FastifyInstance) => Promise<void>)[];
  /** plugins mounted at the root, outside /api (health, metrics, dashboard, legacy bridge). */
  rootPlugins?: ((app: FastifyInstance) => Promise<void>)[];
  /** the process's shared limiters (also given to the dashboard and legacy routes); default: new ones. */
  limiters?: Limiters;
  /** a logger to use; false for none; default: a pino logger at the configured level. */
  logger?: FastifyBaseLogger | false;
  /** installs hooks before any route exists, so they see every route (e.g. request metrics). */
  instrument?: (app: FastifyInstance) => void;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Fastify's instance type depends on the logger; the app is used through the base type.
  const logging = deps.logger === undefined ? { logger: loggerOptions(deps.config.logLevel) } : deps.logger === false ? { logger: false } : { loggerInstance: deps.logger };
  const app = Fastify({
    ...logging,
    ...httpServerOptions(deps.config),
    bodyLimit: DEFAULT_BODY_LIMIT,
    // Fail-fast validation, with the complete error list only for small bodies (src/api/validation.ts).
    schemaController: { compilersFactory: { buildValidator: boundedValidatorFactory() } },
    // Fastify's default joins every ajv error into one message; ours is written from the first few (errors.ts).
    schemaErrorFormatter: (_errors, dataVar) => new Error(`Invalid ${dataVar}.`),
    // one line per request instead of two, and a setting to turn them off
    logController: new RequestLog(deps.config.logRequests),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    },
    trustProxy: false,
    ajv: {
      // Reject unknown fields instead of silently dropping them; report every problem at once
      // when the body is small (allErrors is decided per request by the validator factory above).
      // No type coercion: a JSON body must carry the right types ({"quantity": "3"} or
      // {"details": null} → "" must not slip through). Query strings and path parameters are
      // text by nature; the preValidation hook below converts them to their schema's types.
      customOptions: { removeAdditional: false, allErrors: true, coerceTypes: false, useDefaults: true },
    },
    routerOptions: { maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  applyConnectionLimits(app, deps.config);
  deps.instrument?.(app);
  app.addHook('onRoute', assignBodyLimit);
  registerErrorHandling(app);
  // MyCashflow refuses a trailing slash; answer that before authentication so the hint is seen.
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (path.startsWith('/api/') && path.endsWith('/')) {
      return sendError(reply, 404, `Remove the trailing slash: use ${path.replace(/\/+$/, '')} instead of ${path}.`);
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // Fastify parses text/plain by default; this API takes JSON only, so that is a 415 like any other type.
  app.removeContentTypeParser('text/plain');
  // Ajv does not coerce (see above): turn query-string and path values ("2", "true") into their
  // schema's types here, and bodies too when they did not come as JSON (e.g. HTML forms).
  app.addHook('preValidation', async (request) => {
    const schema = request.routeOptions.schema;
    if (!schema) return;
    if (schema.querystring) request.query = coerceToSchema(schema.querystring, request.query);
    if (schema.params) request.params = coerceToSchema(schema.params, request.params);
    const type = String(request.headers['content-type'] ?? '');
    if (schema.body && !/^application\/json\b/i.test(type)) request.body = coerceToSchema(schema.body, request.body);
    // A body declared Type.Optional (quick-process, complete) may be left out: validate it as {}.
    if (request.body == null && (schema.body as { '~optional'?: boolean } | undefined)?.['~optional'] === true) request.body = {};
  });

  // An empty body with a JSON content type is "no body" (clients POST /cancel that way).
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    jsonParser(request, text, done);
  });
  app.addHook('preValidation', async (request, reply) => {
    if (request.body === undefined || request.body === null) return;
    const problem = findForbiddenText(request.body);
    if (problem) return sendError(reply, 400, `Invalid request body: ${problem.field} ${problem.message}.`, [problem]);
  });

  // OpenAPI 3.1 from the route schemas; titled schemas become named components (openapi.ts).
  await app.register(swagger, swaggerOptions());
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // v1 and v0 count failed logins and requests together.
  const limiters = deps.limiters ?? createLimiters(deps.database, deps.config);
  for (const [prefix, hide] of [['/api/v1', false], ['/api/v0', true]] as const) {
    await app.register(
      async (api) => {
        registerAuth(api, { database: deps.database, limiters });
        await api.register(ordersRoutes, { database: deps.database, sink: deps.sink, hide });
        // The rest of the store (issue #15); the same handlers under v0, hidden, as MyCashflow serves some there.
        for (const routes of [productsRoutes, stockRoutes, customersRoutes, catalogueRoutes]) await api.register(routes, { database: deps.database, sink: deps.sink, hide });
        if (prefix === '/api/v1') for (const plugin of deps.apiV1Plugins ?? []) await plugin(api);
      },
      { prefix },
    );
  }
  for (const plugin of deps.rootPlugins ?? []) await app.register(plugin);
  return app;
}
