/**
 * A subscription's own signing keys (issue #17 §2, §3), through the Webhooks API and real
 * deliveries to a receiver on 127.0.0.1: the uuid keeps signing exactly as before unless asked;
 * a whsec_ secret, shown once; rotation with two `v1,` signatures during the overlap, checked by
 * the official `standardwebhooks` library with the old and the new secret, and only the new one
 * after it (the rotation is dated 25 h back, so the overlap is over without waiting); ed25519 `v1a`
 * checked with node:crypto; bad requests answered 400/409 naming the fix.
 */
import assert from 'node:assert/strict';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { after, before, beforeEach, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { inTransaction } from '../../src/db/transaction.js';
import { sign, signingKeyFromUuid, whsecFromUuid } from '../../src/delivery/signer.js';
import { signedContent, verify } from '../../src/sdk/verify.js';
import { rotateSigningKey } from '../../src/webhooks/signing-keys.js';
import { findSubscription } from '../../src/webhooks/subscriptions.js';
import { forEachDialect } from '../helpers/database.js';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/waiting.js';
import { api, createOrder, startHarness, type Harness } from '../helpers/webhooks-app.js';

const HOUR = 3_600_000;

function headersOf(req: ReceivedRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
}

/** True when the official library accepts the request with `secret`. */
function verifiesWith(req: ReceivedRequest, secret: string): boolean {
  try {
    new Webhook(secret).verify(req.body, headersOf(req));
    return true;
  } catch {
    return false;
  }
}

const entries = (req: ReceivedRequest, version: 'v1' | 'v1a') => String(req.headers['webhook-signature']).split(' ').filter((e) => e.startsWith(`${version},`));

/** ed25519 check straight with node:crypto: the raw public key of a whpk_, the signed content. */
function ed25519Verifies(req: ReceivedRequest, whpk: string): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(whpk.slice('whpk_'.length), 'base64').toString('base64url') }, format: 'jwk' });
  const content = signedContent(String(req.headers['webhook-id']), String(req.headers['webhook-timestamp']), req.body);
  return entries(req, 'v1a').some((e) => cryptoVerify(null, content, key, Buffer.from(e.slice(4), 'base64')));
}

