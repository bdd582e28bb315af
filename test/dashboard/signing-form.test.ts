// The new-subscription form's Signature choice (issue #17 §2): the uuid by default, as MyCashflow;
// an own whsec_ secret and/or ed25519 shown once on the answer that made them, never again.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { verify } from '../../src/sdk/verify.js';
import { forEachDialect } from '../helpers/database.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { type Browser, startDashboard, textOf, type DashboardTest } from '../helpers/dashboard-app.js';

forEachDialect('dashboard: signing choice of a new subscription', (dialect) => {
  let t: DashboardTest;
  let b: Browser;
  let receiver: Receiver;

  beforeEach(async () => {
    t = await startDashboard(dialect);
    receiver = await startReceiver();
    b = await t.signedIn();
  });
  afterEach(async () => {
    await receiver.close();
    await t.close();
  });

  it('offers the uuid by default, and keeps MyCashflow signing when it is chosen', async () => {
    const step2 = await b.get('/subscriptions/new?topic=order.created');
    assert.match(step2.body, /<legend>Signature<\/legend>/);
    assert.match(step2.body, /name="signing" value="uuid" checked/);
    for (const choice of ['secret', 'ed25519', 'both']) assert.match(step2.body, new RegExp(`name="signing" value="${choice}"`));
    const res = await b.post('/subscriptions', { topic: 'order.created', url: receiver.url, signing: 'uuid' });
    assert.equal(res.statusCode, 303, res.body.slice(0, 500));
    const uuid = /^\/subscriptions\/([0-9a-f-]{36})$/.exec(String(res.headers.location))![1]!;
    const signing = (await t.api('GET', `/webhooks/${uuid}`)).body.data.signing;
    assert.equal(signing.hmac, 'uuid');
    assert.deepEqual(signing.keys, []);
  });

  it('refuses an unknown choice with the reason, keeping what was typed', async () => {
    const bad = await b.post('/subscriptions', { topic: 'order.created', url: receiver.url, signing: 'rot13' });
    assert.equal(bad.statusCode, 400);
    assert.match(textOf(bad.body), /signing: "rot13" is not one of uuid, secret, ed25519, both/);
    assert.ok(bad.body.includes(`value="${receiver.url}"`), 'the URL is kept');
    assert.equal((await t.api('GET', '/webhooks')).body.data.length, 0, 'nothing was created');
  });

  it('shows an own secret and ed25519 key once, uncached, and messages verify with them', async () => {
    const made = await b.post('/subscriptions', { topic: 'order.created', url: receiver.url, signing: 'both' });
    assert.equal(made.statusCode, 200, made.body.slice(0, 500));
    assert.equal(made.headers['cache-control'], 'no-store');
    const secret = /<code data-new-key="hmac">(whsec_[^<]+)<\/code>/.exec(made.body)?.[1];
    const publicKey = /<code data-new-key="ed25519">(whpk_[^<]+)<\/code>/.exec(made.body)?.[1];
    assert.ok(secret && publicKey, 'the secret and the public key are on the page');
    const uuid = /href="\/subscriptions\/([0-9a-f-]{36})"/.exec(made.body)![1]!;

    const api = (await t.api('GET', `/webhooks/${uuid}`)).body.data.signing as { hmac: string; ed25519: boolean; keys: { kind: string; public_key: string | null }[] };
    assert.equal(api.hmac, 'secret');
    assert.equal(api.ed25519, true);
    assert.equal(api.keys.find((k) => k.kind === 'ed25519')?.public_key, publicKey);
    assert.ok(!(await b.get(`/subscriptions/${uuid}`)).body.includes(secret), 'the secret is never shown again');

    await b.follow(await b.post(`/subscriptions/${uuid}/test`));
    const request = receiver.requests.at(-1)!;
    const headers = { 'webhook-id': String(request.headers['webhook-id']), 'webhook-timestamp': String(request.headers['webhook-timestamp']), 'webhook-signature': String(request.headers['webhook-signature']) };
    new Webhook(secret).verify(request.body, headers);
    assert.throws(() => new Webhook(Buffer.from(uuid).toString('base64')).verify(request.body, headers), 'the uuid no longer signs');
    assert.match(headers['webhook-signature'], /(^| )v1a,/, 'an ed25519 signature is sent too');
    assert.equal((verify(request.body, headers, publicKey) as { topic: string }).topic, 'webhook.test', 'storehook/verify checks it with the public key alone');
  });
});
