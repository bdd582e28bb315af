/**
 * Subscriptions: the list (with each one's success rate over the last 24 hours), a two-step "new"
 * form (topic, then URL and that topic's expands), edit, enable/disable, delete with a confirmation
 * page, the test message, and the message log of one subscription (filters, paging). Recovering
 * and discarding messages are in recovery.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SUBSCRIPTION_ORDERINGS, type SubscriptionOrdering, type SubscriptionRow } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import { signingViews, type SigningView } from '../../webhooks/signing-keys.js';
import { findSubscription, listSubscriptions } from '../../webhooks/subscriptions.js';
import { findTopic, TOPICS, type TopicDefinition } from '../../webhooks/topics.js';
import { sendFlash, sendTestMessage } from '../actions.js';
import { errorList, field, fields, pageParam, param, redirectWith, render, sessionOf, type DashboardContext } from '../context.js';
import { html, path, type HtmlValue, type SafeHtml } from '../html.js';
import { csrfField, statusBadge } from '../layout.js';
import { heldCounts, listMessages, problemCounts, successRates, unsentCount, type SuccessRate } from '../../delivery/queue-views.js';
import { lastAttempts } from '../queries.js';
import { messageFilterForm, messageTable, readMessageFilter } from '../message-list.js';
import { timeTag } from '../time.js';
import { messagePath } from './overview.js';
import { issuedKeysBody, signingChoiceField, signingFacts, signingFieldset, signingChoiceOf, type SigningChoiceName } from './signing.js';
import { recoverForm } from './recovery.js';
import { uuidFingerprint } from '../../log.js';
import type { SubscriptionHealth } from '../../webhooks/contract.js';
import { healthView } from '../../webhooks/health-view.js';

const SUBSCRIPTIONS_PER_PAGE = 50;
const MESSAGES_PER_PAGE = 25;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** `97% (34 of 35 attempts)`: the share of attempts in the last 24 hours that delivered. */
export function successRate(rate: SuccessRate | undefined): SafeHtml {
  if (!rate || rate.attempts === 0) return html`<span class="muted" data-success-rate="none">no attempts</span>`;
  const percent = Math.floor((rate.delivered / rate.attempts) * 100);
  return html`<span data-success-rate="${percent}">${percent}%</span> <span class="muted">(${rate.delivered} of ${rate.attempts} attempt${rate.attempts === 1 ? '' : 's'})</span>`;
}

interface UuidParams {
  uuid: string;
}

export function subscriptionPath(uuid: string, query?: Record<string, string | number | undefined>): string {
  return query ? path('subscriptions', uuid, query) : path('subscriptions', uuid);
}

/** Previous / next links that keep the other query parameters; `moreThan`: the total is a lower bound. */
export function pager(base: string, query: Record<string, string | undefined>, page: number, total: number, perPage: number, moreThan = false): SafeHtml {
  const pages = Math.max(1, Math.ceil(total / perPage));
  const link = (p: number) => `${base}${path({ ...query, page: p === 1 ? undefined : String(p) }).slice(1)}`;
  return html`<nav class="pager" aria-label="Pages">
    ${page > 1 ? html`<a href="${link(page - 1)}" rel="prev">← Newer</a>` : ''}
    <span>${moreThan ? `Page ${page} (more than ${total} in all)` : `Page ${page} of ${pages} (${total} in all)`}</span>
    ${page < pages || moreThan ? html`<a href="${link(page + 1)}" rel="next">Older →</a>` : ''}
  </nav>`;
}

/** A message list counts this many at most: beyond it, narrow the filter. */
export const MESSAGES_COUNTED_UP_TO = 10_000;

function expandsFieldset(topic: TopicDefinition, checked: readonly string[]): SafeHtml {
  return html`<fieldset>
    <legend>Include in each message (expands)</legend>
    <p class="hint">The order is always included; tick the parts of it the receiver needs as well.</p>
    ${topic.expands.map((e) => html`<label><input type="checkbox" name="expands" value="${e}"${checked.includes(e) ? html` checked` : ''}> <code>${e}</code></label>`)}
  </fieldset>`;
}

const ORDERING_TEXT: Record<SubscriptionOrdering, string> = {
  none: 'Send each message as soon as it is due (fastest; messages about one order may arrive out of order after a retry).',
  per_order: 'One at a time per order (per product, stock item or customer for those topics): the next waits until the previous one is delivered or has failed for good. Other orders still go in parallel.',
};

