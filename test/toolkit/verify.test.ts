// `storehook verify`: one test per failure cause it must name (missing header, timestamp outside
// the tolerance and by how much, re-serialised body, changed whitespace, wrong key, secret given
// with/without whsec_ …), the capture formats it reads, and the command's output and exit codes.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deliveryHeaders, sign, signatureHeader, signingKeyFromUuid, whsecFromUuid } from '../../src/delivery/signer.js';
import { ed25519PrivateKey, newEd25519Pair, whsec } from '../../src/webhooks/signing-keys.js';
import { diagnose, humanDuration, type DiagnoseInput } from '../../src/toolkit/verify/diagnose.js';
import { parseHeadersFile } from '../../src/toolkit/verify/headers-file.js';
import { decodeSecret } from '../../src/sdk/verify.js';
import { runCli } from '../helpers/toolkit-processes.js';

const UUID = '0b5c6b0e-8f0e-4d7c-9f1a-2b3c4d5e6f70';
const OTHER = '7d1e2f3a-4b5c-4d6e-8f70-9a1b2c3d4e5f';
const NOW = 1_780_000_000;
const BODY = JSON.stringify({ id: 'msg_2Qx7c1bJm9vT0kq4ZpW8sYd3LfA', topic: 'order.created', created_at: '2026-05-29T20:26:40.000+00:00', data: { id: 1234, status: 'OPEN', total: 55.8, customer_information: { first_name: 'Maija', last_name: 'Meikäläinen' } } });

function message(opts: { key?: Buffer | Uint8Array; id?: string; ts?: number; body?: string } = {}): { headers: Record<string, string>; body: Buffer } {
  const id = opts.id ?? 'msg_2Qx7c1bJm9vT0kq4ZpW8sYd3LfA';
  const ts = opts.ts ?? NOW - 3;
  const body = opts.body ?? BODY;
  const signature = sign(Buffer.from(opts.key ?? signingKeyFromUuid(UUID)), id, ts, body);
  return { headers: deliveryHeaders({ messageId: id, timestampSec: ts, signature, topic: 'order.created', attempt: 1, version: '0.1.0' }), body: Buffer.from(body) };
}

function check(m: { headers: Record<string, string>; body: Buffer | string }, secret = UUID, given: DiagnoseInput['given'] = 'uuid', nowSec = NOW) {
  return diagnose({ headers: m.headers, body: Buffer.from(m.body), secret, given, toleranceSec: 300, nowSec });
}

const causeCodes = (d: ReturnType<typeof check>) => d.causes.map((c) => c.code);

