/**
 * `/messages`: find messages across the store's subscriptions, by message id (the `webhook-id` a
 * receiver logged) or order id, narrowed by state, the HTTP status of the last attempt, and
 * creation time. The overview has the search box; results link to each message's page.
 */
import type { FastifyInstance } from 'fastify';
import { listMessages } from '../../delivery/queue-views.js';
import { pageParam, render, sessionOf, type DashboardContext } from '../context.js';
import { html, path } from '../html.js';
import { messageFilterForm, messageTable, readMessageFilter } from '../message-list.js';
import { lastAttempts } from '../queries.js';
import { messagePath } from './overview.js';
import { MESSAGES_COUNTED_UP_TO, pager } from './subscriptions.js';

const PER_PAGE = 25;

export function registerSearchPage(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/messages', { schema: { hide: true } }, async (request, reply) => {
    const { auth } = sessionOf(request);
    const tz = auth.timezone;
    const now = ctx.now();
    const page = pageParam(request.query);
    const { search, raw, errors } = readMessageFilter(request.query, tz, true);
    const { rows, total, moreThan } = errors.length ? { rows: [], total: 0, moreThan: false } : await listMessages(ctx.db, auth.storeId, search, page, PER_PAGE, MESSAGES_COUNTED_UP_TO);
    const uuids = [...new Set(rows.map((r) => r.subscription_uuid))];
    const [attempts, subs] = await Promise.all([
      lastAttempts(ctx.db, auth.storeId, rows.map((r) => r.id)),
      uuids.length ? ctx.db.selectFrom('webhook_subscriptions').select(['uuid', 'url']).where('store_id', '=', auth.storeId).where('uuid', 'in', uuids).execute() : [],
    ]);
    const urls = new Map(subs.map((s) => [s.uuid, s.url]));
    const filtered = Object.values(raw).some(Boolean);
    const list = rows.length
      ? html`${messageTable(rows, attempts, {
          tz,
          now,
          link: (m) => messagePath(m.subscription_uuid, m.message_id),
          subscriptionLabel: (m) => html`<a href="${path('subscriptions', m.subscription_uuid)}"><code>${urls.get(m.subscription_uuid) ?? m.subscription_uuid}</code></a>`,
        })}
        ${pager('/messages', raw, page, total, PER_PAGE, moreThan)}`
      : html`<p>${filtered ? 'No messages match.' : 'No messages yet.'}</p>`;
    const body = html`<h1>Messages</h1>
      ${messageFilterForm('/messages', raw, true)}
      <p class="hint">Every subscription of this store, newest first. Times are in ${tz}.</p>
      ${errors.length ? html`<div class="problem errors" role="alert"><ul>${errors.map((e) => html`<li>${e}</li>`)}</ul></div>` : ''}
      ${list}`;
    return render(ctx, request, reply, { title: 'Messages', section: 'messages', body, status: errors.length ? 400 : 200 });
  });
}
