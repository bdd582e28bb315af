/**
 * The names of the order topics, in a file that imports nothing: the published client's types
 * reach it, and they must not pull in the database layer.
 */
export const ORDER_TOPICS = [
  'order.created',
  'order.updated',
  'order.cancelled',
  'order.completed',
  'order.shipment_completed',
  'order.payment_updated',
  'order.comment_created',
] as const;
export type OrderTopic = (typeof ORDER_TOPICS)[number];