describe('verify diagnosis', () => {
  it('accepts a good message, with the uuid or either whsec_ form, and shows both forms', () => {
    const m = message();
    const d = check(m);
    assert.equal(d.ok, true, JSON.stringify(d, null, 2));
    assert.deepEqual(d.secretForms, { uuid: UUID, whsec: whsecFromUuid(UUID) });
    assert.equal(check(m, whsecFromUuid(UUID), 'secret').ok, true);
    const bare = whsecFromUuid(UUID).slice('whsec_'.length);
    const withoutPrefix = check(m, bare, 'secret');
    assert.equal(withoutPrefix.ok, true);
    assert.match(withoutPrefix.checks[0]!.message, /without the whsec_ prefix/);
    assert.equal(check(m, UUID.toUpperCase()).ok, true, 'storehook lowercases the uuid');
  });

  it('names the missing header, and hints at renamed ones', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const m = message();
      delete m.headers[name];
      const d = check(m);
      assert.equal(d.ok, false);
      assert.deepEqual(causeCodes(d), ['missing_header']);
      assert.match(d.causes[0]!.message, new RegExp(`Missing header ${name}\\.`));
    }
    const svix = message();
    const renamed = Object.fromEntries(Object.entries(svix.headers).map(([k, v]) => [k.replace(/^webhook-/, 'svix-'), v]));
    assert.match(check({ headers: renamed, body: svix.body }).causes[0]!.message, /svix-\* headers: storehook sends webhook-\*/);
    const underscored = Object.fromEntries(Object.entries(svix.headers).map(([k, v]) => [k.replace(/-/g, '_'), v]));
    assert.match(check({ headers: underscored, body: svix.body }).causes[0]!.message, /underscores/);
  });

  it('says how far the timestamp is outside the tolerance, and still checks the signature', () => {
    const old = message({ ts: NOW - 3600 });
    const d = check(old);
    assert.equal(d.ok, false);
    assert.deepEqual(causeCodes(d), ['timestamp_too_old']);
    assert.match(d.causes[0]!.message, /is 1 h old: 55 min beyond the 300 s tolerance/);
    assert.match(d.causes[0]!.message, new RegExp(`--now ${NOW - 3600}`));
    assert.equal(d.checks.find((c) => c.name === 'signature')!.ok, true, 'the signature itself is fine');
    const future = check(message({ ts: NOW + 1000 }));
    assert.deepEqual(causeCodes(future), ['timestamp_too_new']);
    assert.match(future.causes[0]!.message, /16 min 40 s in the future: 11 min 40 s beyond/);
    const ms = message();
    ms.headers['webhook-timestamp'] = String((NOW - 3) * 1000);
    assert.deepEqual(causeCodes(check(ms)), ['invalid_timestamp']);
    assert.match(check(ms).causes[0]!.message, /looks like milliseconds/);
    // As of the capture time it is valid.
    assert.equal(check(old, UUID, 'uuid', NOW - 3600).ok, true);
  });

  it('detects a re-serialised body (pretty-printed, re-spaced, \\u-escaped)', () => {
    const m = message();
    const parsed = JSON.parse(BODY);
    for (const [variant, how] of [
      [JSON.stringify(parsed, null, 2), /pretty-printed/],
      [JSON.stringify(parsed).replace(/":/g, '": ').replace(/,"/g, ', "'), /re-spaced/],
      [JSON.stringify(parsed).replace(/ä/g, '\\u00e4'), /\\u escapes/],
    ] as const) {
      const d = check({ headers: m.headers, body: variant });
      assert.deepEqual(causeCodes(d), ['body_reserialised'], variant);
      assert.match(d.causes[0]!.message, how);
      assert.match(d.causes[0]!.message, /raw bytes before any JSON parsing/);
    }
  });

  it('detects changed whitespace: a newline added or removed, CRLF line endings', () => {
    const m = message();
    const added = check({ headers: m.headers, body: `${BODY}\n` });
    assert.deepEqual(causeCodes(added), ['whitespace_changed']);
    assert.match(added.causes[0]!.message, /ends with "\\n" that was not signed/);
    const withNewline = message({ body: `${BODY}\n` });
    const removed = check({ headers: withNewline.headers, body: BODY });
    assert.deepEqual(causeCodes(removed), ['whitespace_changed']);
    assert.match(removed.causes[0]!.message, /ended with a newline that this one lacks/);
    const multi = '{\n  "a": 1\n}';
    const signedLf = message({ body: multi });
    const crlf = check({ headers: signedLf.headers, body: multi.replace(/\n/g, '\r\n') });
    assert.deepEqual(causeCodes(crlf), ['whitespace_changed']);
    assert.match(crlf.causes[0]!.message, /CRLF/);
  });

  it('says the key is wrong, and which secret a listen or a subscription message needs', () => {
    const m = message({ key: signingKeyFromUuid(OTHER) });
    const d = check(m);
    assert.deepEqual(causeCodes(d), ['wrong_key']);
    assert.match(d.causes[0]!.message, /Check that 0b5c6b0e-.* is the uuid of the subscription that sent this message/);

    const session = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const fromListen = message({ id: 'evt_42', key: decodeSecret(session), body: BODY.replace('msg_2Qx7c1bJm9vT0kq4ZpW8sYd3LfA', 'evt_42') });
    const viaUuid = check(fromListen);
    assert.deepEqual(causeCodes(viaUuid), ['wrong_key']);
    assert.match(viaUuid.causes[0]!.message, /forwarded by `storehook listen`.*session secret/);
    assert.equal(check(fromListen, session, 'secret').ok, true);

    const viaSession = check(message(), session, 'secret');
    assert.deepEqual(causeCodes(viaSession), ['wrong_key']);
    assert.match(viaSession.causes[0]!.message, /came from a subscription.*uuid/);
  });

  it('recognises a secret given in the wrong form: whsec_ + the bare uuid, or the secret text used as the key', () => {
    const m = message();
    const d = check(m, `whsec_${UUID}`, 'secret');
    assert.equal(d.ok, false);
    assert.equal(d.checks[0]!.ok, false, 'whsec_<uuid> is not a valid secret');
    assert.deepEqual(causeCodes(d), ['secret_prefix']);
    assert.match(d.causes[0]!.message, new RegExp(`Give the uuid alone \\(${UUID}\\), or its whsec_ form.*${whsecFromUuid(UUID).replace(/[+/=]/g, '.')}`));

    const session = 'whsec_' + Buffer.alloc(24, 9).toString('base64');
    const textKeyed = message({ key: Buffer.from(session, 'utf8') });
    const t = check(textKeyed, session, 'secret');
    assert.deepEqual(causeCodes(t), ['secret_not_decoded']);
    assert.match(t.causes[0]!.message, /text of the secret itself/);

    const plain = 'my-shared-secret';
    const p = check(message({ key: Buffer.from(plain, 'utf8') }), plain, 'secret');
    assert.deepEqual(causeCodes(p), ['secret_prefix']);
    assert.match(p.causes[0]!.message, /this text itself as the key/);

    const notUuid = check(m, 'not-a-uuid', 'uuid');
    assert.equal(notUuid.ok, false);
    assert.match(notUuid.checks[0]!.message, /is not a uuid/);
  });

  it('notices headers and body from different messages, and signatures in other formats', () => {
    const m = message();
    const other = message({ id: 'msg_other', body: BODY.replace('msg_2Qx7c1bJm9vT0kq4ZpW8sYd3LfA', 'msg_other') });
    const d = check({ headers: m.headers, body: other.body });
    assert.equal(causeCodes(d)[0], 'mismatched_capture');
    const stripe = message();
    stripe.headers['webhook-signature'] = 't=1,v1=abcdef';
    assert.deepEqual(causeCodes(check(stripe)), ['no_v1_signature']);
    assert.match(check(stripe).causes[0]!.message, /Stripe-style/);
    const cut = message();
    cut.headers['webhook-signature'] = cut.headers['webhook-signature']!.slice(3);
    assert.match(check(cut).causes[0]!.message, /"v1," prefix was cut off/);
  });

  it('formats durations for people', () => {
    assert.equal(humanDuration(45), '45 s');
    assert.equal(humanDuration(3300), '55 min');
    assert.equal(humanDuration(8000), '2 h 13 min');
    assert.equal(humanDuration(3 * 86_400 + 7200), '3 d 2 h');
  });
});

