/** Stock items, `PATCH /stock/{product_code}` and the stock ledger (docs/api.md "Stock"). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PatchStockBody, StockChange, StockItem, STOCK_ITEM_EXPANDS } from '../../catalogue/contract.js';
import { renderStockChange } from '../../catalogue/render.js';
import { findStockItem } from '../../catalogue/repository.js';
import * as service from '../../catalogue/service.js';
import { stockItemEvent } from '../../catalogue/stock.js';
import type { StockItemRow } from '../../db/schema.js';
import { notFound } from '../../errors.js';
import { listQueryProperties, pageFor, type ListShape } from '../resource-list.js';
import { parseExpand } from '../query.js';
import { errorResponses, IdParam, Many, One } from '../schemas/common.js';
import type { CatalogueRoutesOptions } from './products.js';

const ITEM_LIST: ListShape = { sortFields: ['id', 'updated_at'], rangeFields: ['updated_at'], stampFields: ['updated_at'] };
const CHANGE_LIST: ListShape = { sortFields: ['id', 'changed_at'], rangeFields: ['changed_at'], stampFields: ['changed_at'], maxPageSize: 10_000 };

const Expand = { expand: Type.Optional(Type.String({ maxLength: 100, description: `comma list of ${STOCK_ITEM_EXPANDS.join(', ')}` })) };
const ItemListQuery = Type.Object({ ...listQueryProperties(ITEM_LIST), ...Expand }, { additionalProperties: false });
const ChangeListQuery = Type.Object(listQueryProperties(CHANGE_LIST), { additionalProperties: false });
const ExpandQuery = Type.Object(Expand, { additionalProperties: false });
const NoQuery = Type.Object({}, { additionalProperties: false });
const CodeParams = Type.Object({ product_code: Type.String({ minLength: 1, maxLength: 100, description: 'the product or variation code (URL-encoded)' }) });

export const stockRoutes: FastifyPluginAsyncTypebox<CatalogueRoutesOptions> = async (app, options) => {
  const { database, sink } = options;
  const tags = ['stock'];
  const hide = options.hide ?? false;
  const ctx = (request: { auth: { storeId: number; userId: number } }): service.CatalogueContext => ({ database, storeId: request.auth.storeId, userId: request.auth.userId, sink });
  /** Renders like a stock_item.updated message, so GET answers and messages never differ. */
  const show = async (storeId: number, item: StockItemRow, rawExpand: string | undefined) =>
    ({ data: (await stockItemEvent(storeId, 'stock_item.updated', item).render(database.kysely, parseExpand(rawExpand, STOCK_ITEM_EXPANDS))) as StockItem });

  app.get('/stock-items', {
    schema: { operationId: 'listStockItems', tags, hide, summary: 'List stock items', querystring: ItemListQuery, response: { 200: Many(StockItem), ...errorResponses } },
  }, async (request) => {
    const { page, meta } = await pageFor(database, request, 'stock_items', ITEM_LIST);
    const data = await Promise.all(page.rows.map(async (row) => (await show(request.auth.storeId, row, request.query.expand)).data));
    return { data, meta };
  });

  app.get('/stock-items/:id', {
    schema: { operationId: 'getStockItem', tags, hide, summary: 'One stock item', params: Type.Object({ id: IdParam }), querystring: ExpandQuery, response: { 200: One(StockItem), ...errorResponses } },
  }, async (request) => {
    const item = await findStockItem(database.kysely, request.auth.storeId, { id: Number(request.params.id) });
    if (!item) throw notFound('Stock item', request.params.id);
    return show(request.auth.storeId, item, request.query.expand);
  });

  app.patch('/stock-items/:id', {
    schema: { operationId: 'updateStockItem', tags, hide, summary: 'Set quantity or balance, or the stock settings', params: Type.Object({ id: IdParam }), querystring: NoQuery, body: PatchStockBody, response: { 200: One(StockItem), ...errorResponses } },
  }, async (request) => show(request.auth.storeId, await service.updateStock(ctx(request), { id: Number(request.params.id) }, request.body), undefined));

  app.get('/stock/:product_code', {
    schema: { operationId: 'getStockByProductCode', tags, hide, summary: 'The stock item of a product code', params: CodeParams, querystring: ExpandQuery, response: { 200: One(StockItem), ...errorResponses } },
  }, async (request) => {
    const item = await findStockItem(database.kysely, request.auth.storeId, { productCode: request.params.product_code });
    if (!item) throw notFound('Product code', JSON.stringify(request.params.product_code));
    return show(request.auth.storeId, item, request.query.expand);
  });

  app.patch('/stock/:product_code', {
    schema: { operationId: 'updateStockByProductCode', tags, hide, summary: 'Set the stock of a product code: {"quantity": n} or {"balance": n} (ERP stock sync)', params: CodeParams, querystring: NoQuery, body: PatchStockBody, response: { 200: One(StockItem), ...errorResponses } },
  }, async (request) => show(request.auth.storeId, await service.updateStock(ctx(request), { productCode: request.params.product_code }, request.body), undefined));

  app.get('/stock-changes', {
    schema: { operationId: 'listStockChanges', tags, hide, summary: 'The stock ledger: one row per change (order placed, cancelled, delivered; manual)', querystring: ChangeListQuery, response: { 200: Many(StockChange), ...errorResponses } },
  }, async (request) => {
    const { page, meta } = await pageFor(database, request, 'stock_changes', CHANGE_LIST);
    return { data: page.rows.map(renderStockChange), meta };
  });
};
