/**
 * How a subscription signs its messages (its facts on the subscription page) and rotating its
 * signing secret or ed25519 key: a confirmation page first, then a page that shows the new secret
 * once. The secret is never put in a flash message or a redirect: it lives in that one answer.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SubscriptionRow } from '../../db/schema.js';
import { DomainError } from '../../errors.js';
import { uuidFingerprint } from '../../log.js';
import { signingSecret } from '../../webhooks/signatures.js';
import type { SigningChoice } from '../../webhooks/contract.js';
import type { IssuedKeys, SigningView } from '../../webhooks/signing-keys.js';
import { findSubscription, overlapOf } from '../../webhooks/subscriptions.js';
import { findTopic } from '../../webhooks/topics.js';
import { field, render, sessionOf, type DashboardContext } from '../context.js';
import { html, path, type SafeHtml } from '../html.js';
import { csrfField } from '../layout.js';
import { timeTag } from '../time.js';

const HMAC_TEXT: Record<SigningView['hmac'], string> = {
  uuid: 'v1 (HMAC-SHA256), keyed by the subscription uuid, as MyCashflow does',
  secret: 'v1 (HMAC-SHA256), keyed by its own whsec_ secret',
  off: 'no v1 signature',
};

/** The new-subscription form's signing choices, each the API's `signing` it stands for (undefined: the uuid signs). */
const SIGNING_CHOICES = {
  uuid: { text: 'The subscription uuid (as MyCashflow): any Standard Webhooks library verifies it with whsec_ + base64(uuid).', signing: undefined },
  secret: { text: 'A whsec_ secret of its own, shown once on the next page; it can be rotated without a gap.', signing: { hmac: 'secret' } },
  ed25519: { text: 'ed25519 only (v1a): the receiver gets a whpk_ public key and holds no secret that could forge a message.', signing: { hmac: 'off', ed25519: true } },
  both: { text: 'Its own whsec_ secret and ed25519, side by side (v1 and v1a).', signing: { hmac: 'secret', ed25519: true } },
} as const satisfies Record<string, { text: string; signing: SigningChoice | undefined }>;

export type SigningChoiceName = keyof typeof SIGNING_CHOICES;

/** The signing choice of the new-subscription form. */
export function signingFieldset(checked: SigningChoiceName): SafeHtml {
  return html`<fieldset>
    <legend>Signature</legend>
    ${(Object.keys(SIGNING_CHOICES) as SigningChoiceName[]).map((c) => html`<label><input type="radio" name="signing" value="${c}"${c === checked ? html` checked` : ''}> <span>${SIGNING_CHOICES[c].text}</span></label>`)}
  </fieldset>`;
}

/** The signing choice a form sent (the uuid when absent); a 400 for anything else. */
export function signingChoiceField(body: unknown): SigningChoiceName {
  const value = field(body, 'signing');
  if (value === undefined || value === '') return 'uuid';
  if (!Object.hasOwn(SIGNING_CHOICES, value)) {
    const names = Object.keys(SIGNING_CHOICES).join(', ');
    throw new DomainError(400, `Signature must be one of ${names}.`, [{ field: 'signing', message: `"${value}" is not one of ${names}` }]);
  }
  return value as SigningChoiceName;
}

/** What the API's createSubscription takes for a form choice. */
export function signingChoiceOf(choice: SigningChoiceName): SigningChoice | undefined {
  const signing = SIGNING_CHOICES[choice].signing;
  return signing ? { ...signing } : undefined;
}

/** The keys made with a new subscription, shown this once (the answer must not be cached). */
export function issuedKeysBody(sub: SubscriptionRow, issued: IssuedKeys): SafeHtml {
  return html`<h1>Subscription created</h1>
    <p><code>${sub.topic}</code> messages now go to <code>${sub.url}</code>.</p>
    ${issued.secret ? html`<p>Its signing secret — copy it now: it is shown this once and never again.</p><p><code data-new-key="hmac">${issued.secret}</code></p>` : ''}
    ${issued.publicKey ? html`<p>Its ed25519 public key, to verify <code>v1a</code> signatures (also listed on the subscription page):</p><p><code data-new-key="ed25519">${issued.publicKey}</code></p>` : ''}
    <p><a href="${path('subscriptions', sub.uuid)}">Go to the subscription</a> — then send a test message to check the receiver.</p>`;
}

export function rotatePath(uuid: string): string {
  return path('subscriptions', uuid, 'secret', 'rotate');
}

