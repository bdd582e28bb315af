/**
 * The banner above every signed-in page while the store has subscriptions in trouble: "N
 * subscriptions failing, M disabled automatically", each linked to its page (the first few), so
 * nobody learns of a dead endpoint days late. One small query per page (the store's rows of a
 * small table).
 */
import type { Kysely } from 'kysely';
import type { Schema } from '../db/schema.js';
import { healthProblems } from '../webhooks/health-view.js';
import { html, path, type SafeHtml } from './html.js';
import { timeTag } from './time.js';

const LISTED = 5;

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export async function healthBanner(db: Kysely<Schema>, storeId: number, tz: string): Promise<SafeHtml> {
  const problems = await healthProblems(db, storeId);
  if (problems.length === 0) return html``;
  const failing = problems.filter((p) => p.state === 'failing').length;
  const disabled = problems.length - failing;
  const parts = [failing ? plural(failing, 'subscription failing', 'subscriptions failing') : '', disabled ? `${plural(disabled, 'subscription', 'subscriptions')} disabled automatically` : ''].filter(Boolean);
  return html`<div class="problem" role="status" data-health-banner data-failing="${failing}" data-disabled="${disabled}">
    <strong><a href="/subscriptions">${parts.join(', ')}</a></strong>
    <ul>${problems.slice(0, LISTED).map(
      (p) => html`<li><a href="${path('subscriptions', p.uuid)}"><code>${p.topic}</code> → <code>${p.url}</code></a>: ${
        p.state === 'failing' ? html`failing since ${timeTag(p.since, tz)}` : html`disabled ${timeTag(p.since, tz)} (${p.disabledBy === 'gone' ? 'its receiver answered 410 Gone' : 'failing too long'}); its messages are held until it is enabled again`
      }</li>`,
    )}${problems.length > LISTED ? html`<li><a href="/subscriptions">and ${problems.length - LISTED} more</a></li>` : ''}</ul>
  </div>`;
}
