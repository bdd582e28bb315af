/**
 * What a receiver needs to verify a subscription's messages, for the front ends that show it: the
 * `whsec_` secret of a uuid-signed subscription, and the exact headers of an attempt (the
 * signature is a function of what was sent and of the keys that signed then).
 */
import type { SigningKeyRow } from '../db/schema.js';
import { deliveryHeaders, signatureHeader, whsecFromUuid } from '../delivery/signer.js';
import { keysAt } from './signing-keys.js';

/** The signing secret of a subscription that signs with its uuid, in the Standard Webhooks `whsec_` form. */
export function signingSecret(subscriptionUuid: string): string {
  return whsecFromUuid(subscriptionUuid);
}

export interface SentAttempt {
  subscriptionUuid: string;
  messageId: string;
  topic: string;
  contentType: string;
  body: string;
  startedAt: number;
  attemptNumber: number;
  version: string;
}

/**
 * The request headers of an attempt, rebuilt exactly from the subscription's key rows
 * (signing-keys.ts keyRows). An attempt signed only by keys deleted since (more than the kept
 * number of rotations ago) gets no `webhook-signature`: it cannot be rebuilt, and a wrong one would mislead.
 */
export function attemptHeaders(a: SentAttempt, keyRows: readonly SigningKeyRow[]): Record<string, string> {
  const timestampSec = Math.floor(a.startedAt / 1000);
  const keys = keysAt(a.subscriptionUuid, keyRows, a.startedAt, { since: true });
  const signature = keys.hmac.length || keys.ed25519.length ? signatureHeader(keys, a.messageId, timestampSec, a.body) : '';
  const headers = deliveryHeaders({ messageId: a.messageId, timestampSec, signature, topic: a.topic, contentType: a.contentType, attempt: a.attemptNumber, version: a.version });
  if (!signature) delete headers['webhook-signature'];
  return headers;
}
