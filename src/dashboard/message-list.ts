/**
 * A list of messages with its filter form, shared by a subscription's page and the store-wide
 * search (`/messages`): search by message id (the `webhook-id` receivers see) or order id, filter
 * by state, by the HTTP status of the last attempt, and by creation time. Every input is checked
 * here, on the server, and a wrong one is named in the answer; the browser's checks only help.
 */
import { MESSAGE_FILTERS, type HttpStatusFilter, type ListedMessage, type MessageFilter, type MessageSearch } from '../delivery/queue-views.js';
import { nextAttemptShown, shownState } from '../delivery/message-states.js';
import type { AttemptRow } from '../db/schema.js';
import { param } from './context.js';
import { html, type SafeHtml } from './html.js';
import { statusBadge } from './layout.js';
import { MESSAGE_FILTER_LABELS } from './queries.js';
import { isMinuteInput, LOCAL_INPUT_PATTERN, parseLocalInput, relative, timeTag } from './time.js';

/** The raw values of the filter form, kept to fill it in again and to build page links. */
export type RawFilter = Partial<Record<'q' | 'status' | 'http' | 'from' | 'to', string>>;

export interface ReadFilter {
  search: MessageSearch;
  raw: RawFilter;
  errors: string[];
}

const MESSAGE_ID = /^msg_[A-Za-z0-9_-]{1,64}$/;
const ORDER_ID = /^[1-9]\d{0,15}$/;
const HTTP_CODE = /^[1-5]\d\d$/;
const HTTP_CLASS = /^([1-5])xx$/i;
/** Longer than any id searched for: a longer value is refused, not cut. */
const MAX_INPUT = 80;

function readHttpStatus(raw: string): HttpStatusFilter | string {
  if (raw === 'none') return 'none';
  if (HTTP_CODE.test(raw)) return { min: Number(raw), max: Number(raw) };
  const m = HTTP_CLASS.exec(raw);
  if (m) return { min: Number(m[1]) * 100, max: Number(m[1]) * 100 + 99 };
  return `HTTP status "${raw}" is not one; give a code (500), a class (5xx) or "none" (no HTTP answer: timeouts, refused connections).`;
}

/** Reads the filter from a query string; `withSearch` adds the message/order id search box. */
export function readMessageFilter(query: unknown, timeZone: string, withSearch: boolean): ReadFilter {
  const errors: string[] = [];
  const raw: RawFilter = {};
  for (const name of ['q', 'status', 'http', 'from', 'to'] as const) {
    const v = param(query, name)?.trim();
    if (!v) continue;
    if (v.length > MAX_INPUT) errors.push(`"${name}" is too long (at most ${MAX_INPUT} characters).`);
    else raw[name] = v;
  }
  const search: MessageSearch = {};
  if (withSearch && raw.q) {
    if (MESSAGE_ID.test(raw.q)) search.messageId = raw.q;
    else if (ORDER_ID.test(raw.q)) search.orderId = Number(raw.q);
    else errors.push(`Search by a message id (msg_…, the webhook-id header a receiver sees) or an order id (a number); "${raw.q}" is neither.`);
  }
  if (raw.status) {
    if ((MESSAGE_FILTERS as readonly string[]).includes(raw.status)) search.state = raw.status as MessageFilter;
    else errors.push(`Unknown state "${raw.status}"; choose one from the list.`);
  }
  if (raw.http) {
    const http = readHttpStatus(raw.http.toLowerCase());
    if (typeof http === 'string') errors.push(http);
    else search.httpStatus = http;
  }
  if (raw.from) {
    const v = parseLocalInput(raw.from, timeZone);
    if (v === null) errors.push(`"Created from" is not a date and time like 2026-05-02 10:15: ${raw.from}`);
    else search.from = v;
  }
  if (raw.to) {
    const v = parseLocalInput(raw.to, timeZone);
    if (v === null) errors.push(`"Created to" is not a date and time like 2026-05-02 10:15: ${raw.to}`);
    // A minute typed in the form means "to the end of that minute".
    else search.to = isMinuteInput(raw.to) ? v + 59_999 : v;
  }
  return { search, raw, errors };
}

