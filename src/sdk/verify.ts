/**
 * storehook/verify — check that a webhook request really came from storehook.
 *
 * Zero dependencies beyond node:crypto: receivers install this alone.
 *
 * Messages are signed the Standard Webhooks way, over `<webhook-id>.<webhook-timestamp>.<raw body>`:
 *   webhook-signature: v1,<base64(HMAC-SHA256(key, content))> [v1,<…> …] [v1a,<base64(ed25519 signature)> …]
 * The header is a space-separated list: during a key rotation it carries one entry per key that
 * still signs, and a subscription that signs with ed25519 adds `v1a` entries. A message is genuine
 * when any entry matches any of the secrets you pass.
 *
 * Which key a `secret` stands for:
 *   - a subscription uuid (8-4-4-4-12 hex, any case) → the UTF-8 bytes of the lowercased uuid;
 *     this is storehook's native secret ("the uuid validates the messages"). Checks `v1` entries.
 *   - `whpk_<base64 of the raw 32-byte ed25519 public key>` → checks `v1a` entries. The receiver
 *     then holds no secret at all: the public key cannot forge a message.
 *   - anything else → a Standard Webhooks symmetric secret: an optional `whsec_` prefix, then
 *     base64 (padding optional) of the raw key bytes. This matches every reference library, so
 *     `whsec_…` values copied from other tools keep working, with or without the prefix.
 *     We deliberately do NOT fall back to "raw UTF-8 key" for other strings: a typo'd uuid would
 *     then silently become a different key and every message would fail as "no matching
 *     signature", hiding the real mistake. Instead it fails fast as `invalid_secret`.
 *   The forms cannot collide: a uuid contains `-` and `whpk_` contains `_`, neither in the base64 alphabet.
 * Pass several (an array) while a rotation is under way: the old and the new secret both verify.
 *
 * @example
 * ```ts
 * import { verify, WebhookVerificationError } from 'storehook/verify';
 *
 * // Express: app.post('/hooks', express.raw({ type: 'application/json' }), handler)
 * function handler(req, res) {
 *   try {
 *     const event = verify(req.body, req.headers, process.env.STOREHOOK_SUBSCRIPTION_UUID!);
 *     // use req.headers['webhook-id'] as the idempotency key: retries repeat it
 *     res.sendStatus(204);
 *   } catch (err) {
 *     if (err instanceof WebhookVerificationError) return res.status(400).send(err.code);
 *     throw err;
 *   }
 * }
 * ```
 * Always pass the raw body bytes exactly as received: re-serialised JSON will not verify.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto';

export type WebhookVerificationErrorCode =
  | 'missing_header'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature'
  | 'invalid_secret'
  | 'invalid_body';

export class WebhookVerificationError extends Error {
  readonly code: WebhookVerificationErrorCode;
  /** For `missing_header`: which header was missing. */
  readonly header: string | undefined;

  constructor(code: WebhookVerificationErrorCode, message: string, header?: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.code = code;
    this.header = header;
  }
}

/** Node's IncomingHttpHeaders, a plain object, or anything with a Fetch-style get(). */
export type HeadersInput =
  | Record<string, string | string[] | undefined>
  | { get(name: string): string | null | undefined };

export interface VerifyOptions {
  /** Allowed clock skew either way, in seconds. Default 300 (as the reference libraries). */
  toleranceSec?: number;
  /** Clock in milliseconds; injectable for tests. Default Date.now. */
  now?: () => number;
}

export const DEFAULT_TOLERANCE_SEC = 300;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Standard alphabet, optional padding; length is checked separately.
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
// Digits only: parseInt-style leniency ("12abc", "1.5", "-3") would accept ambiguous headers.
const TIMESTAMP_RE = /^\d{1,15}$/;

/** True when `value` looks like a subscription uuid (any version, any case). */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/**
 * Turn a secret (subscription uuid, or `whsec_<base64>` / bare base64) into HMAC key bytes.
 * Throws `invalid_secret` for empty, bare `whsec_`, or non-base64 values.
 */
