/**
 * `storehook verify`: checks a captured message the way a receiver does, and when it fails says
 * why, by trying the usual ways a message or its secret gets mangled and reporting the one that
 * makes the signature match:
 * - a header is missing (or has another vendor's name, or was dropped by a proxy);
 * - the timestamp is outside the tolerance (and by how much);
 * - the body was re-serialised (pretty-printed, re-spaced, `\u`-escaped) or its whitespace or line
 *   endings changed (a trailing newline added by the capture);
 * - the secret was given in the wrong form (`whsec_` + the bare uuid, the base64 text used as the
 *   key itself, the uuid's case) or is simply the wrong key (another subscription, or a
 *   `storehook listen` session secret for a subscription's message and vice versa).
 * A `whpk_` public key checks the ed25519 (`v1a`) entries instead, with the same body alterations.
 * Pure: no I/O, the clock is an input.
 */
import type { KeyObject } from 'node:crypto';
import { decodePublicKey, decodeSecret, ed25519SignatureMatches, isUuid, PUBLIC_KEY_PREFIX, signatureMatches } from '../../sdk/verify.js';

export type CauseCode =
  | 'missing_header'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_v1_signature'
  | 'no_v1a_signature'
  | 'invalid_secret'
  | 'secret_prefix'
  | 'secret_not_decoded'
  | 'uuid_case'
  | 'body_reserialised'
  | 'whitespace_changed'
  | 'mismatched_capture'
  | 'wrong_key'
  | 'body_changed';

export interface Check {
  name: 'secret' | 'headers' | 'timestamp' | 'signature';
  ok: boolean;
  message: string;
}

export interface Cause {
  code: CauseCode;
  message: string;
}

export interface Diagnosis {
  ok: boolean;
  checks: Check[];
  /** why it fails, most likely first; empty when ok */
  causes: Cause[];
  /** the forms a receiver can be given, when the secret is a uuid */
  secretForms: { uuid: string; whsec: string } | null;
  messageId: string | null;
  topic: string | null;
}

export interface DiagnoseInput {
  /** lower-case names */
  headers: Record<string, string>;
  body: Buffer;
  secret: string;
  /** which option the secret came from */
  given: 'uuid' | 'secret';
  toleranceSec: number;
  nowSec: number;
}

interface KeyCandidate {
  key: Buffer;
  cause: Cause | null;
}

interface BodyCandidate {
  body: Buffer;
  cause: Cause;
}

const REQUIRED = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

