/**
 * The internal topic of the legacy automatic POST: one subscription per store with this topic
 * carries the order XML through the ordinary delivery engine (retries, log, resend). It is not in
 * the public catalogue (POST /api/v1/webhooks refuses it) and GET /api/v1/webhooks hides it.
 */
export const LEGACY_ORDER_XML_TOPIC = 'legacy.order_xml';

export const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';
