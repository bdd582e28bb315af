// Sender-side signing: published vector, header shape, and interoperability with the official
// `standardwebhooks` verifier (the receiver's view), plus round-trip properties with our SDK.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, randomUUID, verify as cryptoVerify } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import {
  deliveryHeaders,
  newMessageId,
  sign,
  signatureHeader,
  signingKeyFromUuid,
  uuidSigningKeys,
  whsecFromUuid,
} from '../../src/delivery/signer.js';
import { ed25519PrivateKey, newEd25519Pair, whsec } from '../../src/webhooks/signing-keys.js';
import { signatureMatches, verify, WebhookVerificationError } from '../../src/sdk/verify.js';

const VECTOR_KEY = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64');
const MSG_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const EXPECTED = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

const nowSec = (): number => Math.floor(Date.now() / 1000);

describe('sign', () => {
  it('reproduces the published Standard Webhooks vector', () => {
    assert.equal(sign(VECTOR_KEY, MSG_ID, TS, BODY), EXPECTED);
    assert.equal(sign(VECTOR_KEY, MSG_ID, TS, Buffer.from(BODY)), EXPECTED);
  });

  it('depends on every input', () => {
    assert.notEqual(sign(VECTOR_KEY, `${MSG_ID}x`, TS, BODY), EXPECTED);
    assert.notEqual(sign(VECTOR_KEY, MSG_ID, TS + 1, BODY), EXPECTED);
    assert.notEqual(sign(VECTOR_KEY, MSG_ID, TS, `${BODY} `), EXPECTED);
    const otherKey = Buffer.from(VECTOR_KEY);
    otherKey[0] = otherKey[0]! ^ 1;
    assert.notEqual(sign(otherKey, MSG_ID, TS, BODY), EXPECTED);
  });

  it("rejects ids with '.', empty ids, float/negative timestamps and empty keys", () => {
    assert.throws(() => sign(VECTOR_KEY, 'msg.1', TS, BODY), TypeError);
    assert.throws(() => sign(VECTOR_KEY, '', TS, BODY), TypeError);
    assert.throws(() => sign(VECTOR_KEY, MSG_ID, 161426533.5, BODY), TypeError);
    assert.throws(() => sign(VECTOR_KEY, MSG_ID, -1, BODY), TypeError);
    assert.throws(() => sign(VECTOR_KEY, MSG_ID, Number.NaN, BODY), TypeError);
    assert.throws(() => sign(Buffer.alloc(0), MSG_ID, TS, BODY), TypeError);
  });
});

describe('keys from the subscription uuid', () => {
  it('signingKeyFromUuid is the UTF-8 bytes of the lowercase uuid', () => {
    const uuid = '9F1C2B3A-4D5E-4F60-8A7B-1C2D3E4F5A6B';
    assert.deepEqual(signingKeyFromUuid(uuid), Buffer.from(uuid.toLowerCase(), 'utf8'));
    assert.equal(signingKeyFromUuid(uuid).length, 36);
  });

  it('refuses anything that is not a uuid', () => {
    for (const bad of ['', '42', 'not-a-uuid', '9f1c2b3a4d5e4f608a7b1c2d3e4f5a6b', '9f1c2b3a-4d5e-4f60-8a7b-1c2d3e4f5a6bz']) {
      assert.throws(() => signingKeyFromUuid(bad), TypeError, bad);
    }
  });

  it('whsecFromUuid is whsec_ + base64(lowercase uuid)', () => {
    const uuid = '9f1c2b3a-4d5e-4f60-8a7b-1c2d3e4f5a6b';
    const whsec = whsecFromUuid(uuid);
    assert.equal(whsec, 'whsec_OWYxYzJiM2EtNGQ1ZS00ZjYwLThhN2ItMWMyZDNlNGY1YTZi');
    assert.equal(Buffer.from(whsec.slice(6), 'base64').toString('utf8'), uuid);
    assert.equal(whsecFromUuid(uuid.toUpperCase()), whsec);
  });
});

describe('newMessageId', () => {
  it('is msg_ + ≥26 url-safe chars, never containing "."', () => {
    for (let i = 0; i < 200; i++) assert.match(newMessageId(), /^msg_[A-Za-z0-9_-]{26,}$/);
  });

  it('does not repeat', () => {
    const ids = new Set(Array.from({ length: 5000 }, newMessageId));
    assert.equal(ids.size, 5000);
  });
});