/** The ordering choice of the new and edit forms. */
function orderingFieldset(checked: SubscriptionOrdering): SafeHtml {
  return html`<fieldset>
    <legend>Ordering</legend>
    ${SUBSCRIPTION_ORDERINGS.map((o) => html`<label><input type="radio" name="ordering" value="${o}"${o === checked ? html` checked` : ''}> <span><code>${o}</code> — ${ORDERING_TEXT[o]}</span></label>`)}
    <p class="hint">Every message carries a <code>sequence</code> per order either way, so a receiver can drop a stale update.</p>
  </fieldset>`;
}

/** The ordering a form sent: a 400 for anything but the two choices. */
function orderingField(body: unknown): SubscriptionOrdering | undefined {
  const value = field(body, 'ordering');
  if (value === undefined || value === '') return undefined;
  if (!(SUBSCRIPTION_ORDERINGS as readonly string[]).includes(value)) throw new DomainError(400, `Ordering must be one of ${SUBSCRIPTION_ORDERINGS.join(', ')}.`, [{ field: 'ordering', message: `"${value}" is not one of ${SUBSCRIPTION_ORDERINGS.join(', ')}` }]);
  return value as SubscriptionOrdering;
}

function topicPicker(selected?: string, error?: string): SafeHtml {
  return html`<form method="get" action="/subscriptions/new">
    ${error ? html`<div class="problem errors" role="alert">${error}</div>` : ''}
    <fieldset>
      <legend>Step 1 of 2: which event should be sent?</legend>
      ${TOPICS.map((t) => html`<label><input type="radio" name="topic" value="${t.name}" required${t.name === selected ? html` checked` : ''}> <span><code>${t.name}</code> — ${t.description}</span></label>`)}
    </fieldset>
    <p class="hint">See the <a href="/topics">topic catalogue</a> for an example message of each.</p>
    <p><button type="submit">Next: receiver URL and contents</button></p>
  </form>`;
}

function newForm(csrf: string, topic: TopicDefinition, values: { url?: string; expands?: string[]; ordering?: SubscriptionOrdering | undefined; signing?: SigningChoiceName | undefined }, errors?: HtmlValue): SafeHtml {
  return html`<form method="post" action="/subscriptions">
    ${csrfField(csrf)}
    <input type="hidden" name="topic" value="${topic.name}">
    ${errors ?? ''}
    <p>Step 2 of 2. Topic: <code>${topic.name}</code> — ${topic.description} <a href="${path('subscriptions', 'new', { topic: topic.name, change: '1' })}">Choose another topic</a></p>
    <label for="url">Receiver URL</label>
    <input id="url" name="url" type="url" required maxlength="2048" placeholder="https://erp.example.com/hooks/storehook" value="${values.url ?? ''}">
    <p class="hint">Messages are POSTed here as signed JSON. Internal addresses (loopback, private networks) are refused unless the operator allows them.</p>
    ${expandsFieldset(topic, values.expands ?? [])}
    ${orderingFieldset(values.ordering ?? 'none')}
    ${signingFieldset(values.signing ?? 'uuid')}
    <p><button type="submit">Create subscription</button> <a href="/subscriptions">Cancel</a></p>
  </form>`;
}

/** Health on the subscription's page: failing since, failures in a row, when it will be disabled, who disabled it. */
function healthFacts(sub: SubscriptionRow, tz: string, health: SubscriptionHealth, lastHour?: SuccessRate): SafeHtml {
  const disabledBy = { failing: 'automatically: it had failed for the disable time', gone: 'automatically: its receiver answered 410 Gone', operator: 'by a person (API, dashboard or legacy settings)' };
  return html`<dt>Health</dt><dd data-health-state="${health.state}">${statusBadge(health.state === 'healthy' ? 'active' : health.state === 'failing' ? 'retrying' : 'disabled', health.state)} <span class="muted">${health.reference}</span></dd>
    ${health.failing_since
      ? html`<dt>Failing since</dt><dd data-failing-since="${health.failing_since}">${timeTag(Date.parse(health.failing_since), tz)} · <span data-consecutive-failures="${health.consecutive_failures}">${health.consecutive_failures}</span> failed attempt${health.consecutive_failures === 1 ? '' : 's'} in a row</dd>`
      : ''}
    ${health.disables_at ? html`<dt>Disabled at</dt><dd data-disables-at="${health.disables_at}">${timeTag(Date.parse(health.disables_at), tz)} if it keeps failing (its messages are then held, not lost)</dd>` : ''}
    ${sub.status === 'disabled' && sub.disabled_at !== null ? html`<dt>Disabled</dt><dd data-disabled-by="${sub.disabled_by ?? ''}">${timeTag(sub.disabled_at, tz)}, ${sub.disabled_by ? disabledBy[sub.disabled_by] : ''}</dd>` : ''}
    <dt>Delivered (1 h)</dt><dd>${successRate(lastHour)}</dd>`;
}

