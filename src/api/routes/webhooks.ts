/** The Webhooks API (SPEC §3), mounted inside the authenticated /api/v1 scope. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DEFAULT_PAGE_SIZE, listMeta } from '../paging.js';
import { parseTimeParam } from '../query.js';
import { errorResponses, Many, One, PageQuery } from '../schemas/common.js';
import { CreateSubscriptionBody, Delivery, DeliveryDetail, DiscardHeldBody, DiscardHeldResult, MessageStatus, PatchSubscriptionBody, RecoverBody, SendOutcome, Subscription, Topic } from '../../webhooks/contract.js';
import type { Database } from '../../db/connection.js';
import { conflict, invalid } from '../../errors.js';
import { isoTime, nowMs } from '../../time.js';
import { uuidFingerprint } from '../../log.js';
import { deliveryDetail, findMessage, listDeliveries, renderAttemptRecord, renderDelivery } from '../../webhooks/deliveries.js';
import type { WebhookOperations } from '../../webhooks/operations.js';
import { findSubscription, listSubscriptions, renderSubscription } from '../../webhooks/subscriptions.js';
import { exampleMessage, TOPICS } from '../../webhooks/topics.js';

export interface WebhooksRoutesOptions {
  database: Database;
  /** the process's webhook operations, shared with the dashboard and the legacy bridge. */
  webhooks: WebhookOperations;
}

