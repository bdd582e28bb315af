/**
 * The topics the delivery engine itself treats differently from an ordinary JSON order message.
 * They are defined here, at the bottom, so the engine needs nothing from the front ends above it;
 * `webhooks/topics.ts` passes them on to everyone else.
 */

/** The topic of the message `POST /webhooks/{uuid}/test` sends: not subscribable, never retried. */
export const TEST_TOPIC = 'webhook.test';

/**
 * The internal topic of the legacy automatic POST: one subscription per store with this topic
 * carries the order XML through the ordinary delivery engine (retries, log, resend). It is not in
 * the public catalogue (POST /api/v1/webhooks refuses it) and GET /api/v1/webhooks hides it.
 */
export const LEGACY_ORDER_XML_TOPIC = 'legacy.order_xml';

/** The content type of the legacy automatic POST's body (every other message is JSON). */
export const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';
