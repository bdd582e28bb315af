/**
 * Subscriptions: the list, a two-step "new" form (topic, then URL and that topic's expands),
 * edit, enable/disable, delete with a confirmation page, the test message, the message log
 * of one subscription (filters, paging), recover with a dry-run count first, and discarding the
 * messages held for a disabled subscription, after a page that shows how many.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SubscriptionRow } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import { signingViews, type SigningView } from '../../webhooks/signing-keys.js';
import { findSubscription, listSubscriptions } from '../../webhooks/subscriptions.js';
import { findTopic, TOPICS, type TopicDefinition } from '../../webhooks/topics.js';
import { sendFlash, sendTestMessage } from '../actions.js';
import { errorList, field, fields, pageParam, param, redirectWith, render, sessionOf, type DashboardContext } from '../context.js';
import { html, path, type HtmlValue, type SafeHtml } from '../html.js';
import { csrfField, statusBadge } from '../layout.js';
import { lastAttempts, listMessages, MESSAGE_FILTERS, messageState, problemCounts, type MessageFilter, type MessageQuery } from '../queries.js';
import { parseLocalInput, relative, timeTag, toLocalInput, utcIso } from '../time.js';
import { messagePath } from './overview.js';
import { signingFacts } from './signing.js';
import { uuidFingerprint } from '../../log.js';

const SUBSCRIPTIONS_PER_PAGE = 50;
const MESSAGES_PER_PAGE = 25;

interface UuidParams {
  uuid: string;
}

export function subscriptionPath(uuid: string, query?: Record<string, string | number | undefined>): string {
  return query ? path('subscriptions', uuid, query) : path('subscriptions', uuid);
}

/** Previous / next links that keep the other query parameters. */
export function pager(base: string, query: Record<string, string | undefined>, page: number, total: number, perPage: number): SafeHtml {
  const pages = Math.max(1, Math.ceil(total / perPage));
  const link = (p: number) => `${base}${path({ ...query, page: p === 1 ? undefined : String(p) }).slice(1)}`;
  return html`<nav class="pager" aria-label="Pages">
    ${page > 1 ? html`<a href="${link(page - 1)}" rel="prev">← Newer</a>` : ''}
    <span>Page ${page} of ${pages} (${total} in all)</span>
    ${page < pages ? html`<a href="${link(page + 1)}" rel="next">Older →</a>` : ''}
  </nav>`;
}

