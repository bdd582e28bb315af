/** The orders API (SPEC §2), mounted under both /api/v1 and /api/v0. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { OrderEventSink } from '../../orders/events.js';
import { decodeCursor, encodeCursor, listOrders, ORDER_RANGE_FIELDS, ORDER_SORT_FIELDS, stampColumns, type OrderListQuery } from '../../orders/list.js';
import { loadAggregate, loadAggregates } from '../../orders/repository.js';
import { renderComment, renderOrder, renderPayment, renderShipment } from '../../orders/render.js';
import * as service from '../../orders/service.js';
import { commitWatermark } from '../../db/commit-clock.js';
import type { Database } from '../../db/connection.js';
import { notFound } from '../../errors.js';
import { DEFAULT_PAGE_SIZE, listMeta } from '../paging.js';
import { parseExpand, parseIdList, parseSort, parseTimeParam } from '../query.js';
import { errorResponses, IdParam, Many, One, PageQuery } from '../schemas/common.js';
import {
  Comment,
  CompleteShipmentBody,
  CreateCommentBody,
  CreateOrderBody,
  Order,
  PatchOrderBody,
  Payment,
  QuickProcessBody,
  Shipment,
} from '../../orders/contract.js';
import { ORDER_EXPANDS } from '../../orders/expands.js';

export interface OrdersRoutesOptions {
  database: Database;
  sink: OrderEventSink;
  /** hide from the OpenAPI document (the /api/v0 copy). */
  hide?: boolean;
}

const rangeQuery = Object.fromEntries(
  ORDER_RANGE_FIELDS.flatMap((f) => [
    [`${f}-from`, Type.Optional(Type.String({ description: `${f} on or after (inclusive): 2021-03-05T10:00:00+02:00, 2021-03-05T10:00:00 (store's time zone) or 2021-03-05 (start of that day)` }))],
    [`${f}-to`, Type.Optional(Type.String({ description: `${f} on or before (inclusive): same forms; a date means through the end of that day` }))],
  ]),
);

const ListQuery = Type.Object(
  {
    ...PageQuery,
    ...rangeQuery,
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('completed'), Type.Literal('cancelled')])),
    id: Type.Optional(Type.String({ description: 'several orders by id: id=1,2,3 (at most 1000)' })),
    sort: Type.Optional(Type.String({ description: `${ORDER_SORT_FIELDS.map((f) => `${f}-asc|${f}-desc`).join(', ')}; default id-asc` })),
    expand: Type.Optional(Type.String({ description: `comma list of ${ORDER_EXPANDS.join(', ')}` })),
    cursor: Type.Optional(Type.String({ maxLength: 100, description: 'set by meta.next; do not build it yourself' })),
  },
  { additionalProperties: false },
);

const ExpandQuery = Type.Object({ expand: Type.Optional(Type.String()) }, { additionalProperties: false });
const NoQuery = Type.Object({}, { additionalProperties: false });
const OrderParams = Type.Object({ id: IdParam });
const ShipmentParams = Type.Object({ id: IdParam, sid: IdParam });
const PaymentParams = Type.Object({ id: IdParam, pid: IdParam });
const PaymentAction = Type.Union([Type.Literal('mark-as-paid'), Type.Literal('mark-as-unpaid'), Type.Literal('mark-as-cancelled'), Type.Literal('activate')]);

