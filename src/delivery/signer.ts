/**
 * Standard Webhooks v1 signing for outgoing deliveries (SPEC §4).
 *
 * key = UTF-8 bytes of the lowercase subscription uuid. The HMAC itself lives in the receiver SDK
 * (sdk/verify.ts) so sender and verifier share one implementation and cannot disagree.
 */
import { randomBytes } from 'node:crypto';
import { computeSignature, isUuid } from '../sdk/verify.js';

/** HMAC key for a subscription: the UTF-8 bytes of its lowercase uuid. */
export function signingKeyFromUuid(uuid: string): Buffer {
  // Refuse non-uuids: signing with e.g. a numeric row id would produce unverifiable messages.
  if (!isUuid(uuid)) throw new TypeError(`signingKeyFromUuid: not a uuid: ${JSON.stringify(uuid)}`);
  return Buffer.from(uuid.toLowerCase(), 'utf8');
}

/** The secret receivers give any Standard Webhooks library: `whsec_` + base64(uuid bytes). */
export function whsecFromUuid(uuid: string): string {
  return `whsec_${signingKeyFromUuid(uuid).toString('base64')}`;
}

/** `v1,<base64(HMAC-SHA256(key, "<id>.<ts>.<body>"))>` for the `webhook-signature` header. */
export function sign(key: Buffer, messageId: string, timestampSec: number, body: string | Buffer): string {
  // The spec forbids `.` in id/timestamp: it would make the signed content ambiguous.
  if (messageId.length === 0 || messageId.includes('.')) {
    throw new TypeError(`sign: message id must be non-empty and contain no '.', got ${JSON.stringify(messageId)}`);
  }
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) {
    throw new TypeError(`sign: timestamp must be non-negative integer seconds, got ${timestampSec}`);
  }
  if (key.length === 0) throw new TypeError('sign: empty key');
  return computeSignature(key, messageId, timestampSec, body);
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
