/** The Webhooks API (SPEC §3), mounted inside the authenticated /api/v1 scope. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DEFAULT_PAGE_SIZE, listMeta } from '../paging.js';
import { parseTimeParam } from '../query.js';
import { errorResponses, Many, One, PageQuery } from '../schemas/common.js';
import { CreateSubscriptionBody, Delivery, DeliveryDetail, DiscardHeldBody, DiscardHeldResult, MessageStatus, PatchSubscriptionBody, RecoverBody, RotatedSecret, RotateSecretBody, SavedSubscription, SendOutcome, Subscription, Topic } from '../../webhooks/contract.js';
import type { Database } from '../../db/connection.js';
import { heldCounts } from '../../delivery/queue-views.js';
import { conflict, invalid } from '../../errors.js';
import { isoTime, nowMs } from '../../time.js';
import { uuidFingerprint } from '../../log.js';
import { deliveryDetail, findMessage, listDeliveries, renderAttemptRecord, renderDelivery } from '../../webhooks/deliveries.js';
import type { WebhookOperations } from '../../webhooks/operations.js';
import type { SubscriptionRow } from '../../db/schema.js';
import { signingViews, type IssuedKeys } from '../../webhooks/signing-keys.js';
import { healthViews } from '../../webhooks/health-view.js';
import { SETTINGS } from '../../config.js';
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

/** The answer's fields of the keys a request made; absent when it made none. */
function shownOnce(issued: IssuedKeys): { secret?: string; public_key?: string } {
  return {
    ...(issued.secret !== undefined ? { secret: issued.secret } : {}),
    ...(issued.publicKey !== undefined ? { public_key: issued.publicKey } : {}),
  };
}