export function decodeSecret(secret: string): Uint8Array {
  if (typeof secret !== 'string') {
    throw new WebhookVerificationError('invalid_secret', 'The secret must be a string.');
  }
  const s = secret.trim();
  if (UUID_RE.test(s)) return Buffer.from(s.toLowerCase(), 'utf8');

  const b64 = s.startsWith('whsec_') ? s.slice('whsec_'.length) : s;
  if (b64.length === 0) {
    throw new WebhookVerificationError(
      'invalid_secret',
      'The secret is empty. Pass the subscription uuid, or a whsec_<base64> secret.',
    );
  }
  const unpadded = b64.replace(/=+$/, '');
  // A length of 4n+1 cannot come from any byte string; Buffer would silently drop the tail.
  if (!BASE64_RE.test(b64) || unpadded.length % 4 === 1) {
    throw new WebhookVerificationError(
      'invalid_secret',
      'The secret is neither a subscription uuid nor a whsec_<base64> secret.',
    );
  }
  const key = Buffer.from(unpadded, 'base64');
  if (key.length === 0) {
    throw new WebhookVerificationError('invalid_secret', 'The secret decodes to an empty key.');
  }
  return key;
}

export const PUBLIC_KEY_PREFIX = 'whpk_';
const ED25519_PUBLIC_KEY_BYTES = 32;

/**
 * Turn a `whpk_<base64>` public key (the raw 32 ed25519 bytes) into a key for `v1a` signatures.
 * Throws `invalid_secret` for anything else.
 */
