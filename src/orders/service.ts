/**
 * Every change to an order, each in one transaction that also records the order's event and hands
 * the topics it emits to the event sink (the webhooks outbox). A refused change writes nothing.
 */
import type { CreateOrderBody, PatchOrderBody, QuickProcessBody } from './contract.js';
import type { Database } from '../db/connection.js';
import type { OrderRow, StockItemRow } from '../db/schema.js';
import type { ResourceEvent } from '../catalogue/events.js';
import { commitStamp } from '../db/commit-clock.js';
import { inTransaction, type Tx } from '../db/transaction.js';
import { conflict, DomainError, invalid, notFound, type FieldError } from '../errors.js';
import type { OrderAggregate } from './aggregate.js';
import type { OrderEventSink, OrderTopic } from './events.js';
import { toBasisPoints, toCents } from '../money.js';
import { findOrderForUpdate, loadAggregate } from './repository.js';
import { afterShipmentCompleted, cancelRefusal, cancelTopics, decidePayment, PAYMENTS_CANCELLED_WITH_ORDER, quickProcessActivates, quickProcessRefusal, quickProcessTopics, shipmentCompletionRefusal, type PaymentAction } from './rules.js';
import { computeTotals } from './totals.js';
import { releaseForOrder, reserveForOrder, stockItemsByCode } from '../catalogue/stock.js';

export interface OrderContext {
  database: Database;
  storeId: number;
  /** the API user making the change (null for the system, e.g. the legacy bridge). */
  userId: number | null;
  sink: OrderEventSink;
  /** where the order came from, e.g. `api`, `storefront`, `trigger`. */
  source?: string;
}

const DEFAULT_VAT_BP = 2550;

/** The product and variation an order row names: the catalogue's when its code is there, else what the order gave. */
function linkedIds(item: StockItemRow | undefined, row: { product_id?: number | null | undefined; variation_id?: number | null | undefined }): { product_id: number | null; variation_id: number | null } {
  if (item) return { product_id: item.product_id, variation_id: item.variation_id };
  return { product_id: row.product_id ?? null, variation_id: row.variation_id ?? null };
}
const EMPTY_CUSTOMER = { company: '', vat_code: '', first_name: '', last_name: '', street_address: '', postal_code: '', city: '', country: '', phone: '', email: '' };

function cents(field: string, amount: number | undefined, errors: FieldError[]): number {
  if (amount === undefined) return 0;
  const value = toCents(amount);
  if (value === null) {
    errors.push({ field, message: `must have at most two decimals (got ${amount})` });
    return 0;
  }
  return value;
}

/** custom_data as stored: JSON of at most 64 KiB (+2 for the quotes of a maximal string). */
const MAX_CUSTOM_DATA = 65_536;
function customDataText(value: unknown): string {
  const text = JSON.stringify(value);
  if (text.length > MAX_CUSTOM_DATA + 2) throw invalid('custom_data', `is ${text.length} characters as JSON; at most ${MAX_CUSTOM_DATA} (64 KiB) are allowed`);
  return text;
}

function withoutCustomerOnly(info: Record<string, string>): Record<string, string> {
  const { vat_code: _vat, ...address } = info;
  return address;
}

/**
 * Records the event row, bumps updated_at, and publishes the topics: the tail of every change.
 * `now` is the change's commit stamp (src/db/commit-clock.ts), taken once the order's row is
 * locked; every time the change writes is that stamp, so messages and events carry it too.
 */
async function finishChange(
  ctx: OrderContext,
  tx: Tx,
  orderId: number,
  now: number,
  event: { code: string; message: string; data?: Record<string, unknown> },
  topics: readonly OrderTopic[],
): Promise<OrderAggregate> {
  await tx.db
    .insertInto('order_events')
    .values({ store_id: ctx.storeId, order_id: orderId, created_at: now, code: event.code, message: event.message, data: event.data ? JSON.stringify(event.data) : null })
    .execute();
  await tx.db.updateTable('orders').set({ updated_at: now }).where('id', '=', orderId).where('store_id', '=', ctx.storeId).execute();
  const agg = await loadAggregate(tx.db, ctx.storeId, orderId);
  if (!agg) throw new Error(`order ${orderId} vanished inside its own transaction`);
  await ctx.sink.publish(tx, agg, topics, now);
  return agg;
}

