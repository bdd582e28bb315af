/** `/orders` and `/orders/:id`: read-only, with the webhook messages each order caused. */
import type { FastifyInstance } from 'fastify';
import { ORDER_EXPANDS } from '../../orders/expands.js';
import type { OrderStatus } from '../../db/schema.js';
import { notFound } from '../../errors.js';
import { listOrders } from '../../orders/list.js';
import { loadAggregate } from '../../orders/repository.js';
import { renderOrder } from '../../orders/render.js';
import { parseIsoTime } from '../../time.js';
import { pageParam, param, render, sessionOf, type DashboardContext } from '../context.js';
import { html, path, type SafeHtml } from '../html.js';
import { statusBadge } from '../layout.js';
import { shownState } from '../../delivery/message-states.js';
import { messageCountsByOrder, messagesOfOrder } from '../../delivery/queue-views.js';
import { timeTag } from '../time.js';
import { messagePath } from './overview.js';
import { pager } from './subscriptions.js';

const ORDERS_PER_PAGE = 25;
const STATUSES: Record<string, OrderStatus> = { open: 'OPEN', completed: 'COMPLETED', cancelled: 'CANCELLED' };

function money(amount: number, currency: string): string {
  return `${amount.toFixed(2)} ${currency}`;
}

function customerName(info: { first_name?: string; last_name?: string; company?: string; email?: string }): string {
  const name = [info.first_name, info.last_name].filter(Boolean).join(' ');
  return name || info.company || info.email || '—';
}

/** An ISO string from the API rendering back to a <time> tag. */
function isoTag(iso: string | null, tz: string): SafeHtml {
  return timeTag(iso === null ? null : parseIsoTime(iso), tz);
}