const UuidParams = Type.Object({ uuid: Type.String({ maxLength: 64 }) });
const DeliveryParams = Type.Object({ uuid: Type.String({ maxLength: 64 }), id: Type.String({ maxLength: 64 }) });
const NoQuery = Type.Object({}, { additionalProperties: false });
const DeliveriesQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(MessageStatus),
    'created_at-from': Type.Optional(Type.String()),
    'created_at-to': Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const webhooksRoutes: FastifyPluginAsyncTypebox<WebhooksRoutesOptions> = async (app, options) => {
  const { database, webhooks } = options;
  const db = database.kysely;
  const tags = ['webhooks'];

  app.get('/webhooks/topics', {
    schema: { tags, summary: 'The topic catalogue', querystring: NoQuery, response: { 200: Many(Topic), ...errorResponses } },
  }, async (request) => ({
    data: TOPICS.map((t) => ({ name: t.name, description: t.description, resource: t.resource, expands: [...t.expands], example: exampleMessage(t.name) })),
    meta: listMeta(request, 1, TOPICS.length, TOPICS.length),
  }));

  app.post('/webhooks', {
    schema: { tags, summary: 'Subscribe a URL to a topic', body: CreateSubscriptionBody, querystring: NoQuery, response: { 200: One(Subscription), ...errorResponses } },
  }, async (request) => {
    const row = await webhooks.createSubscription({ storeId: request.auth.storeId, userId: request.auth.userId }, request.body);
    request.log.info({ subscription: uuidFingerprint(row.uuid), topic: row.topic }, 'webhook subscription created');
    return { data: renderSubscription(row) };
  });

  app.get('/webhooks', {
    schema: { tags, summary: "The store's subscriptions", querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: Many(Subscription), ...errorResponses } },
  }, async (request) => {
    const page = request.query.page ?? 1;
    const pageSize = request.query.page_size ?? DEFAULT_PAGE_SIZE;
    const { rows, total } = await listSubscriptions(db, request.auth.storeId, page, pageSize);
    const held = await webhooks.heldCounts(db, request.auth.storeId, rows.map((r) => r.uuid));
    return { data: rows.map((r) => renderSubscription(r, held.get(r.uuid))), meta: listMeta(request, page, pageSize, total, page * pageSize < total ? {} : undefined) };
  });

  app.get('/webhooks/:uuid', {
    schema: { tags, summary: 'One subscription', params: UuidParams, querystring: NoQuery, response: { 200: One(Subscription), ...errorResponses } },
  }, async (request) => {
    const row = await findSubscription(db, request.auth.storeId, request.params.uuid);
    return { data: renderSubscription(row, (await webhooks.heldCounts(db, request.auth.storeId, [row.uuid])).get(row.uuid)) };
  });

  app.patch('/webhooks/:uuid', {
    schema: { tags, summary: 'Change url, expands or status (enabling again resumes held messages)', params: UuidParams, querystring: NoQuery, body: PatchSubscriptionBody, response: { 200: One(Subscription), ...errorResponses } },
  }, async (request) => {
    const row = await webhooks.updateSubscription(request.auth.storeId, request.params.uuid, request.body, request.auth.email);
    return { data: renderSubscription(row, (await webhooks.heldCounts(db, request.auth.storeId, [row.uuid])).get(row.uuid)) };
  });

  app.delete('/webhooks/:uuid', {
    schema: { tags, summary: 'Remove a subscription and drop its pending and held messages', params: UuidParams, querystring: NoQuery, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    await webhooks.deleteSubscription(request.auth.storeId, request.params.uuid);
    return reply.code(204).send(null);
  });

  app.post('/webhooks/:uuid/test', {
    schema: { tags, summary: 'Send a webhook.test message now and answer with the outcome', params: UuidParams, querystring: NoQuery, response: { 200: One(SendOutcome), ...errorResponses } },
  }, async (request) => {
    const sub = await findSubscription(db, request.auth.storeId, request.params.uuid);
    const { messageId, sent } = await webhooks.sendTest(sub, nowMs());
    if (sent.status === 'busy') throw conflict('The test message is being sent by another process; look it up in the delivery log.');
    const message = await findMessage(db, request.auth.storeId, sub.uuid, messageId);
    return { data: { delivery: renderDelivery(message), attempt: renderAttemptRecord(sent.result.attempt) } };
  });

  app.get('/webhooks/:uuid/deliveries', {
    schema: { tags, summary: 'The delivery log, newest first', params: UuidParams, querystring: DeliveriesQuery, response: { 200: Many(Delivery), ...errorResponses } },
  }, async (request) => {
    const sub = await findSubscription(db, request.auth.storeId, request.params.uuid);
    const page = request.query.page ?? 1;
    const pageSize = request.query.page_size ?? DEFAULT_PAGE_SIZE;
    const filter = {
      status: request.query.status,
      from: parseTimeParam('created_at-from', request.query['created_at-from'], request.auth.timezone, 'from'),
      to: parseTimeParam('created_at-to', request.query['created_at-to'], request.auth.timezone, 'to'),
    };
    const { rows, total } = await listDeliveries(db, request.auth.storeId, sub.uuid, filter, page, pageSize);
    return { data: rows.map(renderDelivery), meta: listMeta(request, page, pageSize, total, page * pageSize < total ? {} : undefined) };
  });

  app.get('/webhooks/:uuid/deliveries/:id', {
    schema: { tags, summary: 'One message with every attempt', params: DeliveryParams, querystring: NoQuery, response: { 200: One(DeliveryDetail), ...errorResponses } },
  }, async (request) => {
    const sub = await findSubscription(db, request.auth.storeId, request.params.uuid);
    const message = await findMessage(db, request.auth.storeId, sub.uuid, request.params.id);
    return { data: await deliveryDetail(db, message) };
  });

  app.post('/webhooks/:uuid/deliveries/:id/resend', {
    schema: { tags, summary: 'Send a message again now (same webhook-id), with a fresh retry schedule', params: DeliveryParams, querystring: NoQuery, response: { 200: One(SendOutcome), ...errorResponses } },
  }, async (request) => {
    const sub = await findSubscription(db, request.auth.storeId, request.params.uuid);
    const message = await findMessage(db, request.auth.storeId, sub.uuid, request.params.id);
    const sent = await webhooks.deliverNow(message.id, request.auth.storeId);
    if (sent.status === 'busy') throw conflict(`Message ${message.message_id} is being delivered right now; check its log in a moment.`);
    const after = await findMessage(db, request.auth.storeId, sub.uuid, message.message_id);
    return { data: { delivery: renderDelivery(after), attempt: renderAttemptRecord(sent.result.attempt) } };
  });

  app.post('/webhooks/:uuid/recover', {
    schema: { tags, summary: 'Requeue every failed message created in a time window', params: UuidParams, querystring: NoQuery, body: RecoverBody, response: { 200: One(Type.Object({ count: Type.Integer(), dry_run: Type.Boolean(), since: Type.String(), until: Type.String() })), ...errorResponses } },
  }, async (request) => {
    const sub = await findSubscription(db, request.auth.storeId, request.params.uuid);
    const now = nowMs();
    const since = parseTimeParam('since', request.body.since, request.auth.timezone, 'from');
    // An empty string parses to "not given"; since is required, so say so instead of failing later.
    if (since === undefined) throw invalid('since', 'is required: an ISO-8601 date-time with offset, e.g. 2026-11-27T08:00:00Z');
    const until = parseTimeParam('until', request.body.until, request.auth.timezone, 'to') ?? now;
    if (since > until) throw invalid('since', 'is after until');
    const dryRun = request.body.dry_run ?? false;
    const count = await webhooks.recover(request.auth.storeId, sub.uuid, { since, until, dryRun }, now);
    return { data: { count, dry_run: dryRun, since: isoTime(since), until: isoTime(until) } };
  });

  app.post('/webhooks/:uuid/held/discard', {
    schema: {
      tags,
      summary: 'Discard the messages held for a disabled subscription, instead of sending them when it is enabled',
      description: 'Deletes held messages created at or before `until` (default now) and answers how many. `dry_run` only counts. Nothing else is touched: pending, delivered and failed messages stay.',
      params: UuidParams,
      querystring: NoQuery,
      body: DiscardHeldBody,
      response: { 200: One(DiscardHeldResult), ...errorResponses },
    },
  }, async (request) => {
    const sub = await findSubscription(db, request.auth.storeId, request.params.uuid);
    const until = parseTimeParam('until', request.body.until, request.auth.timezone, 'to') ?? nowMs();
    const dryRun = request.body.dry_run ?? false;
    const count = await webhooks.discardHeld(request.auth.storeId, sub.uuid, until, dryRun);
    if (!dryRun) request.log.info({ subscription: uuidFingerprint(sub.uuid), count }, 'held webhook messages discarded');
    return { data: { count, dry_run: dryRun, until: isoTime(until) } };
  });
};
