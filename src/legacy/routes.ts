/**
 * The old XML Webhooks extension's actions at `/webhooks/<action>` (outside /api; the JSON
 * Webhooks API is /api/v1/webhooks): `get`, `changes`, `process`, `send`. Authentication is the
 * store's legacy key in the `key` parameter (query or body), or a dashboard browser session.
 * Every answer is XML (`application/xml; charset=utf-8`); every error an `<error>` document with a
 * fitting status — never HTML, never JSON. See docs/migrating-from-xml-webhooks.md.
 */
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { addErrorSurface } from '../api/error-surfaces.js';
import { sizeText } from '../api/errors.js';
import { createLimiters, type Limiters } from '../api/limiters.js';
import type { Config } from '../config.js';
import type { Database } from '../db/connection.js';
import { classifyFault, isClientAbort } from '../db/faults.js';
import { DomainError } from '../errors.js';
import type { OrderAggregate } from '../orders/aggregate.js';
import type { OrderEventSink } from '../orders/events.js';
import { methodNames } from '../orders/methods.js';
import { findOrder, loadAggregate, loadAggregates } from '../orders/repository.js';
import * as service from '../orders/service.js';
import { nowMs } from '../time.js';
import type { WebhookOperations } from '../webhooks/operations.js';
import { XML_CONTENT_TYPE } from '../webhooks/topics.js';
import { pageChanges, type ChangeColumn } from './change-log.js';
import { errorDocument, LegacyError, sendXml, sendXmlError, shown } from './errors.js';
import { ordersDocument } from './order-xml.js';
import { parseFlag, parseId, parseIdList, parseText, parseUnixSeconds, RawBody, readParams, type Params } from './params.js';
import { legacyActionDocs } from './route-docs.js';
import { findStoreByLegacyKey, type LegacyStore } from './settings.js';
import { automaticPostTarget, insertLegacyMessage } from './sink.js';
import { el, xmlDocument, type AttrValue } from './xml.js';

export interface LegacyRoutesOptions {
  database: Database;
  config: Config;
  /** the process's webhook operations: the `send` action sends through them. */
  webhooks: WebhookOperations;
  /** the same sink as the API's (the wrapped outbox), so `process` emits the same JSON webhooks. */
  sink: OrderEventSink;
  /** the process's shared limiters (failed logins per address, request rate); default: its own. */
  limiters?: Limiters;
  /** orders per `changes` page before it is cut at a second boundary (default 250). */
  pageSize?: number;
  /** most ids one `order_ids` may list (default 500). */
  maxOrderIds?: number;
}

export const LEGACY_PAGE_SIZE = 250;
export const LEGACY_MAX_ORDER_IDS = 500;
const ACTIONS = new Map<string, { methods: string[] }>([
  ['get', { methods: ['GET', 'HEAD', 'POST'] }],
  ['changes', { methods: ['GET', 'HEAD', 'POST'] }],
  ['process', { methods: ['POST'] }],
  ['send', { methods: ['GET', 'POST'] }],
]);
const KEY_CHALLENGE = { 'www-authenticate': 'Key realm="storehook webhooks", param="key"' };

interface Caller {
  store: LegacyStore;
  userId: number | null;
}

function success(attrs: Record<string, AttrValue>, message: string): string {
  return xmlDocument(el('success', attrs, message));
}

export const legacyRoutes: FastifyPluginAsync<LegacyRoutesOptions> = async (app, options) => {
  // Errors found before routing (bad URL, headers too large, a timed-out body) reach old clients as XML too.
  addErrorSurface(app.server, { matches: (path) => path === '/webhooks' || path.startsWith('/webhooks/'), contentType: XML_CONTENT_TYPE, render: (_status, message) => errorDocument(message) });
  await app.register(async (scope) => registerScope(scope, options), { prefix: '/webhooks' });
};