function expandsFieldset(topic: TopicDefinition, checked: readonly string[]): SafeHtml {
  return html`<fieldset>
    <legend>Include in each message (expands)</legend>
    <p class="hint">The order is always included; tick the parts of it the receiver needs as well.</p>
    ${topic.expands.map((e) => html`<label><input type="checkbox" name="expands" value="${e}"${checked.includes(e) ? html` checked` : ''}> <code>${e}</code></label>`)}
  </fieldset>`;
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

function newForm(csrf: string, topic: TopicDefinition, values: { url?: string; expands?: string[] }, errors?: HtmlValue): SafeHtml {
  return html`<form method="post" action="/subscriptions">
    ${csrfField(csrf)}
    <input type="hidden" name="topic" value="${topic.name}">
    ${errors ?? ''}
    <p>Step 2 of 2. Topic: <code>${topic.name}</code> — ${topic.description} <a href="${path('subscriptions', 'new', { topic: topic.name, change: '1' })}">Choose another topic</a></p>
    <label for="url">Receiver URL</label>
    <input id="url" name="url" type="url" required maxlength="2048" placeholder="https://erp.example.com/hooks/storehook" value="${values.url ?? ''}">
    <p class="hint">Messages are POSTed here as signed JSON. Internal addresses (loopback, private networks) are refused unless the operator allows them.</p>
    ${expandsFieldset(topic, values.expands ?? [])}
    <p><button type="submit">Create subscription</button> <a href="/subscriptions">Cancel</a></p>
  </form>`;
}

function facts(sub: SubscriptionRow, tz: string, held: number, signing: SigningView): SafeHtml {
  const expands = JSON.parse(sub.expands) as string[];
  return html`<dl class="facts">
    <dt>Receiver URL</dt><dd><code>${sub.url}</code></dd>
    <dt>Topic</dt><dd><code>${sub.topic}</code></dd>
    <dt>Expands</dt><dd>${expands.length ? expands.map((e, i) => html`${i ? ', ' : ''}<code>${e}</code>`) : html`<span class="muted">none (the order only)</span>`}</dd>
    <dt>State</dt><dd>${statusBadge(sub.status)}${sub.disabled_reason ? html` ${sub.disabled_reason}` : ''}</dd>
    <dt>Held messages</dt><dd data-held-count="${held}">${held
      ? html`<a href="${subscriptionPath(sub.uuid, { status: 'held' })}#messages">${held}</a> — kept, not sent, while the subscription is disabled; enabling it sends them, oldest first`
      : html`0${sub.status === 'disabled' ? html` <span class="muted">(new events are kept here until it is enabled)</span>` : ''}`}</dd>
    <dt>Created</dt><dd>${timeTag(sub.created_at, tz)}</dd>
    <dt>Changed</dt><dd>${timeTag(sub.updated_at, tz)}</dd>
    <dt>ID (uuid)</dt><dd><code>${sub.uuid}</code></dd>
    ${signingFacts(sub, signing, tz)}
  </dl>`;
}

function readFilter(query: unknown, tz: string): { filter: MessageQuery; raw: Record<string, string | undefined>; errors: string[] } {
  const errors: string[] = [];
  const status = param(query, 'status');
  const fromRaw = param(query, 'from');
  const toRaw = param(query, 'to');
  const filter: MessageQuery = {};
  if (status) {
    if (status in MESSAGE_FILTERS) filter.status = status as MessageFilter;
    else errors.push(`Unknown state "${status}"; choose one from the list.`);
  }
  if (fromRaw) {
    const v = parseLocalInput(fromRaw, tz);
    if (v === null) errors.push(`"From" is not a date and time: ${fromRaw}`);
    else filter.from = v;
  }
  if (toRaw) {
    const v = parseLocalInput(toRaw, tz);
    if (v === null) errors.push(`"To" is not a date and time: ${toRaw}`);
    // A minute picked in the form means "to the end of that minute".
    else filter.to = /T\d{2}:\d{2}$/.test(toRaw.trim()) ? v + 59_999 : v;
  }
  return { filter, raw: { status: filter.status, from: fromRaw || undefined, to: toRaw || undefined }, errors };
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
    const held = await ctx.webhooks.heldCounts(ctx.db, auth.storeId, rows.map((r) => r.uuid));
    const table = rows.length
      ? html`<div class="scroll"><table class="stack">
          <thead><tr><th scope="col">Topic</th><th scope="col">Receiver URL</th><th scope="col">State</th><th scope="col" class="num">Failed or retrying</th><th scope="col" class="num">Held</th><th scope="col">Created</th></tr></thead>
          <tbody>${rows.map((s) => {
            const n = problems.get(s.uuid) ?? 0;
            const h = held.get(s.uuid) ?? 0;
            return html`<tr>
              <td data-label="Topic"><a href="${subscriptionPath(s.uuid)}">${s.topic}</a></td>
              <td data-label="Receiver URL"><code>${s.url}</code></td>
              <td data-label="State">${statusBadge(s.status)}</td>
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
    try {
      const { row } = await ctx.webhooks.createSubscription({ storeId: session.auth.storeId, userId: session.auth.userId }, { topic: topic.name, url, expands });
      request.log.info({ subscription: uuidFingerprint(row.uuid), topic: row.topic }, 'webhook subscription created (dashboard)');
      return redirectWith(ctx, request, reply, subscriptionPath(row.uuid), { kind: 'ok', text: `Subscription created: ${row.topic} messages now go to ${row.url}. Send a test message to check the receiver.` });
    } catch (error) {
      if (!(error instanceof DomainError) || (error.status !== 400 && error.status !== 409)) throw error;
      const body = html`<h1>New subscription</h1>${newForm(session.csrfToken, topic, { url, expands }, errorList(error))}`;
      return render(ctx, request, reply, { title: 'New subscription', section: 'subscriptions', body, status: error.status });
    }
  });

  app.get('/subscriptions/:uuid', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const tz = session.auth.timezone;
    const sub = await load(request);
    const now = ctx.now();
    const page = pageParam(request.query);
    const { filter, raw, errors } = readFilter(request.query, tz);
    const { rows, total } = errors.length ? { rows: [], total: 0 } : await listMessages(ctx.db, session.auth.storeId, sub.uuid, filter, page, MESSAGES_PER_PAGE);
    const attempts = await lastAttempts(ctx.db, session.auth.storeId, rows.map((r) => r.id));
    const held = (await ctx.webhooks.heldCounts(ctx.db, session.auth.storeId, [sub.uuid])).get(sub.uuid) ?? 0;
    const filtered = Boolean(raw.status || raw.from || raw.to);

    const list = rows.length
      ? html`<div class="scroll"><table class="stack">
          <thead><tr><th scope="col">Created</th><th scope="col">Message</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">Last attempt</th><th scope="col">Next attempt</th></tr></thead>
          <tbody>${rows.map((m) => {
            const state = messageState(m, now);
            const a = attempts.get(m.id);
            return html`<tr>
              <td data-label="Created">${timeTag(m.created_at, tz)}</td>
              <td data-label="Message"><a href="${messagePath(sub.uuid, m.message_id)}">${m.topic}${m.order_id !== null ? ` · order ${m.order_id}` : ''}</a><br><code class="muted">${m.message_id}</code></td>
              <td data-label="State">${statusBadge(state)}</td>
              <td data-label="Attempts" class="num">${m.attempt_count}</td>
              <td data-label="Last attempt">${a ? html`${timeTag(a.started_at, tz)}<br><span class="muted">${a.status_code !== null ? `HTTP ${a.status_code}` : (a.error_class ?? '').replace(/_/g, ' ')}</span>` : html`<span class="muted">—</span>`}</td>
              <td data-label="Next attempt">${m.status === 'pending' && m.next_attempt_at !== null ? html`${timeTag(m.next_attempt_at, tz)}<br><span class="muted">${relative(m.next_attempt_at, now)}</span>` : m.status === 'held' ? html`<span class="muted">when enabled</span>` : html`<span class="muted">—</span>`}</td>
            </tr>`;
          })}</tbody></table></div>
          ${pager(subscriptionPath(sub.uuid), raw, page, total, MESSAGES_PER_PAGE)}`
      : html`<p>${filtered ? 'No messages match the filter.' : 'No messages yet.'}</p>`;

    const body = html`
      <h1>Subscription to <code>${sub.topic}</code></h1>
      ${facts(sub, tz, held, await signingOf(sub))}
      <div class="actions">
        <form class="inline" method="post" action="${path('subscriptions', sub.uuid, 'test')}">${csrfField(session.csrfToken)}<button type="submit">Send a test message</button></form>
        <form class="inline" method="post" action="${path('subscriptions', sub.uuid, 'status')}">${csrfField(session.csrfToken)}
          ${sub.status === 'active'
            ? html`<input type="hidden" name="status" value="disabled"><button type="submit" class="secondary">Disable</button>`
            : html`<input type="hidden" name="status" value="active"><button type="submit">Enable</button>`}
        </form>
        ${held ? html`<a class="button secondary" href="${path('subscriptions', sub.uuid, 'held', 'discard')}">Discard ${held} held…</a>` : ''}
        ${isInternal(sub)
          ? ''
          : html`<a class="button secondary" href="${path('subscriptions', sub.uuid, 'edit')}">Edit</a>
        <a class="button secondary" href="${path('subscriptions', sub.uuid, 'delete')}">Delete…</a>`}
      </div>
      ${isInternal(sub) ? html`<p class="hint">${INTERNAL_NOTE}</p>` : ''}

      <h2 id="messages">Messages</h2>
      <form method="get" action="${subscriptionPath(sub.uuid)}#messages" class="filters" aria-label="Filter messages">
        <div><label for="f-status">State</label>
          <select id="f-status" name="status"><option value="">Any</option>${Object.entries(MESSAGE_FILTERS).map(([value, label]) => html`<option value="${value}"${raw.status === value ? html` selected` : ''}>${label}</option>`)}</select></div>
        <div><label for="f-from">Created from</label><input id="f-from" name="from" type="datetime-local" value="${raw.from ?? ''}"></div>
        <div><label for="f-to">Created to</label><input id="f-to" name="to" type="datetime-local" value="${raw.to ?? ''}"></div>
        <div><button type="submit">Filter</button> ${filtered ? html`<a href="${subscriptionPath(sub.uuid)}#messages">Clear</a>` : ''}</div>
      </form>
      <p class="hint">Newest first. Times are in ${tz}.</p>
      ${errors.length ? html`<div class="problem errors" role="alert"><ul>${errors.map((e) => html`<li>${e}</li>`)}</ul></div>` : ''}
      ${list}

      <h2 id="recover">Recover failed messages</h2>
      <p>Send again every message of this subscription that failed for good (all retries used), created in a time window. You will see how many first.</p>
      <form method="get" action="${path('subscriptions', sub.uuid, 'recover')}" class="filters">
        <div><label for="r-since">Created from</label><input id="r-since" name="since" type="datetime-local" required value="${toLocalInput(now - 7 * 86_400_000, tz)}"></div>
        <div><label for="r-until">Created to</label><input id="r-until" name="until" type="datetime-local" required value="${toLocalInput(now + 60_000, tz)}"></div>
        <div><button type="submit" class="secondary">Count failed messages</button></div>
      </form>`;
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

  const editForm = (csrf: string, sub: SubscriptionRow, values: { url: string; expands: string[] }, errors?: HtmlValue) => {
    const topic = findTopic(sub.topic);
    return html`<h1>Edit subscription to <code>${sub.topic}</code></h1>
      <form method="post" action="${path('subscriptions', sub.uuid, 'edit')}">
        ${csrfField(csrf)}
        ${errors ?? ''}
        <label for="url">Receiver URL</label>
        <input id="url" name="url" type="url" required maxlength="2048" value="${values.url}">
        ${topic ? expandsFieldset(topic, values.expands) : ''}
        <p class="hint">The topic cannot change; create another subscription for another topic. Messages already queued keep the contents they were rendered with.</p>
        <p><button type="submit">Save</button> <a href="${subscriptionPath(sub.uuid)}">Cancel</a></p>
      </form>`;
  };

  app.get('/subscriptions/:uuid/edit', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await loadEditable(request);
    const body = editForm(session.csrfToken, sub, { url: sub.url, expands: JSON.parse(sub.expands) as string[] });
    return render(ctx, request, reply, { title: 'Edit subscription', section: 'subscriptions', body });
  });

  app.post('/subscriptions/:uuid/edit', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await loadEditable(request);
    const url = (field(request.body, 'url') ?? '').trim();
    const expands = fields(request.body, 'expands');
    try {
      await ctx.webhooks.updateSubscription(session.auth.storeId, sub.uuid, { url, expands }, session.auth.email);
      return redirectWith(ctx, request, reply, subscriptionPath(sub.uuid), { kind: 'ok', text: 'Subscription saved.' });
    } catch (error) {
      if (!(error instanceof DomainError) || (error.status !== 400 && error.status !== 409)) throw error;
      return render(ctx, request, reply, { title: 'Edit subscription', section: 'subscriptions', body: editForm(session.csrfToken, sub, { url, expands }, errorList(error)), status: error.status });
    }
  });

  app.get('/subscriptions/:uuid/delete', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await loadEditable(request);
    const pending = await ctx.db
      .selectFrom('webhook_messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('store_id', '=', session.auth.storeId)
      .where('subscription_uuid', '=', sub.uuid)
      .where('status', 'in', ['pending', 'held'])
      .executeTakeFirstOrThrow();
    const held = (await ctx.webhooks.heldCounts(ctx.db, session.auth.storeId, [sub.uuid])).get(sub.uuid) ?? 0;
    const body = html`<h1>Delete this subscription?</h1>
      ${facts(sub, session.auth.timezone, held, await signingOf(sub))}
      <div class="problem" role="alert"><p>Deleting it stops all <code>${sub.topic}</code> messages to <code>${sub.url}</code>, drops the ${Number(pending.n)} message(s) still waiting to be sent, and deletes its delivery log. This cannot be undone. To stop it for a while instead, disable it.</p></div>
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

  const readWindow = (since: string | undefined, until: string | undefined, tz: string): { since: number; until: number } | string => {
    if (!since) return 'Give the start of the window ("Created from").';
    const s = parseLocalInput(since, tz);
    if (s === null) return `"Created from" is not a date and time: ${since}`;
    const u = until ? parseLocalInput(until, tz) : ctx.now();
    if (u === null) return `"Created to" is not a date and time: ${until}`;
    if (s > u) return 'The window starts after it ends; swap the two times.';
    return { since: s, until: u };
  };

  app.get('/subscriptions/:uuid/recover', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const tz = session.auth.timezone;
    const sub = await load(request);
    const window = readWindow(param(request.query, 'since'), param(request.query, 'until'), tz);
    if (typeof window === 'string') {
      const body = html`<h1>Recover failed messages</h1><div class="problem errors" role="alert">${window}</div><p><a href="${subscriptionPath(sub.uuid)}#recover">Back to the subscription</a></p>`;
      return render(ctx, request, reply, { title: 'Recover failed messages', section: 'subscriptions', body, status: 400 });
    }
    const count = await ctx.webhooks.recover(session.auth.storeId, sub.uuid, { ...window, dryRun: true }, ctx.now());
    const body = html`<h1>Recover failed messages</h1>
      <p>Subscription to <code>${sub.topic}</code> at <code>${sub.url}</code>.</p>
      <p role="status"><strong>${count}</strong> failed message${count === 1 ? '' : 's'} created between ${timeTag(window.since, tz)} and ${timeTag(window.until, tz)} would be sent again (dry run: nothing has changed yet).</p>
      ${count > 0
        ? html`<form method="post" action="${path('subscriptions', sub.uuid, 'recover')}">
            ${csrfField(session.csrfToken)}
            <input type="hidden" name="since" value="${utcIso(window.since)}">
            <input type="hidden" name="until" value="${utcIso(window.until)}">
            <p class="hint">Each one gets a fresh retry schedule and keeps its webhook-id, so receivers can tell a repeat.${sub.status === 'disabled' ? ' The subscription is disabled: they will wait until it is enabled.' : ''}</p>
            <p class="actions"><button type="submit">Send ${count} message${count === 1 ? '' : 's'} again</button> <a href="${subscriptionPath(sub.uuid)}">Cancel</a></p>
          </form>`
        : html`<p>Nothing to recover. <a href="${subscriptionPath(sub.uuid)}#recover">Choose another window</a>.</p>`}`;
    return render(ctx, request, reply, { title: 'Recover failed messages', section: 'subscriptions', body });
  });

  app.post('/subscriptions/:uuid/recover', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await load(request);
    const window = readWindow(field(request.body, 'since'), field(request.body, 'until'), session.auth.timezone);
    if (typeof window === 'string') throw new DomainError(400, window);
    const count = await ctx.webhooks.recover(session.auth.storeId, sub.uuid, { ...window, dryRun: false }, ctx.now());
    request.log.info({ subscription: uuidFingerprint(sub.uuid), count }, 'failed messages recovered (dashboard)');
    return redirectWith(ctx, request, reply, subscriptionPath(sub.uuid, { status: 'pending' }) + '#messages', {
      kind: 'ok',
      text: count ? `${count} failed message${count === 1 ? ' is' : 's are'} queued again and will be sent shortly.` : 'No failed messages were left in that window.',
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
            <p class="actions"><button type="submit" class="danger">Discard ${count} message${count === 1 ? '' : 's'}</button> <a href="${subscriptionPath(sub.uuid)}">Keep them</a></p>
          </form>`
        : html`<p>No messages are held for this subscription. <a href="${subscriptionPath(sub.uuid)}">Back to the subscription</a></p>`}`;
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
    return redirectWith(ctx, request, reply, subscriptionPath(sub.uuid), {
      kind: 'ok',
      text: count ? `${count} held message${count === 1 ? ' was' : 's were'} discarded.` : 'No held messages were left to discard.',
    });
  });
}