describe('captured headers files', () => {
  it('reads JSON objects, "Name: value" lines, curl -v dumps and whole raw requests', () => {
    const json = parseHeadersFile(Buffer.from(JSON.stringify({ 'Webhook-Id': 'msg_1', 'webhook-timestamp': 5, 'x-many': ['a', 'b'] })));
    assert.deepEqual(json.headers, { 'webhook-id': 'msg_1', 'webhook-timestamp': '5', 'x-many': 'a b' });
    const curl = parseHeadersFile(Buffer.from('> POST /hooks HTTP/1.1\n> Webhook-Id: msg_2\n> Content-Type: application/json\n'));
    assert.deepEqual(curl.headers, { 'webhook-id': 'msg_2', 'content-type': 'application/json' });
    const raw = parseHeadersFile(Buffer.from(`POST /hooks HTTP/1.1\r\nHost: x\r\nWebhook-Id: msg_3\r\n\r\n${BODY}`));
    assert.equal(raw.headers['webhook-id'], 'msg_3');
    assert.equal(raw.body?.toString(), BODY);
    assert.throws(() => parseHeadersFile(Buffer.from('this is not a header\n')), /line 1 .* is not "Name: value"/);
  });
});

describe('storehook verify (command)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'storehook-verify-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 for a valid message, 1 with the cause for an invalid one (--json), 2 for bad usage', async () => {
    const now = Math.floor(Date.now() / 1000);
    const m = message({ ts: now });
    const headerLines = Object.entries(m.headers).map(([k, v]) => `${k}: ${v}`).join('\n');
    await writeFile(join(dir, 'headers.txt'), `POST /hooks HTTP/1.1\n${headerLines}\n`);
    await writeFile(join(dir, 'body.json'), m.body);
    await writeFile(join(dir, 'pretty.json'), JSON.stringify(JSON.parse(BODY), null, 2));
    await writeFile(join(dir, 'request.txt'), `POST /hooks HTTP/1.1\n${headerLines}\n\n${BODY}`);

    const [valid, whole, invalid, usage, missingFile] = await Promise.all([
      runCli(['verify', '--uuid', UUID, '--headers', join(dir, 'headers.txt'), '--body', join(dir, 'body.json')]),
      runCli(['verify', '--secret', whsecFromUuid(UUID), '--headers', join(dir, 'request.txt')]),
      runCli(['verify', '--uuid', UUID, '--headers', join(dir, 'headers.txt'), '--body', join(dir, 'pretty.json'), '--json']),
      runCli(['verify', '--headers', join(dir, 'headers.txt'), '--body', join(dir, 'body.json')]),
      runCli(['verify', '--uuid', UUID, '--headers', join(dir, 'nope.txt'), '--body', join(dir, 'body.json')]),
    ]);
    assert.equal(valid.code, 0, valid.stdout + valid.stderr);
    assert.match(valid.stdout, /✔ signature/);
    assert.match(valid.stdout, /VALID/);
    assert.equal(whole.code, 0, whole.stdout + whole.stderr);
    assert.equal(invalid.code, 1, invalid.stdout + invalid.stderr);
    const report = JSON.parse(invalid.stdout);
    assert.equal(report.ok, false);
    assert.equal(report.causes[0].code, 'body_reserialised');
    assert.equal(report.message_id, 'msg_2Qx7c1bJm9vT0kq4ZpW8sYd3LfA');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^storehook: pass the key: --uuid <subscription uuid> or --secret <whsec_… or whpk_…>\n$/);
    assert.equal(missingFile.code, 2);
    assert.match(missingFile.stderr, /cannot read the headers file .*nope\.txt: ENOENT/);
  });

  it('prints the likely cause for people', async () => {
    const m = message({ ts: Math.floor(Date.now() / 1000) });
    await writeFile(join(dir, 'h.json'), JSON.stringify(m.headers));
    await writeFile(join(dir, 'b.json'), `${BODY}\n`);
    const r = await runCli(['verify', '--uuid', UUID, '--headers', join(dir, 'h.json'), '--body', join(dir, 'b.json')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✘ signature/);
    assert.match(r.stdout, /Likely cause: The body ends with "\\n" that was not signed/);
    assert.match(r.stdout, /NOT VALID/);
  });
});

