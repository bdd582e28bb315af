/**
 * One message: why it failed (first), its attempts on a timeline, the next retry, the headers
 * and body that were sent, and resend.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { AttemptRow, MessageRow, SigningKeyRow, SubscriptionRow } from '../../db/schema.js';
import { findMessage } from '../../webhooks/deliveries.js';
import { attemptHeaders } from '../../webhooks/signatures.js';
import { keyRows } from '../../webhooks/signing-keys.js';
import { findSubscription } from '../../webhooks/subscriptions.js';
import { VERSION } from '../../version.js';
import { sendFlash } from '../actions.js';
import { redirectWith, render, sessionOf, type DashboardContext } from '../context.js';
import { html, path, type SafeHtml } from '../html.js';
import { csrfField, statusBadge } from '../layout.js';
import { nextAttemptShown, shownState, type ShownState } from '../../delivery/message-states.js';
import { chainPosition, type ChainPosition } from '../../delivery/queue-views.js';
import { attemptExplanation, attemptsOf, attemptSummary } from '../queries.js';
import { formatDuration, relative, timeTag } from '../time.js';
import { messagePath } from './overview.js';
import { subscriptionPath } from './subscriptions.js';

interface MessageParams {
  uuid: string;
  id: string;
}

/** The body as readable JSON (it is sent compact); the exact bytes are shown separately. */
function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** The request headers of an attempt, rebuilt exactly: the signature is a function of what was sent and the keys that signed it. */
export function headersSent(sub: SubscriptionRow, message: MessageRow, attempt: AttemptRow, keys: readonly SigningKeyRow[]): Record<string, string> {
  return attemptHeaders({ subscriptionUuid: sub.uuid, messageId: message.message_id, topic: message.topic, contentType: message.content_type, body: message.body, startedAt: attempt.started_at, attemptNumber: attempt.attempt_number, version: VERSION }, keys);
}

const STATE_TEXT: Record<ShownState, string> = {
  waiting: 'Waiting for its first attempt.',
  sending: 'Being sent right now.',
  retrying: 'The last attempt failed; another one is scheduled.',
  held: 'Held: the subscription is disabled. It is sent when the subscription is enabled again.',
  blocked: 'Blocked: the subscription delivers per order, and an earlier message of the same order is not finished yet. It is sent once that one is delivered or has failed for good.',
  delivered: 'Delivered.',
  failed: 'Failed for good: every retry was used. Resend it once the receiver is fixed.',
};

/** What a blocked message waits for: its chain's head, and how many are ahead of it. */
function waitsBehind(uuid: string, chain: ChainPosition, now: number): SafeHtml {
  const ahead = chain.ahead === 1 ? '1 message' : `${chain.ahead} messages`;
  if (!chain.head) return html`${ahead} of its order, none of them sendable right now; the dispatcher releases it within a minute.`;
  const headState = shownState(chain.head, now);
  // The head may be another subscription's message to the same receiver (its order.created, say).
  const other = chain.head.subscription_uuid !== uuid ? html` of <code>${chain.head.topic}</code> to the same receiver` : '';
  return html`<a href="${messagePath(chain.head.subscription_uuid, chain.head.message_id)}"><code>${chain.head.message_id}</code></a>${other} (${headState}); ${ahead} of its order ahead of this one.`;
}

/** One attempt: when, how long, the answer; its response body closed until asked for. */
function attemptItem(a: AttemptRow, tz: string): SafeHtml {
  const ok = a.error_class === null;
  return html`<li class="${ok ? 'ok' : 'bad'}">
    <h3>Attempt ${a.attempt_number}: ${ok ? 'delivered' : 'failed'}</h3>
    <dl class="facts">
      <dt>Started</dt><dd>${timeTag(a.started_at, tz)}</dd>
      <dt>Duration</dt><dd>${formatDuration(a.duration_ms)}</dd>
      <dt>Answer</dt><dd>${a.status_code !== null ? `HTTP ${a.status_code} ${STATUS_CODES[a.status_code] ?? ''}` : html`<span class="muted">no HTTP answer</span>`}</dd>
      ${a.error_class ? html`<dt>Error class</dt><dd><code>${a.error_class}</code></dd>` : ''}
      ${a.error_message ? html`<dt>Error</dt><dd>${a.error_message}</dd>` : ''}
    </dl>
    ${a.response_body
      ? html`<details><summary>Response body${a.response_body.length >= 16384 ? ' (the first 16 KiB)' : ''}</summary><pre>${a.response_body}</pre></details>`
      : html`<p class="muted">Empty response body.</p>`}
  </li>`;
}

