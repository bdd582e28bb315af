/**
 * `/`: what needs attention first (failing and disabled subscriptions with the reason, the latest
 * failed messages, each one click from its page), then traffic and the queue.
 */
import type { FastifyInstance } from 'fastify';
import { render, sessionOf, type DashboardContext } from '../context.js';
import { html, path } from '../html.js';
import { statusBadge } from '../layout.js';
import { shownState } from '../../delivery/message-states.js';
import { messageCounts, queueState, recentProblems, type MessageWindow } from '../../delivery/queue-views.js';
import { attemptSummary, lastAttempts, troubledSubscriptions } from '../queries.js';
import { formatDuration, relative, timeTag } from '../time.js';

export function messagePath(uuid: string, messageId: string): string {
  return path('subscriptions', uuid, 'messages', messageId);
}

export function registerOverview(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    const { auth } = sessionOf(request);
    const tz = auth.timezone;
    const now = ctx.now();
    const [hour, day, queue, troubled, problems, subCount] = await Promise.all([
      messageCounts(ctx.db, auth.storeId, now - 3600_000),
      messageCounts(ctx.db, auth.storeId, now - 86_400_000),
      queueState(ctx.db, auth.storeId, now),
      troubledSubscriptions(ctx.db, auth.storeId),
      recentProblems(ctx.db, auth.storeId, 10),
      ctx.db.selectFrom('webhook_subscriptions').select((eb) => eb.fn.countAll<number>().as('n')).where('store_id', '=', auth.storeId).executeTakeFirstOrThrow(),
    ]);
    const problemAttempts = await lastAttempts(ctx.db, auth.storeId, problems.map((p) => p.id));

    const attention = troubled.length
      ? html`<div class="scroll"><table class="stack">
          <caption class="muted">Subscriptions with failed or retrying messages, and disabled ones</caption>
          <thead><tr><th scope="col">Subscription</th><th scope="col">State</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Retrying</th><th scope="col" class="num">Held</th><th scope="col">Why (latest problem)</th></tr></thead>
          <tbody>${troubled.map((t) => {
            const sub = t.subscription;
            const why = sub.status === 'disabled' && sub.disabled_reason
              ? html`<strong>Disabled:</strong> ${sub.disabled_reason}`
              : t.latestAttempt
                ? html`${attemptSummary(t.latestAttempt)} ${t.latest ? html`— <a href="${messagePath(sub.uuid, t.latest.message_id)}">open the latest failed message</a>` : ''}`
                : html`<span class="muted">no attempt recorded</span>`;
            return html`<tr>
              <td data-label="Subscription"><a href="${path('subscriptions', sub.uuid, { status: t.failed + t.retrying > 0 ? 'problems' : undefined })}">${sub.topic}</a><br><code>${sub.url}</code></td>
              <td data-label="State">${statusBadge(sub.status)}</td>
              <td data-label="Failed" class="num">${t.failed}</td>
              <td data-label="Retrying" class="num">${t.retrying}</td>
              <td data-label="Held" class="num">${t.held ? html`<a href="${path('subscriptions', sub.uuid, { status: 'held' })}">${t.held}</a>` : '0'}</td>
              <td data-label="Why (latest problem)">${why}</td>
            </tr>`;
          })}</tbody></table></div>`
      : html`<p>${Number(subCount.n) === 0 ? html`No subscriptions yet. <a href="/subscriptions/new">Create the first one</a>.` : 'Nothing needs attention: no failed or retrying messages, no disabled subscriptions.'}</p>`;

    const latestFailures = problems.length
      ? html`<div class="scroll"><table class="stack">
          <thead><tr><th scope="col">Message</th><th scope="col">State</th><th scope="col">Last attempt</th><th scope="col">Why</th><th scope="col">Receiver</th></tr></thead>
          <tbody>${problems.map((m) => {
            const a = problemAttempts.get(m.id);
            const state = shownState(m, now);
            return html`<tr>
              <td data-label="Message"><a href="${messagePath(m.subscription_uuid, m.message_id)}">${m.topic}${m.order_id !== null ? ` · order ${m.order_id}` : ''}</a><br><code class="muted">${m.message_id}</code></td>
              <td data-label="State">${statusBadge(state)}<br><span class="muted">${m.attempt_count} attempt${m.attempt_count === 1 ? '' : 's'}</span></td>
              <td data-label="Last attempt">${timeTag(m.last_attempt_at, tz)}</td>
              <td data-label="Why">${a ? attemptSummary(a) : ''}</td>
              <td data-label="Receiver"><code>${m.url}</code></td>
            </tr>`;
          })}</tbody></table></div>`
      : html`<p>No failed messages.</p>`;

    const windowRow = (label: string, w: MessageWindow) => html`<tr>
      <th scope="row">${label}</th><td class="num" data-label="All">${w.total}</td><td class="num" data-label="Delivered">${w.delivered}</td><td class="num" data-label="Retrying">${w.retrying}</td><td class="num" data-label="Failed">${w.failed}</td><td class="num" data-label="Waiting">${w.waiting}</td><td class="num" data-label="Held">${w.held}</td></tr>`;

    const oldest = queue.oldestDue
      ? html`due for ${formatDuration(now - queue.oldestDue.next_attempt_at)}, created ${relative(queue.oldestDue.created_at, now)} — <a href="${messagePath(queue.oldestDue.subscription_uuid, queue.oldestDue.message_id)}">open it</a>`
      : html`none: nothing is waiting for the dispatcher`;

    const body = html`
      <h1>Overview of ${auth.storeName}</h1>
      <p class="muted">Times are in the store's time zone, ${tz}; hover over a time to see it in UTC. Now: ${timeTag(now, tz)}.</p>
      <form method="get" action="/messages" class="filters" role="search" aria-label="Find a message">
        <div><label for="find">Find a message by message id, webhook-id or order id</label><input id="find" name="q" type="search" size="28" maxlength="80" placeholder="msg_… or 1234" required></div>
        <div><button type="submit">Search</button></div>
      </form>

      <h2 id="attention">Needs attention</h2>
      ${attention}

      <h2 id="failures">Latest failed messages</h2>
      ${latestFailures}

      <h2 id="traffic">Messages</h2>
      <div class="scroll"><table class="stack grid">
        <caption class="muted">Messages created in the period, by what became of them</caption>
        <thead><tr><th scope="col">Period</th><th scope="col" class="num">All</th><th scope="col" class="num">Delivered</th><th scope="col" class="num">Retrying</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Waiting</th><th scope="col" class="num">Held</th></tr></thead>
        <tbody>${windowRow('Last hour', hour)}${windowRow('Last 24 hours', day)}</tbody>
      </table></div>

      <h2 id="queue">Queue</h2>
      <div class="cards">
        <div class="card"><div class="big">${queue.pending}</div>messages not yet delivered (queue depth)</div>
        <div class="card"><div class="big">${queue.dueNow}</div>due now</div>
        <div class="card"><div class="big">${queue.held}</div>held for disabled subscriptions</div>
        <div class="card"><div class="big">${queue.oldestDue ? formatDuration(now - queue.oldestDue.next_attempt_at) : '—'}</div>age of the oldest due message</div>
      </div>
      <p>Oldest due message: ${oldest}.</p>`;
    return render(ctx, request, reply, { title: 'Overview', section: 'overview', body });
  });
}
