/**
 * The one way the dashboard writes HTML: the `html` tagged template escapes every interpolated
 * value unless it is already `SafeHtml` (the result of another `html` template). Nothing else
 * produces markup, so a value from the database can never become markup by accident.
 *
 *   html`<td>${order.comment}</td>`          // escaped
 *   html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`   // arrays are joined
 *
 * Every attribute in the templates is double-quoted, and `"` and `'` are escaped, so a value is
 * safe inside an attribute too. URLs in `href`/`action` come only from `path()`, which builds
 * same-origin paths from encoded segments: a stored URL is shown as text, never linked.
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false || value === true) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: the literal parts are markup, every `${value}` is escaped. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Markup written in this code base (a constant), never data. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** Joins fragments with a separator (itself escaped unless SafeHtml). */
export function join(items: readonly HtmlValue[], separator: HtmlValue = ''): SafeHtml {
  return new SafeHtml(items.map(render).join(render(separator)));
}

/**
 * A same-origin path from segments, each percent-encoded, plus an optional query:
 * path('subscriptions', uuid, 'messages', id) → `/subscriptions/<uuid>/messages/<id>`.
 */
export function path(...parts: (string | number | Record<string, string | number | undefined>)[]): string {
  let query = '';
  const segments: string[] = [];
  for (const part of parts) {
    if (typeof part === 'object') {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(part)) if (v !== undefined && v !== '') params.set(k, String(v));
      const text = params.toString();
      query = text ? `?${text}` : '';
    } else {
      segments.push(encodeURIComponent(String(part)));
    }
  }
  return `/${segments.join('/')}${query}`;
}