/** Runs of consecutive attempts with the same outcome (`HTTP 500 …`, `timeout: …`). */
export function groupAttempts(attempts: readonly AttemptRow[]): AttemptRow[][] {
  const runs: AttemptRow[][] = [];
  for (const a of attempts) {
    const run = runs[runs.length - 1];
    if (run && attemptSummary(run[0]!) === attemptSummary(a)) run.push(a);
    else runs.push([a]);
  }
  return runs;
}

/**
 * The attempts, oldest first. A run of attempts that failed the same way is one item, its first
 * and last time shown and the attempts themselves folded away: 45 attempts after two resends are
 * a few lines, not a page 6,500 px tall.
 */
function timeline(attempts: AttemptRow[], message: MessageRow, state: ShownState, tz: string, now: number): SafeHtml {
  const items = groupAttempts(attempts).map((run) => {
    if (run.length === 1) return attemptItem(run[0]!, tz);
    const first = run[0]!;
    const last = run[run.length - 1]!;
    return html`<li class="${first.error_class === null ? 'ok' : 'bad'} run" data-attempt-run="${run.length}">
      <h3>Attempts ${first.attempt_number}–${last.attempt_number}: ${first.error_class === null ? 'delivered' : 'failed'} ${run.length} times, ${attemptSummary(first)}</h3>
      <p>From ${timeTag(first.started_at, tz)} to ${timeTag(last.started_at, tz)}.</p>
      <details><summary>Show these ${run.length} attempts</summary><ol class="timeline">${run.map((a) => attemptItem(a, tz))}</ol></details>
    </li>`;
  });
  const next = nextAttemptShown(message, now);
  if (next !== null) {
    items.push(html`<li class="next"><h3>Next attempt ${message.attempt_count + 1}</h3><p>${timeTag(next, tz)} (${relative(next, now)})</p></li>`);
  } else if (state === 'sending') {
    items.push(html`<li class="next"><h3>Attempt ${message.attempt_count + 1}</h3><p>Being sent right now.</p></li>`);
  } else if (state === 'held') {
    items.push(html`<li class="next"><h3>Next attempt ${message.attempt_count + 1}</h3><p>When the subscription is enabled again.</p></li>`);
  } else if (state === 'blocked') {
    items.push(html`<li class="next"><h3>Next attempt ${message.attempt_count + 1}</h3><p>Once the earlier messages of its order are finished.</p></li>`);
  }
  return items.length ? html`<ol class="timeline">${items}</ol>` : html`<p>No attempt yet.</p>`;
}

