// Receiver SDK: Standard Webhooks v1 vector plus every verifier edge case ported from the
// reference libraries (webhook-anchors.md §12.1).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  computeSignature,
  decodePublicKey,
  decodeSecret,
  ed25519SignatureMatches,
  signatureMatches,
  verify,
  WebhookVerificationError,
  type HeadersInput,
  type WebhookVerificationErrorCode,
} from '../../src/sdk/verify.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const MSG_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const EXPECTED = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const AT_TS = (): number => TS * 1000;

function headers(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    'webhook-id': MSG_ID,
    'webhook-timestamp': String(TS),
    'webhook-signature': EXPECTED,
    ...overrides,
  };
}

function assertCode(fn: () => unknown, code: WebhookVerificationErrorCode, message?: RegExp): WebhookVerificationError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof WebhookVerificationError, `expected WebhookVerificationError(${code}), got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

/** Sign `body` now-ish with the default test key, for cases that need a fresh signature. */
function signed(body: string, secret = SECRET, id = MSG_ID, ts = TS): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': computeSignature(decodeSecret(secret), id, ts, body),
  };
}

describe('published Standard Webhooks v1 vector', () => {
  it('computeSignature reproduces it from the base64-decoded key', () => {
    const key = Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64');
    assert.equal(computeSignature(key, MSG_ID, TS, BODY), EXPECTED);
    assert.equal(computeSignature(key, MSG_ID, String(TS), Buffer.from(BODY)), EXPECTED);
  });

  it('verify accepts it and returns the parsed body', () => {
    assert.deepEqual(verify(BODY, headers(), SECRET, { now: AT_TS }), { test: 2432232314 });
  });

  it('accepts the body as Buffer and Uint8Array', () => {
    assert.deepEqual(verify(Buffer.from(BODY), headers(), SECRET, { now: AT_TS }), { test: 2432232314 });
    const u8 = new TextEncoder().encode(BODY);
    assert.deepEqual(verify(u8, headers(), SECRET, { now: AT_TS }), { test: 2432232314 });
    // A view into a larger buffer must hash only its own bytes.
    const big = Buffer.from(`xx${BODY}yy`);
    assert.deepEqual(verify(big.subarray(2, 2 + BODY.length), headers(), SECRET, { now: AT_TS }), { test: 2432232314 });
  });

  it('the body is signed byte-exact: re-serialised JSON fails', () => {
    assertCode(() => verify(JSON.stringify(JSON.parse(BODY)), headers(), SECRET, { now: AT_TS }), 'no_matching_signature');
  });
});

describe('secrets', () => {
  it('works with and without the whsec_ prefix', () => {
    assert.deepEqual(verify(BODY, headers(), 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', { now: AT_TS }), { test: 2432232314 });
  });

  it('accepts unpadded base64 (one and two missing "=")', () => {
    for (const [unpadded, padded] of [
      ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS='],
      ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr=='],
    ] as const) {
      const key = Buffer.from(padded, 'base64');
      assert.deepEqual(Buffer.from(decodeSecret(`whsec_${unpadded}`)), key);
      assert.deepEqual(Buffer.from(decodeSecret(unpadded)), key);
      const h = { ...headers(), 'webhook-signature': computeSignature(key, MSG_ID, TS, BODY) };
      assert.deepEqual(verify(BODY, h, `whsec_${unpadded}`, { now: AT_TS }), { test: 2432232314 });
      assert.deepEqual(verify(BODY, h, `whsec_${padded}`, { now: AT_TS }), { test: 2432232314 });
    }
  });

  it('rejects empty, bare whsec_, whitespace, non-base64 and impossible-length secrets', () => {
    for (const bad of ['', '   ', 'whsec_', 'whsec_===', 'not a secret!', 'whsec_abc$def', 'whsec_abcde', '12345678-1234-1234-1234-12345678901']) {
      assertCode(() => verify(BODY, headers(), bad, { now: AT_TS }), 'invalid_secret');
    }
  });

  it('rejects undefined and null at runtime (untyped callers)', () => {
    assertCode(() => decodeSecret(undefined as unknown as string), 'invalid_secret');
    assertCode(() => decodeSecret(null as unknown as string), 'invalid_secret');
  });

  it('a subscription uuid is a key of its own lowercase UTF-8 bytes, in any case', () => {
    const uuid = randomUUID();
    assert.deepEqual(Buffer.from(decodeSecret(uuid)), Buffer.from(uuid, 'utf8'));
    assert.deepEqual(Buffer.from(decodeSecret(uuid.toUpperCase())), Buffer.from(uuid, 'utf8'));
    const key = Buffer.from(uuid, 'utf8');
    const h = { ...headers(), 'webhook-signature': computeSignature(key, MSG_ID, TS, BODY) };
    assert.deepEqual(verify(BODY, h, uuid, { now: AT_TS }), { test: 2432232314 });
    assert.deepEqual(verify(BODY, h, uuid.toUpperCase(), { now: AT_TS }), { test: 2432232314 });
    // Another uuid must not verify it.
    assertCode(() => verify(BODY, h, randomUUID(), { now: AT_TS }), 'no_matching_signature');
    // The uuid and its whsec_ form are the same key.
    assert.deepEqual(verify(BODY, h, `whsec_${key.toString('base64')}`, { now: AT_TS }), { test: 2432232314 });
  });

  it('the wrong whsec_ secret fails', () => {
    assertCode(() => verify(BODY, headers(), 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx', { now: AT_TS }), 'no_matching_signature');
  });
});

describe('headers', () => {
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    it(`missing ${name} → missing_header naming it`, () => {
      const err = assertCode(() => verify(BODY, headers({ [name]: undefined }), SECRET, { now: AT_TS }), 'missing_header', new RegExp(name));
      assert.equal(err.header, name);
      // An empty value counts as missing too.
      const err2 = assertCode(() => verify(BODY, headers({ [name]: '' }), SECRET, { now: AT_TS }), 'missing_header');
      assert.equal(err2.header, name);
    });
  }

  it('header names are case-insensitive', () => {
    const h = { 'Webhook-Id': MSG_ID, 'WEBHOOK-TIMESTAMP': String(TS), 'webhook-SIGNATURE': EXPECTED };
    assert.deepEqual(verify(BODY, h, SECRET, { now: AT_TS }), { test: 2432232314 });
  });

  it('accepts a Fetch Headers object', () => {
    const h = new Headers({ 'Webhook-Id': MSG_ID, 'Webhook-Timestamp': String(TS), 'Webhook-Signature': EXPECTED });
    assert.deepEqual(verify(BODY, h, SECRET, { now: AT_TS }), { test: 2432232314 });
    const missing = new Headers({ 'Webhook-Id': MSG_ID, 'Webhook-Timestamp': String(TS) });
    assertCode(() => verify(BODY, missing, SECRET, { now: AT_TS }), 'missing_header', /webhook-signature/);
  });

  it('accepts a minimal get()-only object', () => {
    const map = new Map(Object.entries(headers()));
    const h: HeadersInput = { get: (n: string) => map.get(n) ?? null };
    assert.deepEqual(verify(BODY, h, SECRET, { now: AT_TS }), { test: 2432232314 });
  });

  it('string[] values (repeated headers) are joined, so a valid signature among them passes', () => {
    const h = { ...headers(), 'webhook-signature': ['v1,dawfeoifkpqwoekfpqoekf', EXPECTED] };
    assert.deepEqual(verify(BODY, h, SECRET, { now: AT_TS }), { test: 2432232314 });
  });
});

describe('timestamps', () => {
  for (const bad of ['hello', '161426533.0', '-1614265330', '1614265330abc', '1.6e9', '0x6037a0f2']) {
    it(`rejects non-integer timestamp ${JSON.stringify(bad)}`, () => {
      assertCode(() => verify(BODY, headers({ 'webhook-timestamp': bad }), SECRET, { now: AT_TS }), 'invalid_timestamp');
    });
  }

  it('too old by tolerance + 1 s fails, saying by how much', () => {
    assertCode(() => verify(BODY, headers(), SECRET, { now: () => (TS + 301) * 1000 }), 'timestamp_too_old', /\b1 s older than the 300 s/);
  });

  it('too new by tolerance + 1 s fails, saying by how much', () => {
    assertCode(() => verify(BODY, headers(), SECRET, { now: () => (TS - 301) * 1000 }), 'timestamp_too_new', /\b1 s further in the future than the 300 s/);
  });

  it('exactly at the tolerance on either side passes', () => {
    assert.deepEqual(verify(BODY, headers(), SECRET, { now: () => (TS + 300) * 1000 + 999 }), { test: 2432232314 });
    assert.deepEqual(verify(BODY, headers(), SECRET, { now: () => (TS - 300) * 1000 }), { test: 2432232314 });
  });

  it('honours a custom toleranceSec', () => {
    assertCode(() => verify(BODY, headers(), SECRET, { now: () => (TS + 11) * 1000, toleranceSec: 10 }), 'timestamp_too_old', /\b1 s older than the 10 s/);
    assert.deepEqual(verify(BODY, headers(), SECRET, { now: () => (TS + 1000) * 1000, toleranceSec: 1000 }), { test: 2432232314 });
  });

  it('defaults to the real clock', () => {
    const now = Math.floor(Date.now() / 1000);
    assert.deepEqual(verify('{"a":1}', signed('{"a":1}', SECRET, MSG_ID, now), SECRET), { a: 1 });
    // The published vector is from 2021: long outside the default tolerance today.
    assertCode(() => verify(BODY, headers(), SECRET), 'timestamp_too_old');
  });
});

describe('signatures', () => {
  const bad: Array<[string, string]> = [
    ['invalid', 'v1,dawfeoifkpqwoekfpqoekf'],
    ['truncated to 8 chars', EXPECTED.slice(0, 8)],
    ['just the prefix', 'v1,'],
    ['near miss (last char)', 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA='],
    ['near miss (tail)', 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLawdd'],
    ['malformed without version', 'invalid_signature'],
    ['malformed with version', 'v1,invalid_signature'],
    ['wrong version only', 'v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='],
    ['v1a only', 'v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='],
    ['bare base64 without version', 'g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='],
    ['valid bytes but unpadded', EXPECTED.replace(/=$/, '')],
    ['valid with trailing junk', `${EXPECTED}x`],
  ];
  for (const [label, sig] of bad) {
    it(`rejects ${label}`, () => {
      assertCode(() => verify(BODY, headers({ 'webhook-signature': sig }), SECRET, { now: AT_TS }), 'no_matching_signature');
    });
  }

  it('a multi-signature header passes when any v1 entry matches', () => {
    const other = 'Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    const multi = `v1,${other} v2,${other} ${EXPECTED} v1,${other}`;
    assert.deepEqual(verify(BODY, headers({ 'webhook-signature': multi }), SECRET, { now: AT_TS }), { test: 2432232314 });
    // The same header without the valid entry fails: the pass above is not from the others.
    const without = `v1,${other} v2,${other} v1,${other}`;
    assertCode(() => verify(BODY, headers({ 'webhook-signature': without }), SECRET, { now: AT_TS }), 'no_matching_signature');
  });

  it('a v2 entry carrying the valid digest is ignored; the v1 one counts', () => {
    const v2 = EXPECTED.replace(/^v1,/, 'v2,');
    assertCode(() => verify(BODY, headers({ 'webhook-signature': `${v2} v1,AAAA` }), SECRET, { now: AT_TS }), 'no_matching_signature');
    assert.deepEqual(verify(BODY, headers({ 'webhook-signature': `${v2} ${EXPECTED}` }), SECRET, { now: AT_TS }), { test: 2432232314 });
  });

  it('id and timestamp are covered by the signature', () => {
    assertCode(() => verify(BODY, headers({ 'webhook-id': `${MSG_ID}x` }), SECRET, { now: AT_TS }), 'no_matching_signature');
    assertCode(() => verify(BODY, headers({ 'webhook-timestamp': String(TS + 1) }), SECRET, { now: AT_TS }), 'no_matching_signature');
  });

  it('signatureMatches is the same check without timestamps or parsing', () => {
    const key = decodeSecret(SECRET);
    assert.equal(signatureMatches(key, MSG_ID, TS, BODY, EXPECTED), true);
    assert.equal(signatureMatches(key, MSG_ID, TS, `${BODY} `, EXPECTED), false);
    assert.equal(signatureMatches(key, MSG_ID, TS, BODY, ''), false);
  });
});

describe('bodies', () => {
  it('an empty payload verifies and returns undefined', () => {
    const h = signed('');
    assert.equal(verify('', h, SECRET, { now: AT_TS }), undefined);
    assert.equal(verify(Buffer.alloc(0), h, SECRET, { now: AT_TS }), undefined);
  });

  it('a validly signed non-JSON body → invalid_body', () => {
    assertCode(() => verify('not json', signed('not json'), SECRET, { now: AT_TS }), 'invalid_body');
  });

  it('a tampered body is rejected before any parsing', () => {
    assertCode(() => verify('not json', headers(), SECRET, { now: AT_TS }), 'no_matching_signature');
  });

  it('UTF-8 bodies verify whether passed as string or bytes', () => {
    const body = '{"name":"Äänekoski ☕ 𝄞"}';
    const h = signed(body);
    assert.deepEqual(verify(body, h, SECRET, { now: AT_TS }), { name: 'Äänekoski ☕ 𝄞' });
    assert.deepEqual(verify(Buffer.from(body, 'utf8'), h, SECRET, { now: AT_TS }), { name: 'Äänekoski ☕ 𝄞' });
  });
});

describe('ed25519 (v1a) and several secrets', () => {
  // The Svix vector (webhook-anchors.md §12.2): the same id, timestamp and body as the v1 vector.
  const WHPK = 'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=';
  const V1A = 'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==';
  const at = { now: AT_TS };

  it('verifies the published v1a vector with the whpk_ public key', () => {
    assert.deepEqual(verify(BODY, headers({ 'webhook-signature': V1A }), WHPK, at), JSON.parse(BODY));
    assert.equal(ed25519SignatureMatches(decodePublicKey(WHPK), MSG_ID, TS, BODY, `v1,abc ${V1A}`), true);
  });

  it('a public key checks only v1a entries, a secret only v1 entries', () => {
    assertCode(() => verify(BODY, headers({ 'webhook-signature': EXPECTED }), WHPK, at), 'no_matching_signature', /No v1a signature/);
    assertCode(() => verify(BODY, headers({ 'webhook-signature': V1A }), SECRET, at), 'no_matching_signature', /No v1 signature/);
    // A v1a entry with the v1 value (and the reverse) is no match either.
    assertCode(() => verify(BODY, headers({ 'webhook-signature': `v1a,${EXPECTED.slice(3)}` }), WHPK, at), 'no_matching_signature');
  });

  it('a tampered body, id or timestamp does not verify; nor does a truncated or garbage v1a entry', () => {
    assertCode(() => verify(`${BODY} `, headers({ 'webhook-signature': V1A }), WHPK, at), 'no_matching_signature');
    assert.equal(ed25519SignatureMatches(decodePublicKey(WHPK), `${MSG_ID}x`, TS, BODY, V1A), false);
    assert.equal(ed25519SignatureMatches(decodePublicKey(WHPK), MSG_ID, TS + 1, BODY, V1A), false);
    for (const bad of [V1A.slice(0, 20), 'v1a,', 'v1a,!!notbase64!!', 'v1a']) {
      assert.equal(ed25519SignatureMatches(decodePublicKey(WHPK), MSG_ID, TS, BODY, bad), false, bad);
    }
  });

  it('a header with both kinds verifies with either; several secrets verify when any matches', () => {
    const both = headers({ 'webhook-signature': `${EXPECTED} ${V1A}` });
    assert.deepEqual(verify(BODY, both, SECRET, at), JSON.parse(BODY));
    assert.deepEqual(verify(BODY, both, WHPK, at), JSON.parse(BODY));
    const other = 'whsec_' + Buffer.alloc(24, 7).toString('base64');
    assert.deepEqual(verify(BODY, headers(), [other, SECRET], at), JSON.parse(BODY), 'old and new secret during a rotation');
    assert.deepEqual(verify(BODY, headers({ 'webhook-signature': V1A }), [other, WHPK], at), JSON.parse(BODY));
    assertCode(() => verify(BODY, headers(), [other], at), 'no_matching_signature');
  });

  it('bad public keys and empty secret lists are invalid_secret, naming what to pass', () => {
    assertCode(() => decodePublicKey('whpk_' + Buffer.alloc(31).toString('base64')), 'invalid_secret', /32-byte/);
    assertCode(() => decodePublicKey('whpk_'), 'invalid_secret');
    assertCode(() => decodePublicKey('whpk_@@@@'), 'invalid_secret');
    assertCode(() => verify(BODY, headers(), 'whsk_' + Buffer.alloc(64).toString('base64'), at), 'invalid_secret', /whpk_ public key/);
    assertCode(() => verify(BODY, headers(), [], at), 'invalid_secret', /No secret given/);
  });
});