/** The rows of the subscription page's facts that say how its messages are signed. */
export function signingFacts(sub: SubscriptionRow, signing: SigningView, tz: string): SafeHtml {
  // The legacy bridge's internal subscription signs as it always has: its key is not the user's to rotate.
  const rotatable = findTopic(sub.topic) !== undefined;
  return html`
    <dt>Signature</dt><dd data-signing-hmac="${signing.hmac}">${HMAC_TEXT[signing.hmac]}${signing.ed25519 ? html`; v1a (ed25519)` : ''}${rotatable ? html` — <a href="${rotatePath(sub.uuid)}">Rotate ${signing.hmac === 'off' ? 'ed25519 key' : 'secret'}…</a>` : ''}</dd>
    ${signing.hmac === 'uuid'
      ? html`<dt>Signing secret</dt><dd><details><summary>Show</summary><p><code>${signingSecret(sub.uuid)}</code></p><p class="hint">Give this to any Standard Webhooks library to verify the <code>webhook-signature</code> header. It is derived from the uuid, which is the signing key: keep both private. Rotating gives the subscription a secret of its own.</p></details></dd>`
      : ''}
    ${signing.keys.length
      ? html`<dt>Signing keys</dt><dd><ul class="plain">${signing.keys.map((k) => html`<li data-key-kind="${k.kind}">${k.kind === 'uuid' ? 'the uuid' : k.kind === 'hmac' ? 'own secret (shown once, when made)' : html`ed25519 public key <code>${k.public_key}</code>`}, since ${timeTag(Date.parse(k.created_at), tz)}${k.expires_at ? html`, <strong>signs until ${timeTag(Date.parse(k.expires_at), tz)}</strong>` : ''}</li>`)}</ul></dd>`
      : ''}`;
}

export function registerSigningPages(app: FastifyInstance, ctx: DashboardContext): void {
  const hidden = { schema: { hide: true } };

  async function loadRotatable(request: FastifyRequest): Promise<SubscriptionRow> {
    const { uuid } = request.params as { uuid: string };
    const sub = await findSubscription(ctx.db, sessionOf(request).auth.storeId, uuid);
    if (findTopic(sub.topic) === undefined) throw new DomainError(409, 'This subscription carries the automatic POST of the old XML Webhooks extension; it signs with its uuid and is not rotated here.');
    return sub;
  }

  app.get('/subscriptions/:uuid/secret/rotate', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const sub = await loadRotatable(request);
    const hours = overlapOf(ctx.webhooks.policy) / 3_600_000;
    const body = html`<h1>Rotate the signing secret?</h1>
      <p>Subscription to <code>${sub.topic}</code> at <code>${sub.url}</code>.</p>
      <div class="problem" role="alert"><p>A new key is made and shown once. For ${hours} hour${hours === 1 ? '' : 's'} every message is signed by the old key <em>and</em> the new one, so the receiver keeps verifying while you give it the new secret; after that, only the new key signs.${' '}If the secret leaked, choose "end the old key now" instead: the receiver then fails to verify until it has the new secret.</p></div>
      <form method="post" action="${rotatePath(sub.uuid)}">
        ${csrfField(session.csrfToken)}
        <fieldset><legend>Which key</legend>
          <label><input type="radio" name="kind" value="hmac" checked> the HMAC secret (<code>v1</code>, whsec_…)</label>
          <label><input type="radio" name="kind" value="ed25519"> the ed25519 key (<code>v1a</code>, whpk_…)</label>
        </fieldset>
        <label><input type="checkbox" name="now" value="1"> end the old key now (no overlap)</label>
        <p class="actions"><button type="submit" class="danger">Rotate</button> <a href="${path('subscriptions', sub.uuid)}">Cancel</a></p>
      </form>`;
    return render(ctx, request, reply, { title: 'Rotate signing secret', section: 'subscriptions', body });
  });

  app.post('/subscriptions/:uuid/secret/rotate', hidden, async (request, reply) => {
    const session = sessionOf(request);
    const tz = session.auth.timezone;
    const sub = await loadRotatable(request);
    const kind = field(request.body, 'kind');
    if (kind !== 'hmac' && kind !== 'ed25519') throw new DomainError(400, 'Choose which key to rotate: hmac or ed25519.');
    const rotated = await ctx.webhooks.rotateSigningKey(session.auth.storeId, sub.uuid, { kind, overlapHours: field(request.body, 'now') ? 0 : undefined }, ctx.now());
    request.log.info({ subscription: uuidFingerprint(sub.uuid), kind }, 'webhook signing key rotated (dashboard)');
    const shown = rotated.issued.secret ?? rotated.issued.publicKey ?? '';
    const body = html`<h1>New ${kind === 'hmac' ? 'signing secret' : 'ed25519 key'}</h1>
      <p>Subscription to <code>${sub.topic}</code> at <code>${sub.url}</code>.</p>
      <p>${kind === 'hmac' ? 'Copy the secret now: it is shown this once and never again.' : 'Give this public key to the receiver; it is also listed on the subscription page.'}</p>
      <p><code data-new-key>${shown}</code></p>
      <p>The old key signs beside it until ${timeTag(rotated.oldKeysExpireAt, tz)}.</p>
      <p><a href="${path('subscriptions', sub.uuid)}">Back to the subscription</a></p>`;
    // A secret must not stay in a browser or proxy cache.
    reply.header('cache-control', 'no-store');
    return render(ctx, request, reply, { title: 'New signing key', section: 'subscriptions', body });
  });
}
