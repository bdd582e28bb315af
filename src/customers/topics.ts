/** The names of the customer topics, in a file that imports nothing (the published client's types reach it). */
export const CUSTOMER_TOPICS = ['customer.created', 'customer.updated'] as const;
export type CustomerTopic = (typeof CUSTOMER_TOPICS)[number];