async function lockOpenable(ctx: OrderContext, tx: Tx, orderId: number): Promise<OrderRow> {
  const order = await findOrderForUpdate(tx.db, tx.dialect, ctx.storeId, orderId);
  if (!order) throw notFound('Order', orderId);
  return order;
}

export async function createOrder(ctx: OrderContext, body: CreateOrderBody): Promise<OrderAggregate> {
  const errors: FieldError[] = [];
  const lines = body.products.map((p, i) => {
    const vat = toBasisPoints(p.vat_rate ?? DEFAULT_VAT_BP / 100);
    if (vat === null) errors.push({ field: `products.${i}.vat_rate`, message: `must have at most two decimals (got ${p.vat_rate})` });
    const purchase = p.purchase_price === undefined || p.purchase_price === null ? null : cents(`products.${i}.purchase_price`, p.purchase_price, errors);
    return { ...p, unit_price_cents: cents(`products.${i}.unit_price`, p.unit_price, errors), vat_rate_bp: vat ?? 0, purchase_price_cents: purchase };
  });
  const extras = {
    shipping_costs_cents: cents('shipping_costs', body.shipping_costs, errors),
    payment_costs_cents: cents('payment_costs', body.payment_costs, errors),
    discount_cents: cents('discount', body.discount, errors),
  };
  const weightG = body.shipment?.weight === undefined ? 0 : Math.round(body.shipment.weight * 1000);
  if (errors.length) throw new DomainError(400, `Some amounts are not valid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`, errors);
  const totals = computeTotals(lines, extras);
  if (totals.total_cents < 0) throw invalid('discount', `is larger than the order's value (total would be ${totals.total_cents / 100})`);

  const customer = { ...EMPTY_CUSTOMER, ...body.customer_information };
  const shipping = body.shipping_address ? { ...withoutCustomerOnly(EMPTY_CUSTOMER), ...body.shipping_address } : withoutCustomerOnly(customer);
  const currency = body.currency ?? 'EUR';
  const customData = body.custom_data === undefined ? null : customDataText(body.custom_data);

  return inTransaction(ctx.database, async (tx) => {
    const now = await commitStamp(tx, ctx.storeId);
    const inserted = await tx.db
      .insertInto('orders')
      .values({
        store_id: ctx.storeId,
        created_at: now,
        updated_at: now,
        archived_at: null,
        shipments_completed_at: null,
        external_id: body.external_id ?? null,
        version_id: body.version_id ?? 1,
        language: body.language ?? 'fi',
        customer_id: body.customer_id ?? null,
        customer_external_id: body.customer_external_id ?? null,
        customer_information: JSON.stringify(customer),
        shipping_address: JSON.stringify(shipping),
        different_shipping_address: body.shipping_address ? 1 : 0,
        currency,
        ...totals,
        status: 'OPEN',
        details: body.details ?? null,
        custom_data: customData,
        shipping_method_id: body.shipping_method_id ?? null,
        payment_method_id: body.payment_method_id ?? null,
        source: ctx.source ?? 'api',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const orderId = inserted.id;
    // A row whose product_code is in the catalogue links to its product (and variation) and
    // takes stock; any other row stays as the order gave it, with no stock.
    const catalogue = await stockItemsByCode(tx.db, ctx.storeId, lines.map((l) => l.product_code));
    const shipment = await tx.db
      .insertInto('shipments')
      .values({
        store_id: ctx.storeId,
        order_id: orderId,
        created_at: now,
        updated_at: now,
        completed_at: null,
        status: 'OPEN',
        tracking_code: body.shipment?.tracking_code ?? null,
        shipping_method_id: body.shipping_method_id ?? null,
        parcel_count: body.shipment?.parcel_count ?? 1,
        weight_g: weightG,
        type: body.shipment?.type ?? null,
        external_id: body.shipment?.external_id ?? null,
        external_pickup_point_id: body.shipment?.external_pickup_point_id ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await tx.db
      .insertInto('order_products')
      .values(
        lines.map((l) => ({
          ...linkedIds(catalogue.get(l.product_code), l),
          store_id: ctx.storeId,
          order_id: orderId,
          created_at: now,
          product_code: l.product_code,
          product_name: l.product_name,
          quantity: l.quantity,
          unit_price_cents: l.unit_price_cents,
          vat_rate_bp: l.vat_rate_bp,
          shipment_id: shipment.id,
          updated_at: now,
          delivered_at: null,
          bundle_id: l.bundle_id ?? null,
          campaign_id: l.campaign_id ?? null,
          model_name: l.model_name ?? null,
          purchase_price_cents: l.purchase_price_cents,
          warranty: l.warranty ?? null,
          custom_data: l.custom_data ?? null,
          customizations: l.customizations ?? null,
        })),
      )
      .execute();
    await tx.db
      .insertInto('payments')
      .values({
        store_id: ctx.storeId,
        order_id: orderId,
        created_at: now,
        updated_at: now,
        payment_method_id: body.payment_method_id ?? null,
        amount_cents: totals.total_cents,
        currency,
        status: body.payment?.status ?? 'PAID',
        reference: body.payment?.reference ?? String(orderId),
        external_id: body.payment?.external_id ?? null,
        exchange_rate: body.payment?.exchange_rate ?? null,
      })
      .execute();
    const stockLines = lines.flatMap((l) => {
      const item = catalogue.get(l.product_code);
      return item ? [{ stockItemId: item.id, productCode: l.product_code, quantity: l.quantity }] : [];
    });
    const stockEvents = await reserveForOrder(tx, ctx, orderId, stockLines, now);
    const agg = await finishChange(ctx, tx, orderId, now, { code: 'order_created', message: `Order created (${ctx.source ?? 'api'})` }, ['order.created']);
    await ctx.sink.publishResources(tx, stockEvents, now);
    return agg;
  });
}

export async function updateOrder(ctx: OrderContext, orderId: number, patch: PatchOrderBody): Promise<OrderAggregate> {
  return inTransaction(ctx.database, async (tx) => {
    const order = await lockOpenable(ctx, tx, orderId);
    const set: Partial<OrderRow> = {};
    if (patch.external_id !== undefined) set.external_id = patch.external_id;
    if (patch.customer_external_id !== undefined) set.customer_external_id = patch.customer_external_id;
    if (patch.details !== undefined) set.details = patch.details;
    if (patch.custom_data !== undefined) set.custom_data = customDataText(patch.custom_data);
    if (patch.customer_information) {
      set.customer_information = JSON.stringify({ ...JSON.parse(order.customer_information), ...patch.customer_information });
    }
    if (patch.shipping_address) {
      set.shipping_address = JSON.stringify({ ...JSON.parse(order.shipping_address), ...patch.shipping_address });
      set.different_shipping_address = 1;
    }
    await tx.db.updateTable('orders').set(set).where('id', '=', orderId).where('store_id', '=', ctx.storeId).execute();
    return finishChange(ctx, tx, orderId, await commitStamp(tx, ctx.storeId), { code: 'order_updated', message: 'Order details changed', data: { fields: Object.keys(patch) } }, ['order.updated']);
  });
}

export async function cancelOrder(ctx: OrderContext, orderId: number): Promise<OrderAggregate> {
  return inTransaction(ctx.database, async (tx) => {
    const order = await lockOpenable(ctx, tx, orderId);
    const refusal = cancelRefusal(orderId, order.status);
    if (refusal) throw conflict(refusal);
    const now = await commitStamp(tx, ctx.storeId);
    await tx.db.updateTable('orders').set({ status: 'CANCELLED' }).where('id', '=', orderId).where('store_id', '=', ctx.storeId).execute();
    const cancelled = await tx.db
      .updateTable('payments')
      .set({ status: 'CANCELLED', updated_at: now })
      .where('order_id', '=', orderId)
      .where('store_id', '=', ctx.storeId)
      .where('status', 'in', [...PAYMENTS_CANCELLED_WITH_ORDER])
      .executeTakeFirst();
    const stockEvents = await releaseForOrder(tx, ctx, orderId, 'order_cancelled', now);
    const agg = await finishChange(ctx, tx, orderId, now, { code: 'order_cancelled', message: 'Order cancelled' }, cancelTopics(Number(cancelled.numUpdatedRows)));
    await ctx.sink.publishResources(tx, stockEvents, now);
    return agg;
  });
}

/** Marks open shipments completed, and their product rows delivered; returns how many changed. */
async function completeShipments(tx: Tx, storeId: number, orderId: number, now: number, trackingCode: string | null | undefined, shipmentId?: number): Promise<number> {
  let open = tx.db.selectFrom('shipments').select('id').where('order_id', '=', orderId).where('store_id', '=', storeId).where('status', '=', 'OPEN');
  if (shipmentId !== undefined) open = open.where('id', '=', shipmentId);
  const ids = (await open.execute()).map((r) => r.id);
  if (ids.length === 0) return 0;
  await tx.db
    .updateTable('shipments')
    .set({ status: 'COMPLETED', completed_at: now, updated_at: now, ...(trackingCode !== undefined && trackingCode !== null ? { tracking_code: trackingCode } : {}) })
    .where('store_id', '=', storeId)
    .where('id', 'in', ids)
    .execute();
  await tx.db.updateTable('order_products').set({ delivered_at: now, updated_at: now }).where('store_id', '=', storeId).where('shipment_id', 'in', ids).execute();
  return ids.length;
}

export async function completeShipment(ctx: OrderContext, orderId: number, shipmentId: number, trackingCode: string | null | undefined): Promise<{ order: OrderAggregate; shipmentId: number }> {
  return inTransaction(ctx.database, async (tx) => {
    const order = await lockOpenable(ctx, tx, orderId);
    const shipment = await tx.db.selectFrom('shipments').selectAll().where('store_id', '=', ctx.storeId).where('order_id', '=', orderId).where('id', '=', shipmentId).executeTakeFirst();
    if (!shipment) throw notFound('Shipment', shipmentId);
    const refusal = shipmentCompletionRefusal(orderId, order.status, shipmentId, shipment.status);
    if (refusal) throw conflict(refusal);
    const now = await commitStamp(tx, ctx.storeId);
    await completeShipments(tx, ctx.storeId, orderId, now, trackingCode, shipmentId);
    const open = await tx.db.selectFrom('shipments').select('id').where('store_id', '=', ctx.storeId).where('order_id', '=', orderId).where('status', '=', 'OPEN').executeTakeFirst();
    const { completesOrder, topics } = afterShipmentCompleted(open !== undefined);
    let stockEvents: ResourceEvent[] = [];
    if (completesOrder) {
      await tx.db.updateTable('orders').set({ status: 'COMPLETED', shipments_completed_at: now }).where('id', '=', orderId).where('store_id', '=', ctx.storeId).execute();
      stockEvents = await releaseForOrder(tx, ctx, orderId, 'order_delivered', now);
    }
    const agg = await finishChange(ctx, tx, orderId, now, { code: 'shipment_completed', message: `Shipment ${shipmentId} completed`, data: { shipment_id: shipmentId, tracking_code: trackingCode ?? shipment.tracking_code } }, topics);
    await ctx.sink.publishResources(tx, stockEvents, now);
    return { order: agg, shipmentId };
  });
}

export async function quickProcess(ctx: OrderContext, orderId: number, body: QuickProcessBody): Promise<OrderAggregate> {
  return inTransaction(ctx.database, async (tx) => {
    const order = await lockOpenable(ctx, tx, orderId);
    const payments = await tx.db.selectFrom('payments').selectAll().where('store_id', '=', ctx.storeId).where('order_id', '=', orderId).execute();
    const refusal = quickProcessRefusal({ id: orderId, status: order.status }, payments, body.allow_open_cash_on_delivery_payments ?? false);
    if (refusal) throw conflict(refusal);
    const payment = payments[0]!;
    const now = await commitStamp(tx, ctx.storeId);
    const activates = quickProcessActivates(payment.status);
    if (activates) {
      await tx.db.updateTable('payments').set({ status: 'PAID', updated_at: now }).where('id', '=', payment.id).where('store_id', '=', ctx.storeId).execute();
    }
    const shipmentsCompleted = await completeShipments(tx, ctx.storeId, orderId, now, body.tracking_code);
    await tx.db
      .updateTable('orders')
      .set({ status: 'COMPLETED', shipments_completed_at: now, archived_at: now })
      .where('id', '=', orderId)
      .where('store_id', '=', ctx.storeId)
      .execute();
    const stockEvents = await releaseForOrder(tx, ctx, orderId, 'order_delivered', now);
    const topics = quickProcessTopics(activates, shipmentsCompleted);
    const agg = await finishChange(ctx, tx, orderId, now, { code: 'order_quick_processed', message: 'Order quick-processed', data: { send_emails: body.send_emails ?? false, tracking_code: body.tracking_code ?? null } }, topics);
    await ctx.sink.publishResources(tx, stockEvents, now);
    return agg;
  });
}

export async function changePayment(ctx: OrderContext, orderId: number, paymentId: number, action: PaymentAction): Promise<{ order: OrderAggregate; paymentId: number }> {
  return inTransaction(ctx.database, async (tx) => {
    const order = await lockOpenable(ctx, tx, orderId);
    const payment = await tx.db.selectFrom('payments').selectAll().where('store_id', '=', ctx.storeId).where('order_id', '=', orderId).where('id', '=', paymentId).executeTakeFirst();
    if (!payment) throw notFound('Payment', paymentId);
    const decision = decidePayment({ id: orderId, status: order.status }, payment, action);
    if ('refused' in decision) throw conflict(decision.refused);
    if ('unchanged' in decision) {
      const agg = await loadAggregate(tx.db, ctx.storeId, orderId);
      return { order: agg!, paymentId };
    }
    const to = decision.to;
    const now = await commitStamp(tx, ctx.storeId);
    await tx.db.updateTable('payments').set({ status: to, updated_at: now }).where('id', '=', paymentId).where('store_id', '=', ctx.storeId).execute();
    const agg = await finishChange(ctx, tx, orderId, now, { code: 'payment_updated', message: `Payment ${paymentId}: ${payment.status} → ${to}`, data: { payment_id: paymentId, from: payment.status, to } }, ['order.payment_updated', 'order.updated']);
    return { order: agg, paymentId };
  });
}

export async function addComment(ctx: OrderContext, orderId: number, text: string, visibility: 'PUBLIC' | 'PRIVATE'): Promise<{ order: OrderAggregate; commentId: number }> {
  return inTransaction(ctx.database, async (tx) => {
    await lockOpenable(ctx, tx, orderId);
    const now = await commitStamp(tx, ctx.storeId);
    const row = await tx.db
      .insertInto('comments')
      .values({ store_id: ctx.storeId, order_id: orderId, created_at: now, user_id: ctx.userId, visibility, text })
      .returning('id')
      .executeTakeFirstOrThrow();
    const agg = await finishChange(ctx, tx, orderId, now, { code: 'comment_created', message: `${visibility === 'PUBLIC' ? 'Public' : 'Private'} comment added`, data: { comment_id: row.id } }, ['order.comment_created', 'order.updated']);
    return { order: agg, commentId: row.id };
  });
}