/** `2 h 13 min`, `45 s`, `3 d 4 h` */
export function humanDuration(sec: number): string {
  const s = Math.abs(Math.round(sec));
  if (s < 120) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86_400)} d${Math.floor((s % 86_400) / 3600) ? ` ${Math.floor((s % 86_400) / 3600)} h` : ''}`;
}

function whsecOf(uuid: string): string {
  return `whsec_${Buffer.from(uuid.toLowerCase(), 'utf8').toString('base64')}`;
}

/** Interprets the secret: the key it stands for (null if none), notes, and wrong-form alternatives. */
function keysFor(secret: string, given: 'uuid' | 'secret'): { primary: Buffer | null; publicKey?: KeyObject; check: Check; alternatives: KeyCandidate[]; forms: Diagnosis['secretForms'] } {
  const s = secret.trim();
  const alternatives: KeyCandidate[] = [];
  const forms = isUuid(s) ? { uuid: s.toLowerCase(), whsec: whsecOf(s) } : null;
  let primary: Buffer | null = null;
  let check: Check;

  if (s.startsWith(PUBLIC_KEY_PREFIX)) {
    try {
      return { primary: null, publicKey: decodePublicKey(s), forms, alternatives, check: { name: 'secret', ok: true, message: 'ed25519 public key (whpk_): checks the v1a signatures' } };
    } catch (err) {
      return { primary: null, forms, alternatives, check: { name: 'secret', ok: false, message: (err as Error).message } };
    }
  }

  if (given === 'uuid' && !isUuid(s) && !s.startsWith('whsec_')) {
    return { primary: null, forms, alternatives, check: { name: 'secret', ok: false, message: `--uuid ${JSON.stringify(s.slice(0, 60))} is not a uuid (8-4-4-4-12 hex digits, as in GET /api/v1/webhooks); for a whsec_ secret use --secret` } };
  }
  try {
    primary = Buffer.from(decodeSecret(s));
    if (isUuid(s)) check = { name: 'secret', ok: true, message: `subscription uuid ${s.toLowerCase()} (the same key as ${whsecOf(s)})` };
    else if (s.startsWith('whsec_')) {
      const asText = primary.toString('utf8');
      check = { name: 'secret', ok: true, message: isUuid(asText) ? `whsec_ secret of subscription ${asText}` : `whsec_ secret (${primary.length} key bytes)${given === 'uuid' ? '; given as --uuid, used as --secret' : ''}` };
    } else check = { name: 'secret', ok: true, message: `base64 secret without the whsec_ prefix (${primary.length} key bytes); accepted, but most Standard Webhooks libraries want whsec_${s}` };
  } catch (err) {
    check = { name: 'secret', ok: false, message: (err as Error).message };
  }

  // Wrong forms people pass, and what they would mean.
  if (s.startsWith('whsec_') && isUuid(s.slice(6))) {
    const uuid = s.slice(6).toLowerCase();
    alternatives.push({
      key: Buffer.from(uuid, 'utf8'),
      cause: { code: 'secret_prefix', message: `The secret is whsec_ followed by the bare uuid. Give the uuid alone (${uuid}), or its whsec_ form, which is whsec_ + base64(uuid): ${whsecOf(uuid)}. A verifier handed "whsec_<uuid>" rejects every message.` },
    });
  }
  if (s.startsWith('whsec_')) {
    alternatives.push({ key: Buffer.from(s, 'utf8'), cause: { code: 'secret_not_decoded', message: 'The message was signed with the text of the secret itself ("whsec_…") as the key. The key is the bytes the base64 after whsec_ decodes to: the sender did not decode it.' } });
    alternatives.push({ key: Buffer.from(s.slice(6), 'utf8'), cause: { code: 'secret_not_decoded', message: 'The message was signed with the base64 text after whsec_ as the key, not with the bytes it decodes to: the sender did not decode the secret.' } });
  } else if (!isUuid(s) && s.length > 0) {
    alternatives.push({ key: Buffer.from(s, 'utf8'), cause: { code: 'secret_prefix', message: `The message was signed with this text itself as the key. storehook reads a secret without whsec_ as base64; to use it as given, verify with the key bytes of the text (whsec_${Buffer.from(s, 'utf8').toString('base64')}).` } });
  }
  if (isUuid(s) && s !== s.toLowerCase()) {
    alternatives.push({ key: Buffer.from(s, 'utf8'), cause: { code: 'uuid_case', message: 'The message was signed with the uuid in upper case; storehook signs with the lowercase uuid. Lowercase it in the signer.' } });
  }
  return { primary, check, alternatives, forms };
}

function bodyCandidates(body: Buffer): { candidates: BodyCandidate[]; compact: boolean | null; parsed: unknown } {
  const candidates: BodyCandidate[] = [];
  const text = body.toString('utf8');
  const seen = new Set<string>([text]);
  const add = (t: string, cause: Cause) => {
    if (seen.has(t)) return;
    seen.add(t);
    candidates.push({ body: Buffer.from(t, 'utf8'), cause });
  };
  const trailing = /\s+$/.exec(text)?.[0] ?? '';
  if (trailing) {
    add(text.slice(0, -trailing.length), {
      code: 'whitespace_changed',
      message: `The body ends with ${JSON.stringify(trailing)} that was not signed: a trailing newline or space was added by the capture (echo, an editor, a logging tool) or by your framework. Verify the bytes exactly as received.`,
    });
  }
  if (/^\s/.test(text)) add(text.trim(), { code: 'whitespace_changed', message: 'The body has leading (and maybe trailing) whitespace that was not signed: it was added after sending. Verify the bytes exactly as received.' });
  if (!text.endsWith('\n')) add(`${text}\n`, { code: 'whitespace_changed', message: 'The signed body ended with a newline that this one lacks: it was trimmed (by a body parser, or when saving the capture). Verify the bytes exactly as received.' });
  if (text.includes('\r\n')) add(text.replace(/\r\n/g, '\n'), { code: 'whitespace_changed', message: 'The line endings were changed to CRLF (\\r\\n) after sending (a Windows editor or a text-mode transfer). Verify the bytes exactly as received.' });
  if (text.startsWith('\ufeff')) add(text.slice(1), { code: 'whitespace_changed', message: 'A byte-order mark (BOM) was added at the start of the body when it was saved. Verify the bytes exactly as received.' });

  let parsed: unknown = undefined;
  let compact: boolean | null = null;
  try {
    parsed = JSON.parse(text.replace(/^\ufeff/, ''));
    const c = JSON.stringify(parsed);
    compact = c === text;
    if (!compact) {
      const how = /\n\s+"/.test(text) ? 'pretty-printed (indented over several lines)' : /\\u[0-9a-fA-F]{4}/.test(text) ? 'written with \\u escapes for non-ASCII letters' : /[:,] /.test(text) ? 're-spaced (a space after : or ,)' : 'reformatted';
      add(c, {
        code: 'body_reserialised',
        message: `The body was re-serialised: storehook signs compact JSON, and this body is ${how}. A receiver must verify the raw bytes before any JSON parsing (Express: express.raw({ type: 'application/json' }); Fastify: a content-type parser with parseAs: 'buffer'; node:http: collect the chunks).`,
      });
    }
  } catch {
    parsed = undefined;
  }
  return { candidates, compact, parsed };
}

export function diagnose(input: DiagnoseInput): Diagnosis {
  const h = input.headers;
  const checks: Check[] = [];
  const causes: Cause[] = [];
  const messageId = h['webhook-id'] ?? null;
  const topic = h['webhook-topic'] ?? null;
  const result = (secretForms: Diagnosis['secretForms']): Diagnosis => ({ ok: checks.every((c) => c.ok) && causes.length === 0, checks, causes, secretForms, messageId, topic });

  const keys = keysFor(input.secret, input.given);
  checks.push(keys.check);

  // 1. headers
  const missing = REQUIRED.filter((name) => !h[name] || h[name].trim() === '');
  if (missing.length) {
    const names = Object.keys(h);
    const hints: string[] = [];
    if (names.some((n) => n.startsWith('svix-'))) hints.push('the capture has svix-* headers: storehook sends webhook-*, the Standard Webhooks names');
    if (names.some((n) => /^webhook_/.test(n))) hints.push('the capture has webhook_* headers: something replaced the dashes with underscores');
    if (names.some((n) => /^x-webhook-/.test(n))) hints.push('the capture has x-webhook-* headers: a proxy or your code renamed them');
    if (missing.length === REQUIRED.length && hints.length === 0) hints.push('no webhook-* header at all: is the file the request headers (not the response), captured before a proxy stripped them?');
    const message = `Missing header${missing.length > 1 ? 's' : ''} ${missing.join(', ')}${hints.length ? `; ${hints.join('; ')}` : ''}.`;
    checks.push({ name: 'headers', ok: false, message });
    causes.push({ code: 'missing_header', message });
    return result(keys.forms);
  }
  checks.push({ name: 'headers', ok: true, message: `webhook-id ${messageId}, webhook-timestamp, webhook-signature${topic ? `, webhook-topic ${topic}` : ''}` });

  // 2. timestamp
  const tsRaw = h['webhook-timestamp']!.trim();
  // 13 digits are milliseconds (seconds that large are the year 33658): a common sender bug.
  const tsValid = /^\d{1,12}$/.test(tsRaw);
  if (!tsValid) {
    const message = `webhook-timestamp ${JSON.stringify(tsRaw.slice(0, 40))} is not unix seconds (digits only)${/^\d{13}$/.test(tsRaw) ? ': it looks like milliseconds' : ''}.`;
    checks.push({ name: 'timestamp', ok: false, message });
    causes.push({ code: 'invalid_timestamp', message });
  } else {
    const ts = Number(tsRaw);
    const age = input.nowSec - ts;
    const when = new Date(ts * 1000).toISOString().replace('.000Z', 'Z');
    if (age > input.toleranceSec) {
      const message = `webhook-timestamp ${ts} (${when}) is ${humanDuration(age)} old: ${humanDuration(age - input.toleranceSec)} beyond the ${input.toleranceSec} s tolerance, so a receiver refuses it as a possible replay. To check the signature as of the capture, add --now ${ts}.`;
      checks.push({ name: 'timestamp', ok: false, message });
      causes.push({ code: 'timestamp_too_old', message });
    } else if (-age > input.toleranceSec) {
      const message = `webhook-timestamp ${ts} (${when}) is ${humanDuration(-age)} in the future: ${humanDuration(-age - input.toleranceSec)} beyond the ${input.toleranceSec} s tolerance. The sender's or this machine's clock is wrong (run NTP).`;
      checks.push({ name: 'timestamp', ok: false, message });
      causes.push({ code: 'timestamp_too_new', message });
    } else {
      checks.push({ name: 'timestamp', ok: true, message: `${ts} (${when}), ${humanDuration(age)} ${age >= 0 ? 'ago' : 'ahead'}, within the ${input.toleranceSec} s tolerance` });
    }
  }
  if (!tsValid) return result(keys.forms);

  // 3. signature
  const sigHeader = h['webhook-signature']!;
  const entries = sigHeader.split(' ').filter(Boolean);
  const bodies = bodyCandidates(input.body);
  if (keys.publicKey) return diagnoseV1a(keys.publicKey, { id: messageId!, tsRaw, sigHeader, body: input.body, bodies: bodies.candidates }, checks, causes, () => result(keys.forms));
  if (!entries.some((e) => e.startsWith('v1,'))) {
    const looks = /^t=\d+,v1=/.test(sigHeader) ? ' (that is a Stripe-style signature)' : /^sha256=/.test(sigHeader) ? ' (that is a GitHub-style signature)' : /^[A-Za-z0-9+/]{43}=$/.test(sigHeader) ? ' (a bare base64 signature: the "v1," prefix was cut off)' : '';
    const message = `webhook-signature has no "v1,<base64>" entry: got ${JSON.stringify(sigHeader.slice(0, 60))}${looks}. Copy the header whole.`;
    checks.push({ name: 'signature', ok: false, message });
    causes.push({ code: 'no_v1_signature', message });
    return result(keys.forms);
  }
  const id = messageId!;
  const matches = (key: Buffer, body: Buffer) => signatureMatches(key, id, tsRaw, body, sigHeader);

  if (keys.primary && matches(keys.primary, input.body)) {
    checks.push({ name: 'signature', ok: true, message: `matches (${entries.length} signature${entries.length > 1 ? 's' : ''} in the header)` });
    return result(keys.forms);
  }

  // Which single change makes it match? The body first (the commonest), then the secret's form.
  let found: Cause[] | null = null;
  if (keys.primary) for (const b of bodies.candidates) if (!found && matches(keys.primary, b.body)) found = [b.cause];
  for (const k of keys.alternatives) if (!found && matches(k.key, input.body)) found = [k.cause!];
  for (const k of keys.alternatives) for (const b of bodies.candidates) if (!found && matches(k.key, b.body)) found = [k.cause!, b.cause];

  if (found) {
    checks.push({ name: 'signature', ok: false, message: 'does not match the message as given' });
    causes.push(...found);
    return result(keys.forms);
  }

  // No single change explains it: say what the evidence points to.
  checks.push({ name: 'signature', ok: false, message: keys.primary ? 'matches neither this message nor any usual alteration of it' : 'cannot be checked: the secret is not usable' });
  if (!keys.primary) {
    causes.push({ code: 'invalid_secret', message: `${keys.check.message} Pass the subscription uuid (--uuid), a whsec_<base64> secret or a whpk_ public key (--secret).` });
    return result(keys.forms);
  }
  const parsed = bodies.parsed as { id?: unknown; topic?: unknown } | undefined;
  if (parsed && typeof parsed === 'object' && typeof parsed.id === 'string' && parsed.id !== id) {
    causes.push({ code: 'mismatched_capture', message: `The body is message ${parsed.id} but the webhook-id header says ${id}: the headers and the body come from different messages. Capture both from the same request.` });
  }
  if (bodies.compact === false) {
    causes.push({
      code: 'body_changed',
      message: 'The body is not as storehook sends it (compact JSON, no spaces or newlines), and re-serialising it does not restore the signed bytes: keys were reordered or values changed. Verify (and capture) the raw body as received.',
    });
  } else if (bodies.compact === null) {
    causes.push({ code: 'body_changed', message: 'The body is not valid JSON, so it is not what storehook sent (truncated, or decoded/re-encoded on the way). Capture the raw body bytes.' });
  }
  const keyText = keys.primary.toString('utf8');
  const keyIsUuid = isUuid(keyText);
  let hint = '';
  if (id.startsWith('evt_') && keyIsUuid) hint = ' This message was forwarded by `storehook listen` (its id starts with evt_): it is signed with the session secret listen printed at start (`storehook listen --print-secret`), not with a subscription uuid.';
  else if (id.startsWith('msg_') && !keyIsUuid) hint = ' This message came from a subscription (its id starts with msg_): its key is that subscription\'s uuid (GET /api/v1/webhooks lists them), or the whsec_ secret of its own if it has one (signing.hmac "secret"; shown once, when made or rotated), not a `storehook listen` session secret.';
  else if (keyIsUuid) hint = ` Check that ${keyText} is the uuid of the subscription that sent this message (its delivery log, GET /api/v1/webhooks/${keyText}/deliveries, lists ${id} if so).`;
  causes.push({ code: 'wrong_key', message: `Wrong key: the signature was made with another secret.${hint}` });
  // A wrong key is likelier than a changed body when the body looks untouched.
  if (bodies.compact === true && !causes.some((c) => c.code === 'mismatched_capture')) causes.sort((a, b) => (a.code === 'wrong_key' ? -1 : b.code === 'wrong_key' ? 1 : 0));
  return result(keys.forms);
}

interface SignedMessage {
  id: string;
  tsRaw: string;
  sigHeader: string;
  body: Buffer;
  bodies: BodyCandidate[];
}

/** The signature step for a whpk_ public key: the v1a entries, the message as given, then its usual alterations. */
function diagnoseV1a(publicKey: KeyObject, m: SignedMessage, checks: Check[], causes: Cause[], result: () => Diagnosis): Diagnosis {
  const count = m.sigHeader.split(' ').filter((e) => e.startsWith('v1a,')).length;
  if (count === 0) {
    const message = 'webhook-signature has no "v1a,<base64>" entry: this subscription does not sign with ed25519 (turn it on with PATCH /api/v1/webhooks/{uuid} {"signing": {"ed25519": true}}), or verify its v1 entry with the uuid or whsec_ secret instead.';
    checks.push({ name: 'signature', ok: false, message });
    causes.push({ code: 'no_v1a_signature', message });
    return result();
  }
  const matches = (body: Buffer) => ed25519SignatureMatches(publicKey, m.id, m.tsRaw, body, m.sigHeader);
  if (matches(m.body)) {
    checks.push({ name: 'signature', ok: true, message: `v1a matches (${count} ed25519 signature${count > 1 ? 's' : ''} in the header)` });
    return result();
  }
  const altered = m.bodies.find((b) => matches(b.body));
  checks.push({ name: 'signature', ok: false, message: altered ? 'does not match the message as given' : 'matches neither this message nor any usual alteration of it' });
  causes.push(altered ? altered.cause : { code: 'wrong_key', message: 'Wrong key: no v1a signature was made by this public key. Check it is one the subscription lists now (signing.keys in GET /api/v1/webhooks/{uuid}); after a rotation the old key stops signing when its overlap ends.' });
  return result();
}