export function registerOrderPages(app: FastifyInstance, ctx: DashboardContext): void {
  const hidden = { schema: { hide: true } };

  app.get('/orders', hidden, async (request, reply) => {
    const { auth } = sessionOf(request);
    const page = pageParam(request.query);
    const statusParam = param(request.query, 'status');
    const status = statusParam ? STATUSES[statusParam] : undefined;
    const result = await listOrders(ctx.db, auth.storeId, { ranges: {}, ...(status ? { status } : {}), sort: { field: 'id', direction: 'desc' }, page, pageSize: ORDERS_PER_PAGE });
    const counts = await messageCountsByOrder(ctx.db, auth.storeId, result.rows.map((o) => o.id));
    const table = result.rows.length
      ? html`<div class="scroll"><table class="stack">
          <thead><tr><th scope="col">Order</th><th scope="col">Created</th><th scope="col">Customer</th><th scope="col" class="num">Total</th><th scope="col">Status</th><th scope="col" class="num">Webhook messages</th></tr></thead>
          <tbody>${result.rows.map((o) => html`<tr>
            <td data-label="Order"><a href="${path('orders', o.id)}">Order ${o.id}</a></td>
            <td data-label="Created">${timeTag(o.created_at, auth.timezone)}</td>
            <td data-label="Customer">${customerName(JSON.parse(o.customer_information) as Record<string, string>)}</td>
            <td data-label="Total" class="num">${money(o.total_cents / 100, o.currency)}</td>
            <td data-label="Status">${statusBadge(o.status.toLowerCase(), o.status)}</td>
            <td data-label="Webhook messages" class="num">${counts.get(o.id) ?? 0}</td>
          </tr>`)}</tbody></table></div>
          ${pager('/orders', { status: statusParam && status ? statusParam : undefined }, page, result.itemCount, ORDERS_PER_PAGE)}`
      : html`<p>No orders${status ? ' with that status' : ''}.</p>`;
    const body = html`<h1>Orders</h1>
      <form method="get" action="/orders" class="filters" aria-label="Filter orders">
        <div><label for="o-status">Status</label><select id="o-status" name="status"><option value="">Any</option>${Object.keys(STATUSES).map((s) => html`<option value="${s}"${s === statusParam ? html` selected` : ''}>${s}</option>`)}</select></div>
        <div><button type="submit">Filter</button></div>
      </form>
      <p class="hint">Newest first. Read-only: orders change through the API.</p>
      ${table}`;
    return render(ctx, request, reply, { title: 'Orders', section: 'orders', body });
  });

  app.get('/orders/:id', hidden, async (request, reply) => {
    const { auth } = sessionOf(request);
    const tz = auth.timezone;
    const raw = (request.params as { id: string }).id;
    const id = /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : NaN;
    const agg = Number.isNaN(id) ? undefined : await loadAggregate(ctx.db, auth.storeId, id);
    if (!agg) throw notFound('Order', raw);
    const o = renderOrder(agg, ORDER_EXPANDS);
    const messages = await messagesOfOrder(ctx.db, auth.storeId, o.id);
    const now = ctx.now();
    const c = o.customer_information;
    const s = o.shipping_address;
    const address = (a: typeof s) => html`${[a.company, [a.first_name, a.last_name].filter(Boolean).join(' '), a.street_address, [a.postal_code, a.city].filter(Boolean).join(' '), a.country].filter(Boolean).map((line, i) => html`${i ? html`<br>` : ''}${line}`)}`;

    const body = html`
      <p><a href="/orders">← Orders</a></p>
      <h1>Order ${o.id}</h1>
      <dl class="facts">
        <dt>Status</dt><dd>${statusBadge(o.status.toLowerCase(), o.status)}</dd>
        <dt>Created</dt><dd>${isoTag(o.created_at, tz)}</dd>
        <dt>Changed</dt><dd>${isoTag(o.updated_at, tz)}</dd>
        ${o.archived_at ? html`<dt>Archived</dt><dd>${isoTag(o.archived_at, tz)}</dd>` : ''}
        <dt>Total</dt><dd>${money(o.total, o.currency)} <span class="muted">(products ${money(o.subtotal, o.currency)}, shipping ${money(o.shipping_costs, o.currency)}, payment ${money(o.payment_costs, o.currency)}, discount ${money(o.discount, o.currency)})</span></dd>
        ${o.external_id ? html`<dt>External id</dt><dd><code>${o.external_id}</code></dd>` : ''}
        <dt>Customer</dt><dd>${address(c)}${c.email ? html`<br>${c.email}` : ''}${c.phone ? html`<br>${c.phone}` : ''}</dd>
        ${o.different_shipping_address ? html`<dt>Ship to</dt><dd>${address(s)}</dd>` : ''}
        ${o.details ? html`<dt>Details</dt><dd>${o.details}</dd>` : ''}
      </dl>

      <h2 id="messages">Webhook messages this order caused</h2>
      ${messages.length
        ? html`<div class="scroll"><table class="stack">
            <thead><tr><th scope="col">Created</th><th scope="col">Topic</th><th scope="col">Receiver</th><th scope="col">State</th><th scope="col" class="num">Attempts</th></tr></thead>
            <tbody>${messages.map((m) => html`<tr>
              <td data-label="Created">${timeTag(m.created_at, tz)}</td>
              <td data-label="Topic"><a href="${messagePath(m.subscription_uuid, m.message_id)}">${m.topic}</a></td>
              <td data-label="Receiver"><code>${m.url}</code></td>
              <td data-label="State">${statusBadge(shownState(m, now))}</td>
              <td data-label="Attempts" class="num">${m.attempt_count}</td>
            </tr>`)}</tbody></table></div>`
        : html`<p>None: no subscription matched when this order changed (or its messages have been pruned).</p>`}

      <h2 id="products">Products</h2>
      <div class="scroll"><table class="stack">
        <thead><tr><th scope="col">Code</th><th scope="col">Name</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Unit price</th><th scope="col" class="num">VAT %</th><th scope="col" class="num">Total</th></tr></thead>
        <tbody>${(o.products ?? []).map((p) => html`<tr><td data-label="Code"><code>${p.product_code}</code></td><td data-label="Name">${p.product_name}</td><td class="num" data-label="Quantity">${p.quantity}</td><td class="num" data-label="Unit price">${money(p.unit_price, o.currency)}</td><td class="num" data-label="VAT %">${p.vat_rate}</td><td class="num" data-label="Total">${money(p.total, o.currency)}</td></tr>`)}</tbody>
      </table></div>

      <h2 id="shipments">Shipments</h2>
      <div class="scroll"><table class="stack">
        <thead><tr><th scope="col">Id</th><th scope="col">Status</th><th scope="col">Completed</th><th scope="col">Tracking code</th><th scope="col" class="num">Parcels</th></tr></thead>
        <tbody>${(o.shipments ?? []).map((sh) => html`<tr><td data-label="Id">${sh.id}</td><td data-label="Status">${sh.status}</td><td data-label="Completed">${isoTag(sh.completed_at, tz)}</td><td data-label="Tracking code">${sh.tracking_code ?? ''}</td><td class="num" data-label="Parcels">${sh.parcel_count}</td></tr>`)}</tbody>
      </table></div>

      <h2 id="payments">Payments</h2>
      <div class="scroll"><table class="stack">
        <thead><tr><th scope="col">Id</th><th scope="col">Status</th><th scope="col" class="num">Amount</th><th scope="col">Reference</th></tr></thead>
        <tbody>${(o.payments ?? []).map((p) => html`<tr><td data-label="Id">${p.id}</td><td data-label="Status">${p.status}</td><td class="num" data-label="Amount">${money(p.amount, p.currency)}</td><td data-label="Reference">${p.reference}</td></tr>`)}</tbody>
      </table></div>

      <h2 id="comments">Comments</h2>
      ${(o.comments ?? []).length
        ? html`<ul>${(o.comments ?? []).map((cm) => html`<li>${isoTag(cm.created_at, tz)} <span class="muted">(${cm.visibility.toLowerCase()})</span><br>${cm.text}</li>`)}</ul>`
        : html`<p>No comments.</p>`}

      <h2 id="events">History</h2>
      ${(o.events ?? []).length
        ? html`<ul>${(o.events ?? []).map((e) => html`<li>${isoTag(e.created_at, tz)} <code>${e.code}</code> ${e.message}</li>`)}</ul>`
        : html`<p>No events.</p>`}`;
    return render(ctx, request, reply, { title: `Order ${o.id}`, section: 'orders', body });
  });
}