/** A text input for a time in the one format the dashboard shows (no browser-locale picker). */
export function timeInput(id: string, name: string, value: string, required = false): SafeHtml {
  return html`<input id="${id}" name="${name}" type="text" inputmode="numeric" size="16" maxlength="19" pattern="${LOCAL_INPUT_PATTERN}" placeholder="YYYY-MM-DD HH:MM" title="Year-month-day hours:minutes, e.g. 2026-05-02 10:15, in the store's time zone" value="${value}"${required ? html` required` : ''}>`;
}

export function messageFilterForm(action: string, raw: RawFilter, withSearch: boolean): SafeHtml {
  const filtered = Object.values(raw).some(Boolean);
  return html`<form method="get" action="${action}" class="filters" aria-label="Filter messages">
    ${withSearch ? html`<div><label for="f-q">Message id, webhook-id or order id</label><input id="f-q" name="q" type="search" size="28" maxlength="${MAX_INPUT}" placeholder="msg_… or 1234" value="${raw.q ?? ''}"></div>` : ''}
    <div><label for="f-status">State</label>
      <select id="f-status" name="status"><option value="">Any</option>${Object.entries(MESSAGE_FILTER_LABELS).map(([value, label]) => html`<option value="${value}"${raw.status === value ? html` selected` : ''}>${label}</option>`)}</select></div>
    <div><label for="f-http">HTTP status</label><input id="f-http" name="http" type="text" size="6" maxlength="4" pattern="[1-5](\\d\\d|xx|XX)|none" placeholder="5xx, 410" title="A code (500), a class (5xx), or none (no HTTP answer)" value="${raw.http ?? ''}"></div>
    <div><label for="f-from">Created from</label>${timeInput('f-from', 'from', raw.from ?? '')}</div>
    <div><label for="f-to">Created to</label>${timeInput('f-to', 'to', raw.to ?? '')}</div>
    <div><button type="submit">${withSearch ? 'Search' : 'Filter'}</button> ${filtered ? html`<a href="${action}">Clear</a>` : ''}</div>
  </form>`;
}

export interface MessageTableOptions {
  tz: string;
  now: number;
  /** the page of each message. */
  link: (m: ListedMessage) => string;
  /** the store-wide list names each message's subscription. */
  subscriptionLabel?: (m: ListedMessage) => SafeHtml;
}

/** One row per message: what it is, its state, its last attempt and the next one. */
export function messageTable(rows: readonly ListedMessage[], attempts: ReadonlyMap<number, AttemptRow>, o: MessageTableOptions): SafeHtml {
  return html`<div class="scroll"><table class="stack">
    <thead><tr><th scope="col">Created</th><th scope="col">Message</th>${o.subscriptionLabel ? html`<th scope="col">Subscription</th>` : ''}<th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">Last attempt</th><th scope="col">Next attempt</th></tr></thead>
    <tbody>${rows.map((m) => {
      const state = shownState(m, o.now);
      const next = nextAttemptShown(m, o.now);
      const a = attempts.get(m.id);
      return html`<tr>
        <td data-label="Created">${timeTag(m.created_at, o.tz)}</td>
        <td data-label="Message"><a href="${o.link(m)}">${m.topic}${m.order_id !== null ? ` · order ${m.order_id}` : ''}</a><br><code class="muted">${m.message_id}</code></td>
        ${o.subscriptionLabel ? html`<td data-label="Subscription">${o.subscriptionLabel(m)}</td>` : ''}
        <td data-label="State">${statusBadge(state)}</td>
        <td data-label="Attempts" class="num">${m.attempt_count}</td>
        <td data-label="Last attempt">${a ? html`${timeTag(a.started_at, o.tz)}<br><span class="muted">${a.status_code !== null ? `HTTP ${a.status_code}` : (a.error_class ?? '').replace(/_/g, ' ')}</span>` : html`<span class="muted">—</span>`}</td>
        <td data-label="Next attempt">${next !== null
          ? html`${timeTag(next, o.tz)}<br><span class="muted">${relative(next, o.now)}</span>`
          : state === 'sending'
            ? html`<span class="muted">being sent now</span>`
            : state === 'held'
              ? html`<span class="muted">when enabled</span>`
              : html`<span class="muted">—</span>`}</td>
      </tr>`;
    })}</tbody></table></div>`;
}
