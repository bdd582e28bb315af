/** The products API with their variations (docs/api.md "Products"), under /api/v1 and (hidden) /api/v0. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CreateProductBody, CreateVariationBody, PatchProductBody, PatchVariationBody, Product, PRODUCT_EXPANDS, Variation } from '../../catalogue/contract.js';
import type { ResourceEventSink } from '../../catalogue/events.js';
import { renderProduct, renderVariation } from '../../catalogue/render.js';
import { loadProduct, loadProducts, stockItemsOf } from '../../catalogue/repository.js';
import * as service from '../../catalogue/service.js';
import type { Database } from '../../db/connection.js';
import { notFound } from '../../errors.js';
import { listQueryProperties, pageFor, type ListShape } from '../resource-list.js';
import { parseExpand } from '../query.js';
import { errorResponses, IdParam, Many, One } from '../schemas/common.js';

export interface CatalogueRoutesOptions {
  database: Database;
  sink: ResourceEventSink;
  /** hide from the OpenAPI document (the /api/v0 copy). */
  hide?: boolean;
}

const PRODUCT_LIST: ListShape = { sortFields: ['id', 'created_at', 'updated_at'], rangeFields: ['created_at', 'updated_at'], stampFields: ['created_at', 'updated_at'] };
const VARIATION_LIST: ListShape = { sortFields: ['id'], rangeFields: [], stampFields: [] };

const ListQuery = Type.Object({ ...listQueryProperties(PRODUCT_LIST), expand: Type.Optional(Type.String({ maxLength: 500, description: `comma list of ${PRODUCT_EXPANDS.join(', ')}` })) }, { additionalProperties: false });
const VariationListQuery = Type.Object(listQueryProperties(VARIATION_LIST), { additionalProperties: false });
const ExpandQuery = Type.Object({ expand: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false });
const VariationQuery = Type.Object({ expand: Type.Optional(Type.Literal('stock_item', { description: 'stock_item: include the stock item' })) }, { additionalProperties: false });
const NoQuery = Type.Object({}, { additionalProperties: false });
const ProductParams = Type.Object({ id: IdParam });
const VariationParams = Type.Object({ id: IdParam, vid: IdParam });
const Deleted = Type.Object({ data: Type.Object({ id: Type.Integer(), deleted: Type.Literal(true) }) }, { title: 'Deleted' });