async function registerScope(scope: FastifyInstance, options: LegacyRoutesOptions): Promise<void> {
  const { database, config, webhooks, sink } = options;
  const db = database.kysely;
  const pageSize = options.pageSize ?? LEGACY_PAGE_SIZE;
  const maxOrderIds = options.maxOrderIds ?? LEGACY_MAX_ORDER_IDS;
  const { loginFailures: failures, perUser: perStore } = options.limiters ?? createLimiters(database, config);

  // Form bodies (urlencoded or multipart, any charset) are read by params.ts; nothing here is JSON.
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => done(null, new RawBody(body as Buffer, request.headers['content-type'])));

  scope.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof LegacyError) return sendXmlError(reply, error.status, error.message, error.headers);
    if (error instanceof DomainError) return sendXmlError(reply, error.status, error.message);
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendXmlError(reply, 413, `The request body is larger than ${sizeText(request.routeOptions.bodyLimit ?? 1024 * 1024)}; send fewer or shorter parameters.`);
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendXmlError(reply, 400, 'The Content-Length header does not match the body.');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendXmlError(reply, 415, 'Send the parameters in the query string or as form fields.');
    }
    if (isClientAbort(request, error)) {
      request.log.info({ reason: error.message }, 'client closed the connection before the answer');
      return sendXmlError(reply, 400, 'The request was aborted before its body arrived.');
    }
    const fault = classifyFault(error);
    if (fault) {
      request.log.warn({ err: error }, fault.log);
      return sendXmlError(reply, fault.status, fault.message, fault.retryAfter ? { 'retry-after': String(fault.retryAfter) } : undefined);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendXmlError(reply, status, error.message);
    request.log.error({ err: error }, 'unhandled error in the legacy webhooks bridge');
    return sendXmlError(reply, 500, 'Something went wrong on the server; it has been logged. Try again, and report it if it persists.');
  });

  scope.setNotFoundHandler((request, reply) => {
    const path = (request.raw.url ?? '').split('?')[0] ?? '';
    const action = /^\/webhooks\/([^/]*)\/?$/.exec(path)?.[1];
    const spec = action === undefined ? undefined : ACTIONS.get(action);
    if (spec && !path.endsWith('/')) {
      const allowed = spec.methods.join(', ');
      return sendXmlError(reply, 405, `${request.method} is not allowed for /webhooks/${action}; use ${allowed}.`, { allow: allowed });
    }
    if (spec) return sendXmlError(reply, 404, `Remove the trailing slash: use /webhooks/${action}.`);
    return sendXmlError(reply, 404, `No Webhooks action at ${shown(path, 100)}: the actions are /webhooks/get, /webhooks/changes, /webhooks/process and /webhooks/send.`);
  });

  async function authenticate(request: FastifyRequest, params: Params): Promise<Caller> {
    const key = params.get('key');
    if (key === undefined || key === '') throw new LegacyError(401, "Missing key: add key=<the store's legacy key> to the query string or the form fields.", KEY_CHALLENGE);
    const store = await findStoreByLegacyKey(db, key);
    if (!store) {
      await failures.record(request.ip);
      throw new LegacyError(401, "Wrong key: it is not the legacy key of any store. The store's operator issues one with `storehook stores legacy-key --store <store>`.", KEY_CHALLENGE);
    }
    const caller: Caller = { store, userId: null };
    if (store.plan === 'free') {
      throw new LegacyError(403, `The Webhooks extension is not available on the free plan; store "${store.storeName}" is on it. Move the store to basic or above.`);
    }
    if (!store.enabled) {
      throw new LegacyError(403, `The Webhooks extension is not enabled for store "${store.storeName}". Its operator enables it with \`storehook stores legacy-key --store ${store.storeId}\`.`);
    }
    const wait = perStore.take(`legacy:${store.storeId}`);
    if (wait > 0) throw new LegacyError(429, `Too many requests for this store; retry after ${wait} s.`, { 'retry-after': String(wait) });
    return caller;
  }

  async function loadOrders(storeId: number, ids: readonly number[]): Promise<OrderAggregate[]> {
    const byId = new Map<number, OrderAggregate>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = await db.selectFrom('orders').selectAll().where('store_id', '=', storeId).where('id', 'in', chunk).execute();
      // Shipments too: the pickup point code is on the shipment.
      for (const agg of await loadAggregates(db, storeId, rows, ['products', 'shipments'])) byId.set(agg.order.id, agg);
    }
    return ids.map((id) => byId.get(id)).filter((a): a is OrderAggregate => a !== undefined);
  }

  async function getAction(caller: Caller, params: Params, reply: FastifyReply) {
    const orderId = parseId('order', params.get('order'));
    const agg = await loadAggregate(db, caller.store.storeId, orderId);
    if (!agg) throw new LegacyError(404, `Order ${orderId} was not found in this store.`);
    return sendXml(reply, 200, ordersDocument([agg], { timezone: caller.store.timezone, methods: await methodNames(db, caller.store.storeId, [agg.order]) }));
  }

  async function changesAction(caller: Caller, params: Params, reply: FastifyReply) {
    const storeId = caller.store.storeId;
    const timeParams = ['ts', 'updated_after_ts', 'update_after_ts', 'created_after_ts'].filter((n) => params.has(n));
    const idList = params.get('order_ids');
    if (idList !== undefined && timeParams.length > 0) throw new LegacyError(400, `Give either order_ids or a timestamp (${timeParams.join(', ')}), not both.`);
    if (timeParams.length > 1) throw new LegacyError(400, `Give one timestamp parameter, not ${timeParams.join(' and ')}.`);
    let orderIds: number[];
    let timeTo: number;
    if (idList !== undefined) {
      orderIds = parseIdList('order_ids', idList, maxOrderIds);
      timeTo = Math.floor(nowMs() / 1000) - 1;
    } else {
      const name = timeParams[0];
      if (name === undefined) {
        throw new LegacyError(400, 'changes needs ts=<unix seconds> (orders changed since then; also updated_after_ts), created_after_ts=<unix seconds> (orders created since), or order_ids=1,2,3.');
      }
      const from = parseUnixSeconds(name, params.get(name)!);
      const column: ChangeColumn = name === 'created_after_ts' ? 'created_at' : 'changed_at';
      ({ orderIds, timeTo } = await pageChanges(database, storeId, column, from, pageSize));
    }
    const aggs = await loadOrders(storeId, orderIds);
    const methods = await methodNames(db, storeId, aggs.map((a) => a.order));
    return sendXml(reply, 200, ordersDocument(aggs, { timezone: caller.store.timezone, timeTo, methods }));
  }

  async function deliver(ctx: service.OrderContext, orderId: number, params: Params, reply: FastifyReply) {
    parseFlag('send_email', params.get('send_email'), false); // storehook sends no e-mail; the flag is checked, then ignored
    const rawTracking = params.get('tracking_code');
    // Stored on every shipment this call completes, as the API's complete call does.
    const trackingCode = rawTracking === undefined || rawTracking.trim() === '' ? undefined : parseText('tracking_code', rawTracking.trim(), 200);
    const order = await findOrder(db, ctx.storeId, orderId);
    if (!order) throw new LegacyError(404, `Order ${orderId} was not found in this store.`);
    if (order.status === 'CANCELLED') throw new LegacyError(409, `Order ${orderId} is cancelled: it cannot be delivered.`);
    const open = await db.selectFrom('shipments').select('id').where('store_id', '=', ctx.storeId).where('order_id', '=', orderId).where('status', '=', 'OPEN').orderBy('id').execute();
    let completed = 0;
    // Each shipment exactly as POST /api/v1/orders/{id}/shipments/{sid}/complete does it: the same
    // state change and the same JSON webhooks (order.shipment_completed, order.updated, order.completed).
    for (const { id } of open) {
      try {
        await service.completeShipment(ctx, orderId, id, trackingCode);
        completed++;
      } catch (err) {
        // Completed meanwhile by another request: that is the state we want.
        if (err instanceof DomainError && err.status === 409 && /already COMPLETED/.test(err.message)) continue;
        throw err;
      }
    }
    const after = await findOrder(db, ctx.storeId, orderId);
    const text = completed === 0 ? `Order ${orderId} was already delivered; nothing changed.` : `Order ${orderId} delivered: ${completed} shipment${completed === 1 ? '' : 's'} completed.`;
    return sendXml(reply, 200, success({ action: 'deliver', order: orderId, status: after?.status === 'COMPLETED' ? 'Shipped' : 'Open' }, text));
  }

  async function addComment(ctx: service.OrderContext, orderId: number, params: Params, reply: FastifyReply) {
    const message = parseText('message', params.get('message'), 10_000);
    const isPublic = parseFlag('public_message', params.get('public_message'), false);
    const result = await service.addComment(ctx, orderId, message, isPublic ? 'PUBLIC' : 'PRIVATE');
    return sendXml(reply, 200, success({ action: 'add_comment', order: orderId, comment_id: result.commentId, visibility: isPublic ? 'public' : 'private' }, `${isPublic ? 'Public' : 'Private'} comment added to order ${orderId}.`));
  }

  async function processAction(caller: Caller, params: Params, reply: FastifyReply) {
    const name = params.get('action');
    if (name === undefined || name === '') throw new LegacyError(400, 'process needs action=deliver (with order, send_email) or action=add_comment (with order, message, public_message).');
    if (name !== 'deliver' && name !== 'add_comment') throw new LegacyError(404, `Unknown process action ${shown(name)}: use action=deliver or action=add_comment.`);
    const orderId = parseId('order', params.get('order'));
    const ctx: service.OrderContext = { database, storeId: caller.store.storeId, userId: caller.userId, sink, source: 'legacy' };
    return name === 'deliver' ? deliver(ctx, orderId, params, reply) : addComment(ctx, orderId, params, reply);
  }

  async function sendAction(caller: Caller, params: Params, reply: FastifyReply) {
    const storeId = caller.store.storeId;
    const orderId = parseId('order', params.get('order'));
    const agg = await loadAggregate(db, storeId, orderId);
    if (!agg) throw new LegacyError(404, `Order ${orderId} was not found in this store.`);
    const target = await automaticPostTarget(db, agg, true);
    if (!target) {
      const sub = await db
        .selectFrom('legacy_settings as l')
        .innerJoin('webhook_subscriptions as s', 's.uuid', 'l.subscription_uuid')
        .select(['s.status', 's.disabled_reason'])
        .where('l.store_id', '=', storeId)
        .executeTakeFirst();
      throw new LegacyError(
        409,
        sub
          ? `The automatic POST of this store is disabled (${sub.disabled_reason ?? 'no reason recorded'}). The operator enables it again by setting its URL: storehook stores legacy --store ${storeId} --post-url <url>.`
          : `This store has no automatic POST URL. The operator sets one with: storehook stores legacy --store ${storeId} --post-url <url>.`,
      );
    }
    // A new message with the order as it is now, sent at once through the delivery engine.
    const now = nowMs();
    const { rowId, messageId } = await insertLegacyMessage(db, agg, target, now, now + webhooks.leaseMs);
    const sent = await webhooks.deliverNow(rowId, storeId);
    if (sent.status === 'busy') throw new LegacyError(409, 'The POST is being sent by another process right now; try again in a moment.');
    const { attempt, outcome } = sent.result;
    if (outcome.kind === 'delivered') {
      return sendXml(reply, 200, success({ action: 'send', order: orderId, message_id: messageId, status_code: attempt.statusCode }, `Order ${orderId} was POSTed; the receiver answered ${attempt.statusCode}.`));
    }
    const why = attempt.statusCode !== null ? `the receiver answered ${attempt.statusCode}` : `${attempt.errorClass ?? 'network error'}${attempt.errorMessage ? `: ${attempt.errorMessage}` : ''}`;
    const next = outcome.kind === 'failed' && outcome.nextAttemptAt !== null ? ` It is retried automatically, next at ${new Date(outcome.nextAttemptAt).toISOString()}.` : '';
    return sendXml(reply, 502, errorDocument(`The POST of order ${orderId} failed (${why}).${next} Message ${messageId}.`));
  }

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const action = (request.params as { action: string }).action;
    const spec = ACTIONS.get(action);
    if (!spec) throw new LegacyError(404, `Unknown action ${shown(action)}: the Webhooks actions are get, changes, process and send, e.g. /webhooks/get?order=23&key=<key>.`);
    if (!spec.methods.includes(request.method)) {
      throw new LegacyError(405, `${request.method} is not allowed for /webhooks/${action}; use ${spec.methods.join(', ')}.`, { allow: spec.methods.join(', ') });
    }
    const blocked = await failures.blockedFor(request.ip);
    if (blocked > 0) throw new LegacyError(429, `Too many wrong keys from your address; try again in ${blocked} s.`, { 'retry-after': String(blocked) });
    const params = readParams(request);
    const caller = await authenticate(request, params);
    switch (action) {
      case 'get':
        return getAction(caller, params, reply);
      case 'changes':
        return changesAction(caller, params, reply);
      case 'process':
        return processAction(caller, params, reply);
      default:
        return sendAction(caller, params, reply);
    }
  };
  // One route per method, so each is its own documented operation (route-docs.ts).
  for (const method of ['GET', 'POST'] as const) scope.route({ method, url: '/:action', config: { swaggerTransform: legacyActionDocs(method) }, handler });
}
