/**
 * What a receiver needs to verify a subscription's messages, for the front ends that show it: the
 * `whsec_` secret, and the exact headers of an attempt (the signature is a function of what was sent).
 */
import { deliveryHeaders, sign, signingKeyFromUuid, whsecFromUuid } from '../delivery/signer.js';

/** The subscription's signing secret in the Standard Webhooks `whsec_` form. */
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

/** The request headers of an attempt, rebuilt exactly. */
export function attemptHeaders(a: SentAttempt): Record<string, string> {
  const timestampSec = Math.floor(a.startedAt / 1000);
  const signature = sign(signingKeyFromUuid(a.subscriptionUuid), a.messageId, timestampSec, a.body);
  return deliveryHeaders({ messageId: a.messageId, timestampSec, signature, topic: a.topic, contentType: a.contentType, attempt: a.attemptNumber, version: a.version });
}
