/**
 * Standard Webhooks signing for outgoing deliveries (SPEC §4): keys in, `webhook-signature` out.
 *
 * By default a subscription's one key is the UTF-8 bytes of its lowercase uuid (`v1`, as
 * MyCashflow). A subscription may have its own keys instead or beside (src/webhooks/signing-keys.ts):
 * rotating HMAC secrets, each a `v1,` entry, and ed25519 keys, each a `v1a,` entry. Which keys sign
 * is decided there; this file only turns keys into the header. The HMAC and the signed content live
 * in the receiver SDK (sdk/verify.ts) so sender and verifier share one implementation.
 */
import { randomBytes, sign as signBytes, type KeyObject } from 'node:crypto';
import { computeSignature, isUuid, signedContent } from '../sdk/verify.js';

/** The keys that sign one message, current first: HMAC keys (`v1`) and ed25519 private keys (`v1a`). */
export interface SigningKeys {
  hmac: readonly Uint8Array[];
  ed25519: readonly KeyObject[];
}

/** The keys that sign a message of the store's subscription sent at `atMs` (src/webhooks/signing-keys.ts). */
export type SigningKeyLookup = (storeId: number, subscriptionUuid: string, atMs: number) => Promise<SigningKeys>;

/** HMAC key for a subscription: the UTF-8 bytes of its lowercase uuid. */
export function signingKeyFromUuid(uuid: string): Buffer {
  // Refuse non-uuids: signing with e.g. a numeric row id would produce unverifiable messages.
  if (!isUuid(uuid)) throw new TypeError(`signingKeyFromUuid: not a uuid: ${JSON.stringify(uuid)}`);
  return Buffer.from(uuid.toLowerCase(), 'utf8');
}

/** The keys of a subscription without keys of its own: its uuid alone signs `v1` (MyCashflow). */
export function uuidSigningKeys(uuid: string): SigningKeys {
  return { hmac: [signingKeyFromUuid(uuid)], ed25519: [] };
}

/** The secret receivers give any Standard Webhooks library: `whsec_` + base64(uuid bytes). */
export function whsecFromUuid(uuid: string): string {
  return `whsec_${signingKeyFromUuid(uuid).toString('base64')}`;
}

function checkSignedFields(messageId: string, timestampSec: number): void {
  // The spec forbids `.` in id/timestamp: it would make the signed content ambiguous.
  if (messageId.length === 0 || messageId.includes('.')) {
    throw new TypeError(`sign: message id must be non-empty and contain no '.', got ${JSON.stringify(messageId)}`);
  }
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) {
    throw new TypeError(`sign: timestamp must be non-negative integer seconds, got ${timestampSec}`);
  }
}

/** `v1,<base64(HMAC-SHA256(key, "<id>.<ts>.<body>"))>`: one entry of the `webhook-signature` header. */
export function sign(key: Uint8Array, messageId: string, timestampSec: number, body: string | Buffer): string {
  checkSignedFields(messageId, timestampSec);
  if (key.length === 0) throw new TypeError('sign: empty key');
  return computeSignature(key, messageId, timestampSec, body);
}

/**
 * The whole `webhook-signature` header: one `v1,` entry per HMAC key, then one `v1a,` entry per
 * ed25519 key, space-separated (Standard Webhooks). A receiver accepts the message when any entry
 * matches a key it holds, so old and new keys sign side by side during a rotation.
 */
export function signatureHeader(keys: SigningKeys, messageId: string, timestampSec: number, body: string | Buffer): string {
  checkSignedFields(messageId, timestampSec);
  if (keys.hmac.length === 0 && keys.ed25519.length === 0) throw new TypeError('signatureHeader: no signing key');
  const v1 = keys.hmac.map((key) => sign(key, messageId, timestampSec, body));
  const content = keys.ed25519.length ? signedContent(messageId, timestampSec, body) : null;
  const v1a = keys.ed25519.map((key) => `v1a,${signBytes(null, content!, key).toString('base64')}`);
  return [...v1, ...v1a].join(' ');
}

/** `msg_` + 27 url-safe chars (160 random bits): unguessable, and no `.` by construction. */
export function newMessageId(): string {
  return `msg_${randomBytes(20).toString('base64url')}`;
}

/** The content type of every message whose producer named no other. */
export const JSON_CONTENT_TYPE = 'application/json';

export interface DeliveryHeaderInput {
  messageId: string;
  timestampSec: number;
  signature: string;
  topic: string;
  /** the message's content type (its producer chose it); JSON when not given. */
  contentType?: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** storehook's version, for the User-Agent. */
  version: string;
}

/** Request headers for one delivery attempt. The subscription uuid is never among them. */
export function deliveryHeaders(input: DeliveryHeaderInput): Record<string, string> {
  return {
    'content-type': input.contentType ?? JSON_CONTENT_TYPE,
    'user-agent': `storehook/${input.version}`,
    'webhook-id': input.messageId,
    'webhook-timestamp': String(input.timestampSec),
    'webhook-signature': input.signature,
    'webhook-topic': input.topic,
    'webhook-attempt': String(input.attempt),
  };
}
