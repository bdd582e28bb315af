/**
 * The names of the catalogue topics, in a file that imports nothing: the published client's types
 * reach it, and they must not pull in the database layer.
 */
export const CATALOGUE_TOPICS = ['product.created', 'product.updated', 'product.deleted', 'stock_item.updated', 'stock_item.low'] as const;
export type CatalogueTopic = (typeof CATALOGUE_TOPICS)[number];