export function decodePublicKey(publicKey: string): KeyObject {
  const s = typeof publicKey === 'string' ? publicKey.trim() : '';
  const b64 = s.startsWith(PUBLIC_KEY_PREFIX) ? s.slice(PUBLIC_KEY_PREFIX.length) : '';
  const raw = BASE64_RE.test(b64) ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
  if (raw.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new WebhookVerificationError(
      'invalid_secret',
      `The public key must be whpk_ + base64 of the ${ED25519_PUBLIC_KEY_BYTES}-byte ed25519 public key, as the subscription shows it.`,
    );
  }
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

function toBytes(body: string | Uint8Array): Buffer {
  return typeof body === 'string'
    ? Buffer.from(body, 'utf8')
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/**
 * The Standard Webhooks v1 signature entry, `v1,<base64>`, over `<id>.<timestamp>.<body>`.
 * The body is hashed as raw bytes (strings as UTF-8). This is the only HMAC implementation in
 * storehook: the sender (delivery/signer.ts) uses it too, so the two cannot drift apart.
 */
export function computeSignature(
  key: Uint8Array,
  messageId: string,
  timestampSec: number | string,
  body: string | Uint8Array,
): string {
  const mac = createHmac('sha256', key);
  mac.update(`${messageId}.${timestampSec}.`, 'utf8');
  mac.update(toBytes(body));
  return `v1,${mac.digest('base64')}`;
}

/**
 * True when any `v1,` entry in the space-separated `signatureHeader` equals the expected one.
 * Other versions (e.g. `v1a`, `v2`) are ignored, so keys can rotate and schemes can be added.
 */
export function signatureMatches(
  key: Uint8Array,
  messageId: string,
  timestampSec: number | string,
  body: string | Uint8Array,
  signatureHeader: string,
): boolean {
  const expected = Buffer.from(computeSignature(key, messageId, timestampSec, body).slice(3), 'ascii');
  let matched = false;
  for (const value of entriesOf(signatureHeader, 'v1')) {
    const given = Buffer.from(value, 'utf8');
    // timingSafeEqual throws on unequal lengths; length alone leaks nothing (it is public).
    // Keep looping after a match so timing does not reveal which entry matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched;
}

/** The bytes every signature covers: `<id>.<timestamp>.<body>` (the body as raw bytes, strings as UTF-8). */
export function signedContent(messageId: string, timestampSec: number | string, body: string | Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${messageId}.${timestampSec}.`, 'utf8'), toBytes(body)]);
}

/** The base64 values of the `<version>,` entries of a signature header. */
function entriesOf(signatureHeader: string, version: 'v1' | 'v1a'): string[] {
  const out: string[] = [];
  for (const entry of signatureHeader.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma >= 0 && entry.slice(0, comma) === version) out.push(entry.slice(comma + 1));
  }
  return out;
}

/**
 * True when any `v1a,` entry of the header is a valid ed25519 signature by `publicKey` over the
 * message. `v1` entries are ignored. ed25519 verification is not secret-dependent, so no
 * constant-time care is needed here.
 */
export function ed25519SignatureMatches(
  publicKey: KeyObject,
  messageId: string,
  timestampSec: number | string,
  body: string | Uint8Array,
  signatureHeader: string,
): boolean {
  const content = signedContent(messageId, timestampSec, body);
  return entriesOf(signatureHeader, 'v1a').some((b64) => {
    if (!BASE64_RE.test(b64)) return false;
    const signature = Buffer.from(b64, 'base64');
    return signature.length === 64 && verifySignature(null, content, publicKey, signature);
  });
}

function hasGet(h: HeadersInput): h is { get(name: string): string | null | undefined } {
  return typeof (h as { get?: unknown }).get === 'function';
}

/** Case-insensitive header read; repeated headers are joined with a space. */
function readHeader(headers: HeadersInput, name: string): string | undefined {
  let value: string | string[] | null | undefined;
  if (hasGet(headers)) {
    value = headers.get(name);
  } else {
    value = headers[name];
    if (value === undefined) {
      for (const k of Object.keys(headers)) {
        if (k.toLowerCase() === name) {
          value = headers[k];
          break;
        }
      }
    }
  }
  if (Array.isArray(value)) value = value.join(' ');
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function requireHeader(headers: HeadersInput, name: string): string {
  const value = readHeader(headers, name);
  if (value === undefined) {
    throw new WebhookVerificationError('missing_header', `Missing required header ${name}.`, name);
  }
  return value;
}

type VerifyKey = { kind: 'v1'; key: Uint8Array } | { kind: 'v1a'; key: KeyObject };

/** The keys the secrets stand for: whpk_ public keys check v1a entries, the rest v1 entries. */
function decodeKeys(secret: string | readonly string[]): VerifyKey[] {
  const secrets: readonly unknown[] = Array.isArray(secret) ? secret : [secret];
  if (secrets.length === 0) {
    throw new WebhookVerificationError('invalid_secret', 'No secret given. Pass the subscription uuid, a whsec_ secret or a whpk_ public key.');
  }
  return secrets.map((s): VerifyKey => {
    if (typeof s === 'string' && s.trim().startsWith(PUBLIC_KEY_PREFIX)) return { kind: 'v1a', key: decodePublicKey(s) };
    if (typeof s === 'string' && s.trim().startsWith('whsk_')) {
      throw new WebhookVerificationError('invalid_secret', 'That is an ed25519 private key (whsk_); receivers verify with the whpk_ public key.');
    }
    return { kind: 'v1', key: decodeSecret(s as string) };
  });
}

/**
 * Verify a delivery and return its parsed JSON body (`undefined` for an empty body).
 * Throws WebhookVerificationError (see `.code`) when anything is wrong.
 */
export function verify(
  rawBody: string | Buffer | Uint8Array,
  headers: HeadersInput,
  secret: string | readonly string[],
  options: VerifyOptions = {},
): unknown {
  const keys = decodeKeys(secret);
  const tolerance = options.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  const nowMs = (options.now ?? Date.now)();

  const id = requireHeader(headers, 'webhook-id');
  const timestampRaw = requireHeader(headers, 'webhook-timestamp');
  const signature = requireHeader(headers, 'webhook-signature');

  if (!TIMESTAMP_RE.test(timestampRaw)) {
    throw new WebhookVerificationError(
      'invalid_timestamp',
      `webhook-timestamp must be unix seconds (digits only), got ${JSON.stringify(timestampRaw.slice(0, 40))}.`,
    );
  }
  const ts = Number(timestampRaw);
  const nowSec = Math.floor(nowMs / 1000);
  // Checked before the HMAC: a replayed old message is rejected cheaply.
  if (nowSec - ts > tolerance) {
    throw new WebhookVerificationError(
      'timestamp_too_old',
      `Message timestamp is ${nowSec - ts - tolerance} s older than the ${tolerance} s tolerance (check clocks, or a replay).`,
    );
  }
  if (ts - nowSec > tolerance) {
    throw new WebhookVerificationError(
      'timestamp_too_new',
      `Message timestamp is ${ts - nowSec - tolerance} s further in the future than the ${tolerance} s tolerance (check clocks).`,
    );
  }

  const body = toBytes(rawBody);
  if (!keys.some((k) => (k.kind === 'v1' ? signatureMatches(k.key, id, timestampRaw, body, signature) : ed25519SignatureMatches(k.key, id, timestampRaw, body, signature)))) {
    const which = [...new Set(keys.map((k) => k.kind))].join(' or ');
    throw new WebhookVerificationError(
      'no_matching_signature',
      `No ${which} signature matches: wrong secret, or the body was changed (pass the raw bytes as received).`,
    );
  }

  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new WebhookVerificationError('invalid_body', 'The signature is valid but the body is not JSON.');
  }
}