function facts(sub: SubscriptionRow, tz: string, held: number, signing: SigningView, rate?: SuccessRate, health?: { view: SubscriptionHealth; lastHour?: SuccessRate | undefined }): SafeHtml {
  const expands = JSON.parse(sub.expands) as string[];
  return html`<dl class="facts">
    <dt>Receiver URL</dt><dd><code>${sub.url}</code></dd>
    <dt>Topic</dt><dd><code>${sub.topic}</code></dd>
    <dt>Expands</dt><dd>${expands.length ? expands.map((e, i) => html`${i ? ', ' : ''}<code>${e}</code>`) : html`<span class="muted">none (the order only)</span>`}</dd>
    <dt>State</dt><dd>${statusBadge(sub.status)}${sub.disabled_reason ? html` ${sub.disabled_reason}` : ''}</dd>
    ${health ? healthFacts(sub, tz, health.view, health.lastHour) : ''}
    <dt>Ordering</dt><dd data-ordering="${sub.ordering}"><code>${sub.ordering}</code> — ${ORDERING_TEXT[sub.ordering]}</dd>
    <dt>Delivered (24 h)</dt><dd>${successRate(rate)}</dd>
    <dt>Held messages</dt><dd data-held-count="${held}">${held
      ? html`<a href="${subscriptionPath(sub.uuid, { status: 'held' })}#messages">${held}</a> — kept, not sent, while the subscription is disabled; enabling it sends them, oldest first`
      : html`0${sub.status === 'disabled' ? html` <span class="muted">(new events are kept here until it is enabled)</span>` : ''}`}</dd>
    <dt>Created</dt><dd>${timeTag(sub.created_at, tz)}</dd>
    <dt>Changed</dt><dd>${timeTag(sub.updated_at, tz)}</dd>
    <dt>ID (uuid)</dt><dd><code>${sub.uuid}</code></dd>
    ${signingFacts(sub, signing, tz)}
  </dl>`;
}

/**
 * A subscription whose topic is not in the catalogue is internal: the legacy XML bridge's
 * automatic POST (`legacy.order_xml`). It is shown, tested, resent and recovered like any other,
 * but its URL and existence belong to `storehook stores legacy`.
 */
function isInternal(sub: SubscriptionRow): boolean {
  return findTopic(sub.topic) === undefined;
}

const INTERNAL_NOTE = 'This subscription carries the automatic POST of the old XML Webhooks extension. Change or remove it with `storehook stores legacy --store <name>`.';

