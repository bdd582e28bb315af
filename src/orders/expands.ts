/**
 * The names of the order expands, in a file that imports nothing: the command line lists them in
 * `storehook listen --help` without loading the TypeBox schemas of contract.ts.
 */

/** `products.return_reasons` is a nested expand: it includes the products, each with its return reasons. */
export const ORDER_EXPANDS = ['products', 'products.return_reasons', 'shipments', 'payments', 'comments', 'events', 'tax_summary'] as const;
export type OrderExpand = (typeof ORDER_EXPANDS)[number];
