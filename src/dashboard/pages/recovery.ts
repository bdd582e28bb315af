/**
 * Sending failed messages again, and discarding held ones: each shows how many first (a dry run),
 * then asks for a confirmation that is POSTed with the CSRF token like every other action.
 * - recover: the failed messages created in a time window, the window typed in the store's zone;
 * - resend all failed: every failed message of the subscription, up to the moment of the count;
 * - discard held: the messages held for a disabled subscription, up to the moment of the count.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SubscriptionRow } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import { uuidFingerprint } from '../../log.js';
import { findSubscription } from '../../webhooks/subscriptions.js';
import { field, param, redirectWith, render, sessionOf, type DashboardContext } from '../context.js';
import { html, path, type SafeHtml } from '../html.js';
import { csrfField, statusBadge } from '../layout.js';
import { timeInput } from '../message-list.js';
import { parseLocalInput, timeTag, toLocalInput, utcIso } from '../time.js';

const WEEK_MS = 7 * 86_400_000;

/** The window form: on the subscription's page, and on its own when opened directly. */
export function recoverForm(uuid: string, now: number, tz: string, values?: { since?: string | undefined; until?: string | undefined }): SafeHtml {
  return html`<p>Send again every message of this subscription that failed for good (all retries used), created in a time window. You will see how many first. Times are in ${tz}.</p>
    <form method="get" action="${path('subscriptions', uuid, 'recover')}" class="filters" aria-label="Recover failed messages">
      <div><label for="r-since">Created from</label>${timeInput('r-since', 'since', values?.since ?? toLocalInput(now - WEEK_MS, tz), true)}</div>
      <div><label for="r-until">Created to</label>${timeInput('r-until', 'until', values?.until ?? toLocalInput(now + 60_000, tz), true)}</div>
      <div><button type="submit" class="secondary">Count failed messages</button></div>
    </form>`;
}

/** "1 message" / "3 messages". */
function messages(n: number): string {
  return `${n} message${n === 1 ? '' : 's'}`;
}