export function registerSubscriptionPages(app: FastifyInstance, ctx: DashboardContext): void {
  const hidden = { schema: { hide: true } };

  async function load(request: FastifyRequest): Promise<SubscriptionRow> {
    const { uuid } = request.params as UuidParams;
    return findSubscription(ctx.db, sessionOf(request).auth.storeId, uuid);
  }

  const signingOf = async (sub: SubscriptionRow): Promise<SigningView> => (await signingViews(ctx.db, sub.store_id, [sub.uuid], ctx.now())).get(sub.uuid)!;

  /** Edit and delete: not for internal subscriptions. */
  async function loadEditable(request: FastifyRequest): Promise<SubscriptionRow> {
    const sub = await load(request);
    if (isInternal(sub)) throw new DomainError(409, INTERNAL_NOTE);
    return sub;
  }

  app.get('/subscriptions', hidden, async (request, reply) => {
    const { auth } = sessionOf(request);
    const page = pageParam(request.query);
    const [{ rows, total }, problems] = await Promise.all([listSubscriptions(ctx.db, auth.storeId, page, SUBSCRIPTIONS_PER_PAGE), problemCounts(ctx.db, auth.storeId)]);
    const uuids = rows.map((r) => r.uuid);
    const [held, rates] = await Promise.all([heldCounts(ctx.db, auth.storeId, uuids), successRates(ctx.db, auth.storeId, ctx.now() - DAY_MS, uuids)]);
    const table = rows.length
      ? html`<div class="scroll"><table class="stack">
          <thead><tr><th scope="col">Topic</th><th scope="col">Receiver URL</th><th scope="col">State</th><th scope="col">Delivered (24 h)</th><th scope="col" class="num">Failed or retrying</th><th scope="col" class="num">Held</th><th scope="col">Created</th></tr></thead>
          <tbody>${rows.map((s) => {
            const p = problems.get(s.uuid);
            const n = p ? p.failed + p.retrying : 0;
            const h = held.get(s.uuid) ?? 0;
            return html`<tr>
              <td data-label="Topic"><a href="${subscriptionPath(s.uuid)}">${s.topic}</a></td>
              <td data-label="Receiver URL"><code>${s.url}</code></td>
              <td data-label="State">${statusBadge(s.status)}${s.status === 'active' && s.failing_since !== null ? html` ${statusBadge('retrying', 'failing')}` : ''}</td>
              <td data-label="Delivered (24 h)">${successRate(rates.get(s.uuid))}</td>
              <td data-label="Failed or retrying" class="num">${n ? html`<a href="${subscriptionPath(s.uuid, { status: 'problems' })}">${n}</a>` : '0'}</td>
              <td data-label="Held" class="num">${h ? html`<a href="${subscriptionPath(s.uuid, { status: 'held' })}">${h}</a>` : '0'}</td>
              <td data-label="Created">${timeTag(s.created_at, auth.timezone)}</td>
            </tr>`;
          })}</tbody></table></div>
          ${pager('/subscriptions', {}, page, total, SUBSCRIPTIONS_PER_PAGE)}`
      : html`<p>No subscriptions yet. A subscription sends one event of this store to one URL.</p>`;
    const body = html`<h1>Subscriptions</h1>
      <p class="actions"><a class="button" href="/subscriptions/new">New subscription</a></p>
      ${table}`;
    return render(ctx, request, reply, { title: 'Subscriptions', section: 'subscriptions', body });
  });

  app.get('/subscriptions/new', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const topicName = param(request.query, 'topic');
    const topic = topicName ? findTopic(topicName) : undefined;
    const body =
      topic && !param(request.query, 'change')
        ? html`<h1>New subscription</h1>${newForm(session.csrfToken, topic, {})}`
        : html`<h1>New subscription</h1>${topicPicker(topicName, topicName && !topic ? `Unknown topic "${topicName}"; choose one from the list.` : undefined)}`;
    return render(ctx, request, reply, { title: 'New subscription', section: 'subscriptions', body, status: topicName && !topic ? 400 : 200 });
  });

  app.post('/subscriptions', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const topicName = field(request.body, 'topic') ?? '';
    const topic = findTopic(topicName);
    if (!topic) {
      const body = html`<h1>New subscription</h1>${topicPicker(undefined, `Choose a topic first${topicName ? ` ("${topicName}" is not one)` : ''}.`)}`;
      return render(ctx, request, reply, { title: 'New subscription', section: 'subscriptions', body, status: 400 });
    }
    const url = (field(request.body, 'url') ?? '').trim();
    const expands = fields(request.body, 'expands');
    let ordering: SubscriptionOrdering | undefined;
    let signing: SigningChoiceName | undefined;
    try {
      ordering = orderingField(request.body);
      signing = signingChoiceField(request.body);
      const { row, issued } = await ctx.webhooks.createSubscription({ storeId: session.auth.storeId, userId: session.auth.userId }, { topic: topic.name, url, expands, ordering, signing: signingChoiceOf(signing) });
      request.log.info({ subscription: uuidFingerprint(row.uuid), topic: row.topic }, 'webhook subscription created (dashboard)');
      if (issued.secret || issued.publicKey) {
        // A secret lives in this one answer: not in a flash message or a redirect, not in a cache.
        reply.header('cache-control', 'no-store');
        return render(ctx, request, reply, { title: 'Subscription created', section: 'subscriptions', body: issuedKeysBody(row, issued) });
      }
      return redirectWith(ctx, request, reply, subscriptionPath(row.uuid), { kind: 'ok', text: `Subscription created: ${row.topic} messages now go to ${row.url}. Send a test message to check the receiver.` });
    } catch (error) {
      if (!(error instanceof DomainError) || (error.status !== 400 && error.status !== 409)) throw error;
      const body = html`<h1>New subscription</h1>${newForm(session.csrfToken, topic, { url, expands, ordering, signing }, errorList(error))}`;
      return render(ctx, request, reply, { title: 'New subscription', section: 'subscriptions', body, status: error.status });
    }
  });

  app.get('/subscriptions/:uuid', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const { storeId, timezone: tz } = session.auth;
    const sub = await load(request);
    const now = ctx.now();
    const page = pageParam(request.query);
    const { search, raw, errors } = readMessageFilter(request.query, tz, false);
    const { rows, total, moreThan } = errors.length ? { rows: [], total: 0, moreThan: false } : await listMessages(ctx.db, storeId, { ...search, subscriptionUuid: sub.uuid }, page, MESSAGES_PER_PAGE, MESSAGES_COUNTED_UP_TO);
    const [attempts, held, rates, problems, hourRates] = await Promise.all([
      lastAttempts(ctx.db, storeId, rows.map((r) => r.id)),
      heldCounts(ctx.db, storeId, [sub.uuid]),
      successRates(ctx.db, storeId, now - DAY_MS, [sub.uuid]),
      problemCounts(ctx.db, storeId),
      successRates(ctx.db, storeId, now - HOUR_MS, [sub.uuid]),
    ]);
    const health = healthView(sub, ctx.config.webhookDisableAfterMs, hourRates.get(sub.uuid), rates.get(sub.uuid));
    const heldCount = held.get(sub.uuid) ?? 0;
    const failedCount = problems.get(sub.uuid)?.failed ?? 0;
    const filtered = Object.values(raw).some(Boolean);

    const list = rows.length
      ? html`${messageTable(rows, attempts, { tz, now, link: (m) => messagePath(sub.uuid, m.message_id) })}
          ${pager(subscriptionPath(sub.uuid), raw, page, total, MESSAGES_PER_PAGE, moreThan)}`
      : html`<p>${filtered ? 'No messages match the filter.' : 'No messages yet.'}</p>`;

    const body = html`
      <h1>Subscription to <code>${sub.topic}</code></h1>
      ${facts(sub, tz, heldCount, await signingOf(sub), rates.get(sub.uuid), { view: health, lastHour: hourRates.get(sub.uuid) })}
      <div class="actions">
        <form class="inline" method="post" action="${path('subscriptions', sub.uuid, 'test')}">${csrfField(session.csrfToken)}<button type="submit">Send a test message</button></form>
        <form class="inline" method="post" action="${path('subscriptions', sub.uuid, 'status')}">${csrfField(session.csrfToken)}
          ${sub.status === 'active'
            ? html`<input type="hidden" name="status" value="disabled"><button type="submit" class="secondary">Disable</button>`
            : html`<input type="hidden" name="status" value="active"><button type="submit">Enable</button>`}
        </form>
        ${failedCount ? html`<a class="button secondary" href="${path('subscriptions', sub.uuid, 'failed', 'resend')}">Resend all ${failedCount} failed…</a>` : ''}
        ${heldCount ? html`<a class="button secondary" href="${path('subscriptions', sub.uuid, 'held', 'discard')}">Discard ${heldCount} held…</a>` : ''}
        ${isInternal(sub)
          ? ''
          : html`<a class="button secondary" href="${path('subscriptions', sub.uuid, 'edit')}">Edit</a>
        <a class="button secondary" href="${path('subscriptions', sub.uuid, 'delete')}">Delete…</a>`}
      </div>
      ${isInternal(sub) ? html`<p class="hint">${INTERNAL_NOTE}</p>` : ''}

      <h2 id="messages">Messages</h2>
      ${messageFilterForm(`${subscriptionPath(sub.uuid)}#messages`, raw, false)}
      <p class="hint">Newest first. Times are in ${tz}.</p>
      ${errors.length ? html`<div class="problem errors" role="alert"><ul>${errors.map((e) => html`<li>${e}</li>`)}</ul></div>` : ''}
      ${list}

      <h2 id="recover">Recover failed messages</h2>
      ${recoverForm(sub.uuid, now, tz)}`;
    return render(ctx, request, reply, { title: `Subscription ${sub.topic}`, section: 'subscriptions', body, status: errors.length ? 400 : 200 });
  });

  app.post('/subscriptions/:uuid/status', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await load(request);
    const status = field(request.body, 'status');
    if (status !== 'active' && status !== 'disabled') throw new DomainError(400, 'status must be "active" or "disabled".');
    await ctx.webhooks.updateSubscription(session.auth.storeId, sub.uuid, { status }, session.auth.email);
    const text = status === 'active' ? 'Subscription enabled: held messages are being sent now, oldest first.' : 'Subscription disabled: nothing is sent to it; its queued messages and new events are held until it is enabled again (or discarded).';
    return redirectWith(ctx, request, reply, subscriptionPath(sub.uuid), { kind: 'ok', text });
  });

  app.post('/subscriptions/:uuid/test', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await load(request);
    const { messageId, sent } = await sendTestMessage(ctx, sub);
    return redirectWith(ctx, request, reply, messagePath(sub.uuid, messageId), sendFlash('Test message', sent, session.auth.timezone));
  });

  const editForm = (csrf: string, sub: SubscriptionRow, values: { url: string; expands: string[]; ordering: SubscriptionOrdering }, errors?: HtmlValue) => {
    const topic = findTopic(sub.topic);
    return html`<h1>Edit subscription to <code>${sub.topic}</code></h1>
      <form method="post" action="${path('subscriptions', sub.uuid, 'edit')}">
        ${csrfField(csrf)}
        ${errors ?? ''}
        <label for="url">Receiver URL</label>
        <input id="url" name="url" type="url" required maxlength="2048" value="${values.url}">
        ${topic ? expandsFieldset(topic, values.expands) : ''}
        ${orderingFieldset(values.ordering)}
        <p class="hint">Switching ordering off sends the messages waiting behind earlier ones at once; switching it on orders the messages made from then on.</p>
        <p class="hint">The topic cannot change; create another subscription for another topic. Messages already queued keep the contents they were rendered with.</p>
        <p><button type="submit">Save</button> <a href="${subscriptionPath(sub.uuid)}">Cancel</a></p>
      </form>`;
  };

  app.get('/subscriptions/:uuid/edit', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await loadEditable(request);
    const body = editForm(session.csrfToken, sub, { url: sub.url, expands: JSON.parse(sub.expands) as string[], ordering: sub.ordering });
    return render(ctx, request, reply, { title: 'Edit subscription', section: 'subscriptions', body });
  });

  app.post('/subscriptions/:uuid/edit', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await loadEditable(request);
    const url = (field(request.body, 'url') ?? '').trim();
    const expands = fields(request.body, 'expands');
    let ordering: SubscriptionOrdering = sub.ordering;
    try {
      ordering = orderingField(request.body) ?? sub.ordering;
      await ctx.webhooks.updateSubscription(session.auth.storeId, sub.uuid, { url, expands, ordering }, session.auth.email);
      return redirectWith(ctx, request, reply, subscriptionPath(sub.uuid), { kind: 'ok', text: 'Subscription saved.' });
    } catch (error) {
      if (!(error instanceof DomainError) || (error.status !== 400 && error.status !== 409)) throw error;
      return render(ctx, request, reply, { title: 'Edit subscription', section: 'subscriptions', body: editForm(session.csrfToken, sub, { url, expands, ordering }, errorList(error)), status: error.status });
    }
  });

  app.get('/subscriptions/:uuid/delete', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await loadEditable(request);
    const unsent = await unsentCount(ctx.db, session.auth.storeId, sub.uuid);
    const held = (await heldCounts(ctx.db, session.auth.storeId, [sub.uuid])).get(sub.uuid) ?? 0;
    const body = html`<h1>Delete this subscription?</h1>
      ${facts(sub, session.auth.timezone, held, await signingOf(sub))}
      <div class="problem" role="alert"><p>Deleting it stops all <code>${sub.topic}</code> messages to <code>${sub.url}</code>, drops the ${unsent} message(s) still waiting to be sent, and deletes its delivery log. This cannot be undone. To stop it for a while instead, disable it.</p></div>
      <form method="post" action="${path('subscriptions', sub.uuid, 'delete')}">
        ${csrfField(session.csrfToken)}
        <p class="actions"><button type="submit" class="danger">Delete subscription</button> <a href="${subscriptionPath(sub.uuid)}">Keep it</a></p>
      </form>`;
    return render(ctx, request, reply, { title: 'Delete subscription', section: 'subscriptions', body });
  });

  app.post('/subscriptions/:uuid/delete', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await loadEditable(request);
    await ctx.webhooks.deleteSubscription(session.auth.storeId, sub.uuid);
    request.log.info({ subscription: uuidFingerprint(sub.uuid) }, 'webhook subscription deleted (dashboard)');
    return redirectWith(ctx, request, reply, '/subscriptions', { kind: 'ok', text: `Subscription to ${sub.topic} at ${sub.url} deleted.` });
  });
}