export function registerMessagePages(app: FastifyInstance, ctx: DashboardContext): void {
  const hidden = { schema: { hide: true } };

  app.get('/subscriptions/:uuid/messages/:id', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const tz = session.auth.timezone;
    const { uuid, id } = request.params as MessageParams;
    const sub = await findSubscription(ctx.db, session.auth.storeId, uuid);
    const message = await findMessage(ctx.db, session.auth.storeId, sub.uuid, id);
    const attempts = await attemptsOf(ctx.db, session.auth.storeId, message.id);
    const now = ctx.now();
    const state = shownState(message, now);
    const nextAt = nextAttemptShown(message, now);
    const last = attempts[attempts.length - 1];

    const why =
      last && last.error_class !== null && state !== 'delivered'
        ? html`<section class="problem" aria-labelledby="why"><h2 id="why">Why it failed</h2>
            <p><strong>${attemptSummary(last)}</strong> on attempt ${last.attempt_number}, ${timeTag(last.started_at, tz)}.</p>
            <p>${attemptExplanation(last)}</p>
            ${last.response_body ? html`<p>The receiver answered:</p><pre>${last.response_body.slice(0, 2000)}</pre>` : ''}
          </section>`
        : '';

    const chain = state === 'blocked' ? await chainPosition(ctx.db, message) : null;
    const headers = last ? headersSent(sub, message, last, (await keyRows(ctx.db, session.auth.storeId, [sub.uuid])).get(sub.uuid) ?? []) : null;
    const body = html`
      <p><a href="${subscriptionPath(sub.uuid)}">← Subscription to ${sub.topic}</a></p>
      <h1>Message <code>${message.message_id}</code></h1>
      <dl class="facts">
        <dt>State</dt><dd>${statusBadge(state)} ${STATE_TEXT[state]}</dd>
        <dt>Topic</dt><dd><code>${message.topic}</code></dd>
        <dt>Sequence</dt><dd data-sequence="${message.sequence ?? ''}">${message.sequence !== null ? String(message.sequence) : html`<span class="muted">none</span>`}</dd>
        ${chain ? html`<dt>Waits behind</dt><dd data-waits-behind="${chain.head?.message_id ?? ''}">${waitsBehind(sub.uuid, chain, now)}</dd>` : ''}
        <dt>Order</dt><dd>${message.order_id !== null ? html`<a href="${path('orders', message.order_id)}">Order ${message.order_id}</a>` : html`<span class="muted">none</span>`}</dd>
        <dt>Receiver</dt><dd><code>${sub.url}</code> ${sub.status === 'disabled' ? statusBadge('disabled') : ''}</dd>
        <dt>Created</dt><dd>${timeTag(message.created_at, tz)}</dd>
        <dt>Attempts</dt><dd>${message.attempt_count}</dd>
        <dt>Last attempt</dt><dd>${timeTag(message.last_attempt_at, tz)}</dd>
        <dt>Delivered</dt><dd>${timeTag(message.delivered_at, tz)}</dd>
        <dt>Next retry</dt><dd>${nextAt !== null ? html`${timeTag(nextAt, tz)} (${relative(nextAt, now)})` : state === 'sending' ? 'being sent right now' : state === 'held' ? 'when the subscription is enabled' : html`<span class="muted">none</span>`}</dd>
      </dl>
      <form method="post" action="${path('subscriptions', sub.uuid, 'messages', message.message_id, 'resend')}" class="actions">
        ${csrfField(session.csrfToken)}
        <button type="submit">Resend now</button>
        <span class="hint">Sends the same bytes again now, with the same <code>webhook-id</code>; a failure starts a fresh retry schedule.</span>
      </form>
      ${why}

      <h2 id="attempts">Attempts</h2>
      ${timeline(attempts, message, state, tz, now)}

      <h2 id="headers">Headers sent</h2>
      ${headers
        ? html`<p class="hint">As sent on attempt ${last!.attempt_number}. <code>webhook-timestamp</code>, <code>webhook-signature</code> and <code>webhook-attempt</code> change with each attempt; <code>webhook-id</code> never does.</p>
          <div class="scroll"><table><thead><tr><th scope="col">Header</th><th scope="col">Value</th></tr></thead>
          <tbody>${Object.entries(headers).map(([k, v]) => html`<tr><th scope="row"><code>${k}</code></th><td><code>${v}</code></td></tr>`)}</tbody></table></div>`
        : html`<p>Not sent yet.</p>`}

      <h2 id="body">Body</h2>
      <pre>${prettyBody(message.body)}</pre>
      <details><summary>The exact bytes sent (${Buffer.byteLength(message.body, 'utf8')} bytes)</summary><pre>${message.body}</pre></details>`;
    return render(ctx, request, reply, { title: `Message ${message.message_id}`, section: 'subscriptions', body });
  });

  app.post('/subscriptions/:uuid/messages/:id/resend', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const { uuid, id } = request.params as MessageParams;
    const sub = await findSubscription(ctx.db, session.auth.storeId, uuid);
    const message = await findMessage(ctx.db, session.auth.storeId, sub.uuid, id);
    const sent = await ctx.webhooks.deliverNow(message.id, session.auth.storeId);
    request.log.info({ message: message.message_id, outcome: sent.status === 'sent' ? sent.result.outcome.kind : 'busy' }, 'message resent (dashboard)');
    return redirectWith(ctx, request, reply, messagePath(sub.uuid, message.message_id), sendFlash('Resend', sent, session.auth.timezone));
  });
}