export function registerRecoveryPages(app: FastifyInstance, ctx: DashboardContext): void {
  const hidden = { schema: { hide: true } };

  async function load(request: FastifyRequest): Promise<SubscriptionRow> {
    const { uuid } = request.params as { uuid: string };
    return findSubscription(ctx.db, sessionOf(request).auth.storeId, uuid);
  }

  const readWindow = (since: string | undefined, until: string | undefined, tz: string): { since: number; until: number } | string => {
    if (!since) return 'Give the start of the window ("Created from").';
    const s = parseLocalInput(since, tz);
    if (s === null) return `"Created from" is not a date and time like 2026-05-02 10:15: ${since}`;
    const u = until ? parseLocalInput(until, tz) : ctx.now();
    if (u === null) return `"Created to" is not a date and time like 2026-05-02 10:15: ${until}`;
    if (s > u) return 'The window starts after it ends; swap the two times.';
    return { since: s, until: u };
  };

  /** The count, then the confirmation form that POSTs `since` and `until` to `action`. */
  function confirmation(csrf: string, sub: SubscriptionRow, action: string, window: { since: number; until: number }, count: number, what: SafeHtml): SafeHtml {
    return html`<p>Subscription to <code>${sub.topic}</code> at <code>${sub.url}</code>.</p>
      <p role="status"><strong data-recover-count="${count}">${count}</strong> ${what} would be sent again (dry run: nothing has changed yet).</p>
      ${count > 0
        ? html`<form method="post" action="${action}">
            ${csrfField(csrf)}
            <input type="hidden" name="since" value="${utcIso(window.since)}">
            <input type="hidden" name="until" value="${utcIso(window.until)}">
            <p class="hint">Each one gets a fresh retry schedule and keeps its webhook-id, so receivers can tell a repeat.${sub.status === 'disabled' ? ' The subscription is disabled: they will wait until it is enabled.' : ''}</p>
            <p class="actions"><button type="submit">Send ${messages(count)} again</button> <a href="${path('subscriptions', sub.uuid)}">Cancel</a></p>
          </form>`
        : html`<p>Nothing to send again. <a href="${path('subscriptions', sub.uuid)}">Back to the subscription</a></p>`}`;
  }

  async function requeue(request: FastifyRequest, sub: SubscriptionRow, window: { since: number; until: number }): Promise<number> {
    const count = await ctx.webhooks.recover(sessionOf(request).auth.storeId, sub.uuid, { ...window, dryRun: false }, ctx.now());
    request.log.info({ subscription: uuidFingerprint(sub.uuid), count }, 'failed messages recovered (dashboard)');
    return count;
  }

  app.get('/subscriptions/:uuid/recover', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const tz = session.auth.timezone;
    const sub = await load(request);
    const since = param(request.query, 'since');
    const until = param(request.query, 'until');
    const title = 'Recover failed messages';
    // Opened directly (a bookmark, a link from the docs): the form, not an error.
    if (since === undefined && until === undefined) {
      const body = html`<h1>${title}</h1><p>Subscription to <code>${sub.topic}</code> at <code>${sub.url}</code>.</p>${recoverForm(sub.uuid, ctx.now(), tz)}`;
      return render(ctx, request, reply, { title, section: 'subscriptions', body });
    }
    const window = readWindow(since, until, tz);
    if (typeof window === 'string') {
      const body = html`<h1>${title}</h1><div class="problem errors" role="alert">${window}</div>${recoverForm(sub.uuid, ctx.now(), tz, { since, until })}`;
      return render(ctx, request, reply, { title, section: 'subscriptions', body, status: 400 });
    }
    const count = await ctx.webhooks.recover(session.auth.storeId, sub.uuid, { ...window, dryRun: true }, ctx.now());
    const what = html`failed message${count === 1 ? '' : 's'} created between ${timeTag(window.since, tz)} and ${timeTag(window.until, tz)}`;
    const body = html`<h1>${title}</h1>${confirmation(session.csrfToken, sub, path('subscriptions', sub.uuid, 'recover'), window, count, what)}`;
    return render(ctx, request, reply, { title, section: 'subscriptions', body });
  });

  app.post('/subscriptions/:uuid/recover', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await load(request);
    const window = readWindow(field(request.body, 'since'), field(request.body, 'until'), session.auth.timezone);
    if (typeof window === 'string') throw new DomainError(400, window);
    const count = await requeue(request, sub, window);
    return redirectWith(ctx, request, reply, path('subscriptions', sub.uuid, { status: 'pending' }) + '#messages', {
      kind: 'ok',
      text: count ? `${count} failed message${count === 1 ? ' is' : 's are'} queued again and will be sent shortly.` : 'No failed messages were left in that window.',
    });
  });

  // Resend all failed: the same requeue over the whole life of the subscription. The count is of
  // this moment; the confirmation carries it, so a message failing meanwhile is not sent unseen.
  app.get('/subscriptions/:uuid/failed/resend', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await load(request);
    const window = { since: 0, until: ctx.now() };
    const count = await ctx.webhooks.recover(session.auth.storeId, sub.uuid, { ...window, dryRun: true }, window.until);
    const what = html`failed message${count === 1 ? '' : 's'} (every one of this subscription, up to ${timeTag(window.until, session.auth.timezone)})`;
    const body = html`<h1>Resend all failed messages?</h1>${confirmation(session.csrfToken, sub, path('subscriptions', sub.uuid, 'failed', 'resend'), window, count, what)}`;
    return render(ctx, request, reply, { title: 'Resend all failed messages', section: 'subscriptions', body });
  });

  app.post('/subscriptions/:uuid/failed/resend', hidden, async (request, reply) => {
    const sub = await load(request);
    const until = Date.parse(field(request.body, 'until') ?? '');
    if (!Number.isFinite(until)) throw new DomainError(400, 'The confirmation form is missing its time; open "Resend all failed…" again.');
    const count = await requeue(request, sub, { since: 0, until });
    return redirectWith(ctx, request, reply, path('subscriptions', sub.uuid, { status: 'pending' }) + '#messages', {
      kind: 'ok',
      text: count ? `${count} failed message${count === 1 ? ' is' : 's are'} queued again and will be sent shortly.` : 'No failed messages were left to resend.',
    });
  });

  app.get('/subscriptions/:uuid/held/discard', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const tz = session.auth.timezone;
    const sub = await load(request);
    // The count shown is the count discarded: the form carries this moment, and held messages
    // created after it (the subscription is still collecting) are kept.
    const until = ctx.now();
    const count = await ctx.webhooks.discardHeld(session.auth.storeId, sub.uuid, until, true);
    const body = html`<h1>Discard held messages?</h1>
      <p>Subscription to <code>${sub.topic}</code> at <code>${sub.url}</code> (${statusBadge(sub.status)}).</p>
      ${count > 0
        ? html`<div class="problem" role="alert"><p><strong data-discard-count="${count}">${count}</strong> held message${count === 1 ? '' : 's'}, created up to ${timeTag(until, tz)}, will be deleted and never sent. This cannot be undone. To send them instead, enable the subscription.</p></div>
          <form method="post" action="${path('subscriptions', sub.uuid, 'held', 'discard')}">
            ${csrfField(session.csrfToken)}
            <input type="hidden" name="until" value="${utcIso(until)}">
            <p class="actions"><button type="submit" class="danger">Discard ${messages(count)}</button> <a href="${path('subscriptions', sub.uuid)}">Keep them</a></p>
          </form>`
        : html`<p>No messages are held for this subscription. <a href="${path('subscriptions', sub.uuid)}">Back to the subscription</a></p>`}`;
    return render(ctx, request, reply, { title: 'Discard held messages', section: 'subscriptions', body });
  });

  app.post('/subscriptions/:uuid/held/discard', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await load(request);
    const raw = field(request.body, 'until');
    const until = raw ? Date.parse(raw) : NaN;
    if (!Number.isFinite(until)) throw new DomainError(400, 'The confirmation form is missing its time; open "Discard held…" again.');
    const count = await ctx.webhooks.discardHeld(session.auth.storeId, sub.uuid, until, false);
    request.log.info({ subscription: uuidFingerprint(sub.uuid), count }, 'held messages discarded (dashboard)');
    return redirectWith(ctx, request, reply, path('subscriptions', sub.uuid), {
      kind: 'ok',
      text: count ? `${count} held message${count === 1 ? ' was' : 's were'} discarded.` : 'No held messages were left to discard.',
    });
  });
}