describe('verify diagnosis: own secrets and ed25519 (issue #17)', () => {
  const ts = NOW - 3;
  const id = 'msg_2Qx7c1bJm9vT0kq4ZpW8sYd3LfA';
  const pair = newEd25519Pair();
  const whpkOf = (p: { publicKey: string }) => `whpk_${p.publicKey}`;
  const oldSecret = Buffer.alloc(32, 3);
  const newSecret = Buffer.alloc(32, 4);
  const signed = (body = BODY) => ({
    headers: deliveryHeaders({ messageId: id, timestampSec: ts, signature: signatureHeader({ hmac: [newSecret, oldSecret], ed25519: [ed25519PrivateKey(pair.seed, pair.publicKey)] }, id, ts, BODY), topic: 'order.created', attempt: 1, version: '0.1.0' }),
    body: Buffer.from(body),
  });

  it('during a rotation either --secret whsec_ verifies the two-signature header', () => {
    for (const secret of [oldSecret, newSecret]) {
      const d = check(signed(), whsec(secret), 'secret');
      assert.equal(d.ok, true, JSON.stringify(d));
      assert.match(d.checks.at(-1)!.message, /3 signatures in the header/);
    }
  });

  it('--secret whpk_ checks the v1a entry; a changed body and another key are named', () => {
    const d = check(signed(), whpkOf(pair), 'secret');
    assert.equal(d.ok, true, JSON.stringify(d));
    assert.match(d.checks[0]!.message, /ed25519 public key/);
    assert.deepEqual(causeCodes(check(signed(`${BODY}\n`), whpkOf(pair), 'secret')), ['whitespace_changed']);
    assert.deepEqual(causeCodes(check(signed(), whpkOf(newEd25519Pair()), 'secret')), ['wrong_key']);
    assert.deepEqual(causeCodes(check(message(), whpkOf(pair), 'secret')), ['no_v1a_signature']);
    const bad = check(signed(), 'whpk_abcd', 'secret');
    assert.equal(bad.ok, false);
    assert.match(bad.checks[0]!.message, /32-byte ed25519 public key/);
  });
});