export const webhooksRoutes: FastifyPluginAsyncTypebox<WebhooksRoutesOptions> = async (app, options) => {
  const { database, webhooks } = options;
  const db = database.kysely;
  const tags = ['webhooks'];
  const disableAfterMs = webhooks.policy.disableAfterMs ?? SETTINGS.webhookDisableAfterMs.default;

  /** Subscriptions as the API shows them: with their held counts and how they sign. */
  const shown = async (storeId: number, rows: readonly SubscriptionRow[]) => {
    const uuids = rows.map((r) => r.uuid);
    const now = nowMs();
    const [held, signing, health] = await Promise.all([heldCounts(db, storeId, uuids), signingViews(db, storeId, uuids, now), healthViews(db, storeId, rows, disableAfterMs, now)]);
    return rows.map((r) => renderSubscription(r, signing.get(r.uuid)!, health.get(r.uuid)!, held.get(r.uuid)));
  };
  /** A subscription as saved, with the secret or public key this request made: the only time a secret is shown. */
  const saved = async (storeId: number, row: SubscriptionRow, issued: IssuedKeys) => ({ ...(await shown(storeId, [row]))[0]!, ...shownOnce(issued) });

  app.get('/webhooks/topics', {
    schema: { tags, operationId: 'listTopics', summary: 'The topic catalogue', querystring: NoQuery, response: { 200: Many(Topic), ...errorResponses } },
  }, async (request) => ({
    data: TOPICS.map((t) => ({ name: t.name, description: t.description, resource: t.resource, expands: [...t.expands], example: exampleMessage(t.name) })),
    meta: listMeta(request, 1, TOPICS.length, TOPICS.length),
  }));

  app.post('/webhooks', {
    schema: { tags, operationId: 'createWebhook', summary: 'Subscribe a URL to a topic', description: 'Signs with the subscription uuid unless `signing` asks for its own whsec_ secret (answered once, as `secret`) or an ed25519 key.', body: CreateSubscriptionBody, querystring: NoQuery, response: { 200: One(SavedSubscription), ...errorResponses } },
  }, async (request) => {
    const { row, issued } = await webhooks.createSubscription({ storeId: request.auth.storeId, userId: request.auth.userId }, request.body);
    request.log.info({ subscription: uuidFingerprint(row.uuid), topic: row.topic }, 'webhook subscription created');
    return { data: await saved(request.auth.storeId, row, issued) };
  });

  app.get('/webhooks', {
    schema: { tags, operationId: 'listWebhooks', summary: "The store's subscriptions", querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: Many(Subscription), ...errorResponses } },
  }, async (request) => {
    const page = request.query.page ?? 1;
    const pageSize = request.query.page_size ?? DEFAULT_PAGE_SIZE;
    const { rows, total } = await listSubscriptions(db, request.auth.storeId, page, pageSize);
    return { data: await shown(request.auth.storeId, rows), meta: listMeta(request, page, pageSize, total, page * pageSize < total ? {} : undefined) };
  });

  app.get('/webhooks/:uuid', {
    schema: { tags, operationId: 'getWebhook', summary: 'One subscription', params: UuidParams, querystring: NoQuery, response: { 200: One(Subscription), ...errorResponses } },
  }, async (request) => {
    const row = await findSubscription(db, request.auth.storeId, request.params.uuid);
    return { data: (await shown(request.auth.storeId, [row]))[0]! };
  });

  app.patch('/webhooks/:uuid', {
    schema: { tags, operationId: 'updateWebhook', summary: 'Change url, expands, status or signing (enabling again resumes held messages)', params: UuidParams, querystring: NoQuery, body: PatchSubscriptionBody, response: { 200: One(SavedSubscription), ...errorResponses } },
  }, async (request) => {
    const { row, issued } = await webhooks.updateSubscription(request.auth.storeId, request.params.uuid, request.body, request.auth.email);
    if (request.body.signing) request.log.info({ subscription: uuidFingerprint(row.uuid), signing: request.body.signing }, 'webhook signing changed');
    return { data: await saved(request.auth.storeId, row, issued) };
  });

  app.post('/webhooks/:uuid/secret/rotate', {
    schema: {
      tags,
      operationId: 'rotateWebhookSecret',
      summary: 'Make a new signing secret (or ed25519 key); the old one keeps signing beside it for an overlap',
      description: 'Answers the new whsec_ secret once (or the new whpk_ public key). Until `old_keys_expire_at` every message carries a signature by the old and by the new key, so receivers switch without missing a message. On a subscription that signs with its uuid, this gives it its first own secret, the uuid signing beside it for the overlap.',
      params: UuidParams,
      querystring: NoQuery,
      body: Type.Optional(RotateSecretBody),
      response: { 200: One(RotatedSecret), ...errorResponses },
    },
  }, async (request) => {
    const storeId = request.auth.storeId;
    const rotated = await webhooks.rotateSigningKey(storeId, request.params.uuid, { kind: request.body?.kind, overlapHours: request.body?.overlap_hours });
    const sub = await findSubscription(db, storeId, request.params.uuid);
    request.log.info({ subscription: uuidFingerprint(sub.uuid), kind: rotated.kind, old_keys_expire_at: isoTime(rotated.oldKeysExpireAt) }, 'webhook signing key rotated');
    return {
      data: {
        kind: rotated.kind,
        ...shownOnce(rotated.issued),
        old_keys_expire_at: isoTime(rotated.oldKeysExpireAt),
        signing: (await shown(storeId, [sub]))[0]!.signing,
      },
    };
  });

  app.delete('/webhooks/:uuid', {
    schema: { tags, operationId: 'deleteWebhook', summary: 'Remove a subscription and drop its pending and held messages', params: UuidParams, querystring: NoQuery, response: { 204: Type.Null(), ...errorResponses } },
  }, async (request, reply) => {
    await webhooks.deleteSubscription(request.auth.storeId, request.params.uuid);
    return reply.code(204).send(null);
  });

  app.post('/webhooks/:uuid/test', {
    schema: { tags, operationId: 'testWebhook', summary: 'Send a webhook.test message now and answer with the outcome', params: UuidParams, querystring: NoQuery, response: { 200: One(SendOutcome), ...errorResponses } },
  }, async (request) => {
    const sub = await findSubscription(db, request.auth.storeId, request.params.uuid);
    const { messageId, sent } = await webhooks.sendTest(sub, nowMs());
    if (sent.status === 'busy') throw conflict('The test message is being sent by another process; look it up in the delivery log.');
    const message = await findMessage(db, request.auth.storeId, sub.uuid, messageId);
    return { data: { delivery: renderDelivery(message), attempt: renderAttemptRecord(sent.result.attempt) } };
  });

  app.get('/webhooks/:uuid/deliveries', {
    schema: { tags, operationId: 'listDeliveries', summary: 'The delivery log, newest first', params: UuidParams, querystring: DeliveriesQuery, response: { 200: Many(Delivery), ...errorResponses } },
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
    schema: { tags, operationId: 'getDelivery', summary: 'One message with every attempt', params: DeliveryParams, querystring: NoQuery, response: { 200: One(DeliveryDetail), ...errorResponses } },
  }, async (request) => {
    const sub = await findSubscription(db, request.auth.storeId, request.params.uuid);
    const message = await findMessage(db, request.auth.storeId, sub.uuid, request.params.id);
    return { data: await deliveryDetail(db, message) };
  });

  app.post('/webhooks/:uuid/deliveries/:id/resend', {
    schema: { tags, operationId: 'resendDelivery', summary: 'Send a message again now (same webhook-id), with a fresh retry schedule', params: DeliveryParams, querystring: NoQuery, response: { 200: One(SendOutcome), ...errorResponses } },
  }, async (request) => {
    const sub = await findSubscription(db, request.auth.storeId, request.params.uuid);
    const message = await findMessage(db, request.auth.storeId, sub.uuid, request.params.id);
    const sent = await webhooks.deliverNow(message.id, request.auth.storeId);
    if (sent.status === 'busy') throw conflict(`Message ${message.message_id} is being delivered right now; check its log in a moment.`);
    const after = await findMessage(db, request.auth.storeId, sub.uuid, message.message_id);
    return { data: { delivery: renderDelivery(after), attempt: renderAttemptRecord(sent.result.attempt) } };
  });

  app.post('/webhooks/:uuid/recover', {
    schema: { tags, operationId: 'recoverDeliveries', summary: 'Requeue every failed message created in a time window', params: UuidParams, querystring: NoQuery, body: RecoverBody, response: { 200: One(Type.Object({ count: Type.Integer(), dry_run: Type.Boolean(), since: Type.String(), until: Type.String() })), ...errorResponses } },
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
      operationId: 'discardHeldMessages',
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