export const productsRoutes: FastifyPluginAsyncTypebox<CatalogueRoutesOptions> = async (app, options) => {
  const { database, sink } = options;
  const tags = ['products'];
  const hide = options.hide ?? false;
  const ctx = (request: { auth: { storeId: number; userId: number } }): service.CatalogueContext => ({ database, storeId: request.auth.storeId, userId: request.auth.userId, sink });
  const answer = async (storeId: number, productId: number, expands: readonly (typeof PRODUCT_EXPANDS)[number][] = []) => {
    const parts = await loadProduct(database.kysely, storeId, productId, expands);
    if (!parts) throw notFound('Product', productId);
    return { data: renderProduct(parts, expands) };
  };

  app.get('/products', {
    schema: { operationId: 'listProducts', tags, hide, summary: 'List products', querystring: ListQuery, response: { 200: Many(Product), ...errorResponses } },
  }, async (request) => {
    const expands = parseExpand(request.query.expand, PRODUCT_EXPANDS);
    const { page, meta } = await pageFor(database, request, 'products', PRODUCT_LIST);
    const parts = await loadProducts(database.kysely, request.auth.storeId, page.rows, expands);
    return { data: parts.map((p) => renderProduct(p, expands)), meta };
  });

  app.post('/products', {
    schema: { operationId: 'createProduct', tags, hide, summary: 'Create a product (with its stock item)', body: CreateProductBody, querystring: NoQuery, response: { 200: One(Product), ...errorResponses } },
  }, async (request) => {
    const id = await service.createProduct(ctx(request), request.body);
    return answer(request.auth.storeId, id, ['stock_item']);
  });

  app.get('/products/:id', {
    schema: { operationId: 'getProduct', tags, hide, summary: 'One product', params: ProductParams, querystring: ExpandQuery, response: { 200: One(Product), ...errorResponses } },
  }, async (request) => answer(request.auth.storeId, Number(request.params.id), parseExpand(request.query.expand, PRODUCT_EXPANDS)));

  app.patch('/products/:id', {
    schema: { operationId: 'updateProduct', tags, hide, summary: 'Change a product', params: ProductParams, querystring: NoQuery, body: PatchProductBody, response: { 200: One(Product), ...errorResponses } },
  }, async (request) => {
    await service.updateProduct(ctx(request), Number(request.params.id), request.body);
    return answer(request.auth.storeId, Number(request.params.id));
  });

  app.delete('/products/:id', {
    schema: { operationId: 'deleteProduct', tags, hide, summary: 'Delete a product, its variations and stock items (refused while open orders hold it)', params: ProductParams, querystring: NoQuery, response: { 200: Deleted, ...errorResponses } },
  }, async (request) => {
    await service.deleteProduct(ctx(request), Number(request.params.id));
    return { data: { id: Number(request.params.id), deleted: true as const } };
  });

  const variationAnswer = async (storeId: number, productId: number, variationId: number, withStock: boolean) => {
    const row = await database.kysely.selectFrom('variations').selectAll().where('store_id', '=', storeId).where('product_id', '=', productId).where('id', '=', variationId).executeTakeFirst();
    if (!row) throw notFound('Variation', variationId);
    const stock = withStock ? (await stockItemsOf(database.kysely, storeId, [productId])).find((s) => s.variation_id === row.id) : undefined;
    return { data: renderVariation(row, stock) };
  };
  const requireProduct = async (storeId: number, productId: number) => {
    const found = await database.kysely.selectFrom('products').select('id').where('store_id', '=', storeId).where('id', '=', productId).executeTakeFirst();
    if (!found) throw notFound('Product', productId);
  };

  app.get('/products/:id/variations', {
    schema: { operationId: 'listVariations', tags, hide, summary: "A product's variations", params: ProductParams, querystring: VariationListQuery, response: { 200: Many(Variation), ...errorResponses } },
  }, async (request) => {
    const productId = Number(request.params.id);
    await requireProduct(request.auth.storeId, productId);
    const { page, meta } = await pageFor(database, request, 'variations', VARIATION_LIST, { product_id: productId });
    return { data: page.rows.map((v) => renderVariation(v)), meta };
  });

  app.post('/products/:id/variations', {
    schema: { operationId: 'createVariation', tags, hide, summary: 'Add a variation (with its own product code and stock item)', params: ProductParams, querystring: NoQuery, body: CreateVariationBody, response: { 200: One(Variation), ...errorResponses } },
  }, async (request) => {
    const productId = Number(request.params.id);
    const id = await service.createVariation(ctx(request), productId, request.body);
    return variationAnswer(request.auth.storeId, productId, id, true);
  });

  app.get('/products/:id/variations/:vid', {
    schema: { operationId: 'getVariation', tags, hide, summary: 'One variation', params: VariationParams, querystring: VariationQuery, response: { 200: One(Variation), ...errorResponses } },
  }, async (request) => variationAnswer(request.auth.storeId, Number(request.params.id), Number(request.params.vid), request.query.expand === 'stock_item'));

  app.patch('/products/:id/variations/:vid', {
    schema: { operationId: 'updateVariation', tags, hide, summary: 'Change a variation', params: VariationParams, querystring: NoQuery, body: PatchVariationBody, response: { 200: One(Variation), ...errorResponses } },
  }, async (request) => {
    await service.updateVariation(ctx(request), Number(request.params.id), Number(request.params.vid), request.body);
    return variationAnswer(request.auth.storeId, Number(request.params.id), Number(request.params.vid), false);
  });

  app.delete('/products/:id/variations/:vid', {
    schema: { operationId: 'deleteVariation', tags, hide, summary: 'Delete a variation and its stock item (refused while open orders hold it)', params: VariationParams, querystring: NoQuery, response: { 200: Deleted, ...errorResponses } },
  }, async (request) => {
    await service.deleteVariation(ctx(request), Number(request.params.id), Number(request.params.vid));
    return { data: { id: Number(request.params.vid), deleted: true as const } };
  });
};