export const ordersRoutes: FastifyPluginAsyncTypebox<OrdersRoutesOptions> = async (app, options) => {
  const { database, sink } = options;
  const tags = ['orders'];
  const hide = options.hide ?? false;
  const ctx = (request: { auth: { storeId: number; userId: number } }): service.OrderContext => ({
    database,
    storeId: request.auth.storeId,
    userId: request.auth.userId,
    sink,
  });

  app.get('/orders', {
    schema: { tags, hide, operationId: 'listOrders', summary: 'List orders', querystring: ListQuery, response: { 200: Many(Order), ...errorResponses } },
  }, async (request) => {
    const q = request.query as Record<string, string | number | undefined>;
    const expands = parseExpand(request.query.expand, ORDER_EXPANDS);
    const ranges: OrderListQuery['ranges'] = {};
    for (const field of ORDER_RANGE_FIELDS) {
      const from = parseTimeParam(`${field}-from`, q[`${field}-from`] as string | undefined, request.auth.timezone, 'from');
      const to = parseTimeParam(`${field}-to`, q[`${field}-to`] as string | undefined, request.auth.timezone, 'to');
      if (from !== undefined || to !== undefined) ranges[field] = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
    }
    const page = request.query.page ?? 1;
    const pageSize = request.query.page_size ?? DEFAULT_PAGE_SIZE;
    const status = request.query.status?.toUpperCase() as OrderListQuery['status'];
    const ids = parseIdList('id', request.query.id);
    const query: OrderListQuery = {
      ranges,
      ...(status ? { status } : {}),
      ...(ids ? { ids } : {}),
      sort: parseSort(request.query.sort, ORDER_SORT_FIELDS, 'id'),
      page,
      pageSize,
      ...(request.query.cursor ? { after: decodeCursor(request.query.cursor) } : {}),
    };
    // A client syncing by created_at/updated_at resumes from the last stamp it saw: show it only
    // stamps below which every change has committed.
    if (stampColumns(query).length > 0) query.stampedBefore = await commitWatermark(database, request.auth.storeId);
    const result = await listOrders(database.kysely, request.auth.storeId, query);
    const aggs = await loadAggregates(database.kysely, request.auth.storeId, result.rows, expands);
    return {
      data: aggs.map((a) => renderOrder(a, expands)),
      meta: listMeta(request, page, pageSize, result.itemCount, result.nextCursor ? { cursor: encodeCursor(result.nextCursor) } : undefined),
    };
  });

  app.post('/orders', {
    schema: { tags, hide, operationId: 'createOrder', summary: 'Create an order', body: CreateOrderBody, querystring: NoQuery, response: { 200: One(Order), ...errorResponses } },
  }, async (request) => {
    const agg = await service.createOrder(ctx(request), request.body);
    return { data: renderOrder(agg, ['products', 'shipments', 'payments']) };
  });

  app.get('/orders/:id', {
    schema: { tags, hide, operationId: 'getOrder', summary: 'One order', params: OrderParams, querystring: ExpandQuery, response: { 200: One(Order), ...errorResponses } },
  }, async (request) => {
    const expands = parseExpand(request.query.expand, ORDER_EXPANDS);
    const agg = await loadAggregate(database.kysely, request.auth.storeId, Number(request.params.id));
    if (!agg) throw notFound('Order', request.params.id);
    return { data: renderOrder(agg, expands) };
  });

  app.patch('/orders/:id', {
    schema: { tags, hide, operationId: 'updateOrder', summary: 'Change external_id, details, custom_data or addresses', params: OrderParams, querystring: NoQuery, body: PatchOrderBody, response: { 200: One(Order), ...errorResponses } },
  }, async (request) => {
    const agg = await service.updateOrder(ctx(request), Number(request.params.id), request.body);
    return { data: renderOrder(agg) };
  });

  app.post('/orders/:id/cancel', {
    schema: { tags, hide, operationId: 'cancelOrder', summary: 'Cancel an order (not when completed)', params: OrderParams, querystring: NoQuery, response: { 200: One(Order), ...errorResponses } },
  }, async (request) => {
    const agg = await service.cancelOrder(ctx(request), Number(request.params.id));
    return { data: renderOrder(agg) };
  });

  app.post('/orders/:id/quick-process', {
    schema: { tags, hide, operationId: 'quickProcessOrder', summary: 'Complete all shipments, mark the order COMPLETED and archive it', params: OrderParams, querystring: NoQuery, body: Type.Optional(QuickProcessBody), response: { 200: One(Order), ...errorResponses } },
  }, async (request) => {
    const agg = await service.quickProcess(ctx(request), Number(request.params.id), request.body ?? {});
    return { data: renderOrder(agg, ['shipments', 'payments']) };
  });

  app.get('/orders/:id/shipments', {
    schema: { tags, hide, operationId: 'listShipments', summary: "An order's shipments", params: OrderParams, querystring: NoQuery, response: { 200: Many(Shipment), ...errorResponses } },
  }, async (request) => {
    const agg = await loadAggregate(database.kysely, request.auth.storeId, Number(request.params.id));
    if (!agg) throw notFound('Order', request.params.id);
    const n = agg.shipments.length;
    return { data: agg.shipments.map(renderShipment), meta: listMeta(request, 1, Math.max(n, 1), n) };
  });

  app.get('/orders/:id/shipments/:sid', {
    schema: { tags, hide, operationId: 'getShipment', summary: 'One shipment', params: ShipmentParams, querystring: NoQuery, response: { 200: One(Shipment), ...errorResponses } },
  }, async (request) => {
    const agg = await loadAggregate(database.kysely, request.auth.storeId, Number(request.params.id));
    if (!agg) throw notFound('Order', request.params.id);
    const shipment = agg.shipments.find((s) => s.id === Number(request.params.sid));
    if (!shipment) throw notFound('Shipment', request.params.sid);
    return { data: renderShipment(shipment) };
  });

  app.post('/orders/:id/shipments/:sid/complete', {
    schema: { tags, hide, operationId: 'completeShipment', summary: 'Mark a shipment delivered; the order completes when all are', params: ShipmentParams, querystring: NoQuery, body: Type.Optional(CompleteShipmentBody), response: { 200: One(Shipment), ...errorResponses } },
  }, async (request) => {
    const result = await service.completeShipment(ctx(request), Number(request.params.id), Number(request.params.sid), request.body?.tracking_code);
    const shipment = result.order.shipments.find((s) => s.id === result.shipmentId)!;
    return { data: renderShipment(shipment) };
  });

  app.get('/orders/:id/payments/:pid', {
    schema: { tags, hide, operationId: 'getPayment', summary: 'One payment', params: PaymentParams, querystring: NoQuery, response: { 200: One(Payment), ...errorResponses } },
  }, async (request) => {
    const agg = await loadAggregate(database.kysely, request.auth.storeId, Number(request.params.id));
    if (!agg) throw notFound('Order', request.params.id);
    const payment = agg.payments.find((p) => p.id === Number(request.params.pid));
    if (!payment) throw notFound('Payment', request.params.pid);
    return { data: renderPayment(payment) };
  });

  app.post('/orders/:id/payments/:pid/:action', {
    schema: {
      tags,
      hide,
      operationId: 'changePayment', summary: 'Change a payment: mark-as-paid, mark-as-unpaid, mark-as-cancelled, activate',
      params: Type.Object({ id: IdParam, pid: IdParam, action: PaymentAction }),
      querystring: NoQuery,
      response: { 200: One(Payment), ...errorResponses },
    },
  }, async (request) => {
    const result = await service.changePayment(ctx(request), Number(request.params.id), Number(request.params.pid), request.params.action);
    const payment = result.order.payments.find((p) => p.id === result.paymentId)!;
    return { data: renderPayment(payment) };
  });

  app.get('/orders/:id/comments', {
    schema: { tags, hide, operationId: 'listComments', summary: "An order's comments", params: OrderParams, querystring: NoQuery, response: { 200: Many(Comment), ...errorResponses } },
  }, async (request) => {
    const agg = await loadAggregate(database.kysely, request.auth.storeId, Number(request.params.id));
    if (!agg) throw notFound('Order', request.params.id);
    const n = agg.comments.length;
    return { data: agg.comments.map(renderComment), meta: listMeta(request, 1, Math.max(n, 1), n) };
  });

  app.post('/orders/:id/comments', {
    schema: { tags, hide, operationId: 'createComment', summary: 'Add a comment', params: OrderParams, querystring: NoQuery, body: CreateCommentBody, response: { 200: One(Comment), ...errorResponses } },
  }, async (request) => {
    const result = await service.addComment(ctx(request), Number(request.params.id), request.body.text, request.body.visibility ?? 'PRIVATE');
    const comment = result.order.comments.find((c) => c.id === result.commentId)!;
    return { data: renderComment(comment) };
  });
};