describe('deliveryHeaders', () => {
  it('gives exactly the contract headers, with no secret among them', () => {
    const uuid = randomUUID();
    const signature = sign(signingKeyFromUuid(uuid), MSG_ID, TS, BODY);
    const h = deliveryHeaders({ messageId: MSG_ID, timestampSec: TS, signature, topic: 'order.created', attempt: 3, version: '0.1.0' });
    assert.deepEqual(h, {
      'content-type': 'application/json',
      'user-agent': 'storehook/0.1.0',
      'webhook-id': MSG_ID,
      'webhook-timestamp': '1614265330',
      'webhook-signature': signature,
      'webhook-topic': 'order.created',
      'webhook-attempt': '3',
    });
    const all = JSON.stringify(h).toLowerCase();
    assert.ok(!all.includes(uuid), 'subscription uuid must never be sent');
    assert.ok(!all.includes(whsecFromUuid(uuid).slice(6).toLowerCase()), 'nor its whsec_ form');
  });
});

/** One delivery as the engine would send it, signed now. */
function deliver(uuid: string, body: string, ts = nowSec()): Record<string, string> {
  const messageId = newMessageId();
  const signature = sign(signingKeyFromUuid(uuid), messageId, ts, body);
  return deliveryHeaders({ messageId, timestampSec: ts, signature, topic: 'order.created', attempt: 1, version: '0.1.0' });
}

describe('oracle: the official standardwebhooks verifier accepts our deliveries', () => {
  it('a realistic order message verifies with whsec_ from the uuid', () => {
    const uuid = randomUUID();
    const body = JSON.stringify({ id: 'msg_x', topic: 'order.created', created_at: new Date().toISOString(), data: { id: 1, total: 12.5, name: 'Äänekoski ☕' } });
    const h = deliver(uuid, body);
    assert.deepEqual(new Webhook(whsecFromUuid(uuid)).verify(body, h), JSON.parse(body));
    // ...and with the bare base64 (no prefix), as the libraries allow.
    assert.deepEqual(new Webhook(whsecFromUuid(uuid).slice(6)).verify(body, h), JSON.parse(body));
  });

  it('the official verifier rejects a tampered body or another uuid (so the passes are real)', () => {
    const uuid = randomUUID();
    const body = '{"a":1}';
    const h = deliver(uuid, body);
    assert.throws(() => new Webhook(whsecFromUuid(uuid)).verify('{"a":2}', h), /No matching signature/);
    assert.throws(() => new Webhook(whsecFromUuid(randomUUID())).verify(body, h), /No matching signature/);
  });

  it('property: random uuids and JSON bodies verify in both the official library and our SDK', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.json(), (uuid, body) => {
        const h = deliver(uuid, body);
        const expected: unknown = JSON.parse(body);
        assert.deepEqual(new Webhook(whsecFromUuid(uuid)).verify(body, h), expected);
        assert.deepEqual(verify(body, h, uuid), expected);
        assert.deepEqual(verify(body, h, whsecFromUuid(uuid)), expected);
      }),
      { numRuns: 300 },
    );
  });
});

// Ids as the spec allows them: printable, no '.', no surrounding whitespace.
const arbId = fc.stringMatching(/^[!-~]{1,64}$/).filter((s) => !s.includes('.'));