forEachDialect('signing keys of a subscription', (dialect) => {
  let h: Harness;
  let receiver: Receiver;

  before(async () => {
    receiver = await startReceiver();
    h = await startHarness(dialect, { config: { allowTargets: '127.0.0.0/8' }, dispatcher: true });
  });
  after(async () => {
    await h?.close();
    await receiver?.close();
  });
  beforeEach(() => {
    receiver.requests.length = 0;
  });

  const create = async (topic: string, signing?: unknown) => {
    const res = await api(h, 'POST', '/api/v1/webhooks', { topic, url: `${receiver.url}/${topic}/${Math.random()}`, ...(signing ? { signing } : {}) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data;
  };
  /** Sends the test message and answers the request the receiver got. */
  const testMessage = async (uuid: string): Promise<ReceivedRequest> => {
    const before = receiver.requests.length;
    const res = await api(h, 'POST', `/api/v1/webhooks/${uuid}/test`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(receiver.requests.length, before + 1);
    return receiver.requests[before]!;
  };

  test('without signing keys of its own, the uuid signs exactly as before: one v1 entry, HMAC keyed by the uuid bytes', async () => {
    const sub = await create('order.created');
    assert.deepEqual(sub.signing, { hmac: 'uuid', ed25519: false, keys: [] });
    assert.equal(sub.secret, undefined);
    // Through the dispatcher too: an order's message.
    await createOrder(h);
    const req = await waitUntil('the order message', () => receiver.requests.find((r) => r.path.includes('/order.created/')));
    const id = String(req.headers['webhook-id']);
    const ts = Number(req.headers['webhook-timestamp']);
    assert.equal(req.headers['webhook-signature'], sign(signingKeyFromUuid(sub.uuid), id, ts, req.body));
    assert.ok(verifiesWith(req, whsecFromUuid(sub.uuid)));
    await api(h, 'DELETE', `/api/v1/webhooks/${sub.uuid}`);
  });

  test('an own secret at creation: whsec_ of 32 random bytes, shown once, signs instead of the uuid', async () => {
    const sub = await create('order.updated', { hmac: 'secret' });
    assert.match(sub.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(sub.secret.slice(6), 'base64').length, 32);
    assert.equal(sub.signing.hmac, 'secret');
    assert.deepEqual(sub.signing.keys.map((k: { kind: string }) => k.kind), ['hmac']);
    const shown = await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}`);
    assert.ok(!JSON.stringify(shown.body).includes(sub.secret.slice(6)), 'never shown again');
    const listed = await api(h, 'GET', '/api/v1/webhooks');
    assert.ok(!JSON.stringify(listed.body).includes(sub.secret.slice(6)));

    const req = await testMessage(sub.uuid);
    assert.equal(entries(req, 'v1').length, 1);
    assert.ok(verifiesWith(req, sub.secret), 'the new secret verifies');
    assert.ok(!verifiesWith(req, whsecFromUuid(sub.uuid)), 'the uuid does not: nothing was ever signed with it');
    assert.ok(verify(req.body, req.headers, sub.secret));
  });

  test('rotation: old and new secret both verify during the overlap (two v1 entries), only the new one after it', async () => {
    const sub = await create('order.cancelled', { hmac: 'secret' });
    const rotated = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/secret/rotate`);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const fresh = rotated.body.data.secret as string;
    assert.notEqual(fresh, sub.secret);
    assert.equal(rotated.body.data.kind, 'hmac');
    const expiresAt = Date.parse(rotated.body.data.old_keys_expire_at);
    assert.ok(Math.abs(expiresAt - (Date.now() + 24 * HOUR)) < 60_000, 'the default overlap is 24 h');
    assert.equal(rotated.body.data.signing.keys.length, 2);

    const during = await testMessage(sub.uuid);
    assert.equal(entries(during, 'v1').length, 2, String(during.headers['webhook-signature']));
    assert.ok(verifiesWith(during, sub.secret), 'old secret verifies during the overlap');
    assert.ok(verifiesWith(during, fresh), 'new secret verifies during the overlap');
    assert.ok(verify(during.body, during.headers, [sub.secret, fresh]));

    const ended = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/secret/rotate`, { overlap_hours: 0 });
    const newest = ended.body.data.secret as string;
    const afterIt = await testMessage(sub.uuid);
    assert.equal(entries(afterIt, 'v1').length, 1);
    assert.ok(verifiesWith(afterIt, newest), 'only the newest verifies after an overlap of 0');
    assert.ok(!verifiesWith(afterIt, fresh));
    assert.ok(!verifiesWith(afterIt, sub.secret));
  });

  test("the dispatcher's key cache forgets a subscription when its keys change: the next order's message is signed by the new keys", async () => {
    const sub = await create('order.created', { hmac: 'secret' });
    const orderMessages = () => receiver.requests.filter((r) => r.path.includes('/order.created/'));
    await createOrder(h);
    const first = await waitUntil('the first order message', () => orderMessages()[0]);
    assert.equal(entries(first, 'v1').length, 1);
    assert.ok(verifiesWith(first, sub.secret));
    const rotated = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/secret/rotate`);
    await createOrder(h);
    const second = await waitUntil('the second order message', () => orderMessages()[1]);
    assert.equal(entries(second, 'v1').length, 2, 'signed by the old and the new secret, well within the cache TTL');
    assert.ok(verifiesWith(second, rotated.body.data.secret));
    await api(h, 'DELETE', `/api/v1/webhooks/${sub.uuid}`);
  });

  test('the overlap ends by the clock: a rotation dated 23 h ago still signs with both, one 25 h ago with the new one only', async () => {
    for (const [hoursAgo, oldVerifies] of [[23, true], [25, false]] as const) {
      const sub = await create('order.completed', { hmac: 'secret' });
      const row = await findSubscription(h.database.kysely, h.storeId, sub.uuid);
      const rotated = await inTransaction(h.database, (tx) => rotateSigningKey(tx, row, { overlapMs: 24 * HOUR }, Date.now() - hoursAgo * HOUR));
      const req = await testMessage(sub.uuid);
      assert.ok(verifiesWith(req, rotated.issued.secret!), `${hoursAgo} h: the new secret verifies`);
      assert.equal(verifiesWith(req, sub.secret), oldVerifies, `${hoursAgo} h: the old secret ${oldVerifies ? 'still' : 'no longer'} verifies`);
      await api(h, 'DELETE', `/api/v1/webhooks/${sub.uuid}`);
    }
  });

  test('rotating a uuid-signed subscription gives it its first secret; the uuid signs beside it for the overlap', async () => {
    const sub = await create('order.payment_updated');
    const rotated = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/secret/rotate`, { overlap_hours: 2 });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.deepEqual(rotated.body.data.signing.keys.map((k: { kind: string }) => k.kind), ['hmac', 'uuid']);
    const req = await testMessage(sub.uuid);
    assert.ok(verifiesWith(req, whsecFromUuid(sub.uuid)), 'receivers still on the uuid keep working');
    assert.ok(verifiesWith(req, rotated.body.data.secret));
    // The same through PATCH, with the server's overlap.
    const other = await create('order.comment_created');
    const patched = await api(h, 'PATCH', `/api/v1/webhooks/${other.uuid}`, { signing: { hmac: 'secret' } });
    assert.equal(patched.status, 200);
    assert.match(patched.body.data.secret, /^whsec_/);
    assert.ok(verifiesWith(await testMessage(other.uuid), whsecFromUuid(other.uuid)));
  });

  test('ed25519: a whpk_ public key; v1a beside the uuid v1, or instead of any v1; rotation signs with both keys', async () => {
    const beside = await create('order.shipment_completed', { ed25519: true });
    assert.match(beside.public_key, /^whpk_[A-Za-z0-9+/]{43}=$/);
    assert.equal(beside.signing.hmac, 'uuid');
    assert.equal(beside.signing.keys[0].public_key, beside.public_key);
    const both = await testMessage(beside.uuid);
    assert.equal(entries(both, 'v1').length, 1);
    assert.equal(entries(both, 'v1a').length, 1);
    assert.ok(ed25519Verifies(both, beside.public_key), 'node:crypto verifies the v1a entry');
    assert.ok(verifiesWith(both, whsecFromUuid(beside.uuid)), 'v1 libraries ignore v1a and still verify');
    assert.ok(verify(both.body, both.headers, beside.public_key), 'storehook/verify checks v1a with the public key');

    const only = await create('order.shipment_completed', { hmac: 'off', ed25519: true });
    assert.equal(only.secret, undefined);
    const alone = await testMessage(only.uuid);
    assert.deepEqual(entries(alone, 'v1'), [], 'no v1 entry');
    assert.ok(ed25519Verifies(alone, only.public_key));
    assert.ok(!verifiesWith(alone, whsecFromUuid(only.uuid)), 'the uuid forges nothing now');
    assert.ok(!ed25519Verifies(alone, beside.public_key), 'another key does not verify');

    const rotated = await api(h, 'POST', `/api/v1/webhooks/${only.uuid}/secret/rotate`);
    assert.equal(rotated.body.data.kind, 'ed25519', 'with HMAC off, rotation means the ed25519 key');
    const during = await testMessage(only.uuid);
    assert.equal(entries(during, 'v1a').length, 2);
    assert.ok(ed25519Verifies(during, only.public_key) && ed25519Verifies(during, rotated.body.data.public_key));
  });

  test('turning ed25519 off and HMAC back on through PATCH', async () => {
    const sub = await create('order.created', { hmac: 'off', ed25519: true });
    const on = await api(h, 'PATCH', `/api/v1/webhooks/${sub.uuid}`, { signing: { hmac: 'secret', ed25519: false } });
    assert.equal(on.status, 200, JSON.stringify(on.body));
    assert.deepEqual([on.body.data.signing.hmac, on.body.data.signing.ed25519], ['secret', false]);
    const req = await testMessage(sub.uuid);
    assert.deepEqual(entries(req, 'v1a'), []);
    assert.ok(verifiesWith(req, on.body.data.secret));
  });

  test('at most 10 keys sign at once: rotating beyond that ends the oldest, and the header stays bounded', async () => {
    const sub = await create('order.cancelled', { hmac: 'secret' });
    const secrets = [sub.secret as string];
    for (let i = 0; i < 11; i++) secrets.push((await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/secret/rotate`)).body.data.secret);
    const shown = await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}`);
    assert.equal(shown.body.data.signing.keys.length, 10);
    const req = await testMessage(sub.uuid);
    assert.equal(entries(req, 'v1').length, 10);
    assert.ok(verifiesWith(req, secrets.at(-1)!), 'the newest signs');
    assert.ok(verifiesWith(req, secrets[2]!), 'the tenth newest still signs');
    assert.ok(!verifiesWith(req, secrets[1]!) && !verifiesWith(req, secrets[0]!), 'the two oldest were ended');
  });

  test('bad requests say what is wrong and how to fix it', async () => {
    const sub = await create('order.updated');
    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', '/api/v1/webhooks', { topic: 'order.updated', url: `${receiver.url}/x`, signing: { hmac: 'off' } }, 400, /keep hmac .* or turn ed25519 on/],
      ['POST', '/api/v1/webhooks', { topic: 'order.updated', url: `${receiver.url}/y`, signing: { hmac: 'sha1' } }, 400, /signing/],
      ['POST', '/api/v1/webhooks', { topic: 'order.updated', url: `${receiver.url}/z`, signing: { secret: 'whsec_abc' } }, 400, /signing/],
      ['POST', `/api/v1/webhooks/${sub.uuid}/secret/rotate`, { kind: 'ed25519' }, 409, /PATCH .*"ed25519": true/],
      ['POST', `/api/v1/webhooks/${sub.uuid}/secret/rotate`, { overlap_hours: 10_000 }, 400, /overlap_hours/],
      ['POST', `/api/v1/webhooks/${sub.uuid}/secret/rotate`, { kind: 'rsa' }, 400, /kind/],
    ];
    for (const [method, url, body, status, message] of cases) {
      const res = await api(h, method as 'POST', url, body);
      assert.equal(res.status, status, `${url} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, message);
    }
    await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/secret/rotate`);
    const back = await api(h, 'PATCH', `/api/v1/webhooks/${sub.uuid}`, { signing: { hmac: 'uuid' } });
    assert.equal(back.status, 400);
    assert.match(back.body.message, /cannot go back to its uuid; rotate/);
    // Another store's subscription is not there.
    const other = await h.addStore();
    const foreign = await api(h, 'POST', `/api/v1/webhooks/${sub.uuid}/secret/rotate`, undefined, other);
    assert.equal(foreign.status, 404);
  });
});