describe('properties: sign → verify', () => {
  it('round-trips for arbitrary ids, timestamps and byte bodies', () => {
    fc.assert(
      fc.property(fc.uuid(), arbId, fc.integer({ min: 0, max: 2 ** 40 }), fc.uint8Array({ maxLength: 512 }), (uuid, id, ts, bytes) => {
        const body = Buffer.from(bytes);
        const sig = sign(signingKeyFromUuid(uuid), id, ts, body);
        assert.equal(signatureMatches(signingKeyFromUuid(uuid), id, ts, body, sig), true);
        assert.equal(signatureMatches(signingKeyFromUuid(uuid), id, String(ts), new Uint8Array(bytes), sig), true);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips through verify() for arbitrary JSON bodies and ids', () => {
    fc.assert(
      fc.property(fc.uuid(), arbId, fc.json(), (uuid, id, body) => {
        const ts = nowSec();
        const h = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(signingKeyFromUuid(uuid), id, ts, body) };
        assert.deepEqual(verify(body, h, uuid), JSON.parse(body));
      }),
      { numRuns: 300 },
    );
  });

  it('any single-byte change to the body fails verification', () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (uuid, bytes, pos, flip) => {
          const ts = nowSec();
          const id = newMessageId();
          const body = Buffer.from(bytes);
          const h = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(signingKeyFromUuid(uuid), id, ts, body) };
          const tampered = Buffer.from(body);
          const i = pos % tampered.length;
          tampered[i] = tampered[i]! ^ flip;
          assert.equal(signatureMatches(signingKeyFromUuid(uuid), id, ts, tampered, h['webhook-signature']), false);
          assert.throws(
            () => verify(tampered, h, uuid),
            (err: unknown) => err instanceof WebhookVerificationError && err.code === 'no_matching_signature',
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ed25519 (`v1a`) and several keys in one header (issue #17 §2, §3), against node:crypto directly.
describe('signatureHeader: several keys, v1 and v1a', () => {
  // The Svix server's vector (webhook-anchors.md §12.2): whsk_ = seed ‖ public key.
  const WHSK = Buffer.from('6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==', 'base64');
  const SEED = WHSK.subarray(0, 32).toString('base64');
  const PUBLIC = WHSK.subarray(32).toString('base64');
  const WHPK = 'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=';
  const V1A = 'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==';
  const publicKeyOf = (whpk: string) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(whpk.slice(5), 'base64').toString('base64url') }, format: 'jwk' });
  const v1aOf = (header: string) => header.split(' ').filter((e) => e.startsWith('v1a,')).map((e) => Buffer.from(e.slice(4), 'base64'));

  it('reproduces the published ed25519 vector from the stored seed and public key', () => {
    assert.equal(`whpk_${PUBLIC}`, WHPK);
    assert.equal(signatureHeader({ hmac: [], ed25519: [ed25519PrivateKey(SEED, PUBLIC)] }, MSG_ID, TS, BODY), V1A);
  });

  it('a uuid-only key set gives exactly the single v1 entry of sign(): MyCashflow signing unchanged', () => {
    const uuid = randomUUID();
    assert.equal(signatureHeader(uuidSigningKeys(uuid), MSG_ID, TS, BODY), sign(signingKeyFromUuid(uuid), MSG_ID, TS, BODY));
  });

  it('generated key pairs sign what node:crypto verifies; a tampered body or another key does not verify', () => {
    const a = newEd25519Pair();
    const b = newEd25519Pair();
    assert.equal(Buffer.from(a.seed, 'base64').length, 32);
    assert.equal(Buffer.from(a.publicKey, 'base64').length, 32);
    assert.notEqual(a.publicKey, b.publicKey);
    // The stored public key is the one node:crypto derives from the private key.
    assert.equal(createPublicKey(ed25519PrivateKey(a.seed, a.publicKey)).export({ format: 'jwk' }).x, Buffer.from(a.publicKey, 'base64').toString('base64url'));
    const header = signatureHeader({ hmac: [], ed25519: [ed25519PrivateKey(a.seed, a.publicKey)] }, MSG_ID, TS, BODY);
    const [sig] = v1aOf(header);
    const content = Buffer.from(`${MSG_ID}.${TS}.${BODY}`);
    assert.equal(sig!.length, 64);
    assert.equal(cryptoVerify(null, content, publicKeyOf(`whpk_${a.publicKey}`), sig!), true);
    assert.equal(cryptoVerify(null, Buffer.from(`${MSG_ID}.${TS}.${BODY} `), publicKeyOf(`whpk_${a.publicKey}`), sig!), false, 'tampered body');
    assert.equal(cryptoVerify(null, content, publicKeyOf(`whpk_${b.publicKey}`), sig!), false, 'wrong key');
  });

  it('a header with both kinds and a rotation: every key has its entry; each verifies on its own, in either tool', () => {
    const uuid = randomUUID();
    const oldSecret = Buffer.alloc(32, 1);
    const newSecret = Buffer.alloc(32, 2);
    const pair = newEd25519Pair();
    const ts = nowSec();
    const header = signatureHeader({ hmac: [newSecret, oldSecret], ed25519: [ed25519PrivateKey(pair.seed, pair.publicKey)] }, MSG_ID, ts, BODY);
    const parts = header.split(' ');
    assert.deepEqual(parts.map((p) => p.split(',')[0]), ['v1', 'v1', 'v1a'], 'newest HMAC key first, then ed25519');
    const h = { 'webhook-id': MSG_ID, 'webhook-timestamp': String(ts), 'webhook-signature': header };
    for (const secret of [oldSecret, newSecret]) {
      assert.deepEqual(new Webhook(whsec(secret)).verify(BODY, h), JSON.parse(BODY), 'standardwebhooks: either secret');
      assert.deepEqual(verify(BODY, h, whsec(secret)), JSON.parse(BODY));
    }
    assert.deepEqual(verify(BODY, h, `whpk_${pair.publicKey}`), JSON.parse(BODY), 'storehook/verify: the public key');
    assert.throws(() => new Webhook(whsecFromUuid(uuid)).verify(BODY, h), /No matching signature/, 'the uuid signs nothing here');
    assert.throws(() => verify(`${BODY} `, h, `whpk_${pair.publicKey}`), (err: unknown) => err instanceof WebhookVerificationError && err.code === 'no_matching_signature');
  });

  it('refuses to sign with no key at all: a message must never leave unsigned', () => {
    assert.throws(() => signatureHeader({ hmac: [], ed25519: [] }, MSG_ID, TS, BODY), TypeError);
  });
});
