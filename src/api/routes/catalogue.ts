/**
 * The small catalogue resources (docs/api.md "Brands, categories, …"): brands, suppliers and
 * categories (list, get, create, update), campaigns, versions, payment and shipping methods (list, get).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import { Brand, BrandBody, Campaign, Category, CategoryBody, PatchBrandBody, PatchCategoryBody, PatchSupplierBody, PaymentMethod, ShippingMethod, Supplier, SupplierBody, Version } from '../../catalogue/contract.js';
import { findNamed, insertNamed, patchNamed, renderBrand, renderCampaign, renderCategory, renderPaymentMethod, renderShippingMethod, renderSupplier, renderVersion, storeVersionIds, type WritableTable } from '../../catalogue/named.js';
import type { Database } from '../../db/connection.js';
import type { Schema } from '../../db/schema.js';
import { notFound } from '../../errors.js';
import { listQueryProperties, pageFor, type ListShape } from '../resource-list.js';
import { parseExpand } from '../query.js';
import { errorResponses, IdParam, Many, One } from '../schemas/common.js';
import type { CatalogueRoutesOptions } from './products.js';

type Readable = WritableTable | 'campaigns' | 'versions' | 'payment_methods' | 'shipping_methods';
type RowOf<T extends Readable> = import('kysely').Selectable<Schema[T]>;

interface ResourceSpec<T extends Readable> {
  table: T;
  path: string;
  /** singular and plural operation names: getBrand, listBrands. */
  names: [string, string];
  what: string;
  schema: TSchema;
  expands: readonly string[];
  render(row: RowOf<T>, expands: readonly string[], versionIds: number[]): unknown;
  write?: { create: TSchema; patch: TSchema };
}

const LIST: ListShape = { sortFields: ['id', 'updated_at'], rangeFields: ['updated_at'], stampFields: [] };
const NoQuery = Type.Object({}, { additionalProperties: false });
const Params = Type.Object({ id: IdParam });

function spec<T extends Readable>(s: ResourceSpec<T>): ResourceSpec<T> {
  return s;
}

const RESOURCES = [
  spec({ table: 'brands', path: '/brands', names: ['Brand', 'Brands'], what: 'Brand', schema: Brand, expands: [], render: (r) => renderBrand(r), write: { create: BrandBody, patch: PatchBrandBody } }),
  spec({ table: 'suppliers', path: '/suppliers', names: ['Supplier', 'Suppliers'], what: 'Supplier', schema: Supplier, expands: [], render: (r) => renderSupplier(r), write: { create: SupplierBody, patch: PatchSupplierBody } }),
  spec({ table: 'categories', path: '/categories', names: ['Category', 'Categories'], what: 'Category', schema: Category, expands: ['visibilities'], render: (r, e, v) => renderCategory(r, e.includes('visibilities') ? v : undefined), write: { create: CategoryBody, patch: PatchCategoryBody } }),
  spec({ table: 'campaigns', path: '/campaigns', names: ['Campaign', 'Campaigns'], what: 'Campaign', schema: Campaign, expands: ['prices', 'visibilities'], render: (r, e, v) => renderCampaign(r, e, v) }),
  spec({ table: 'versions', path: '/versions', names: ['Version', 'Versions'], what: 'Version', schema: Version, expands: [], render: (r) => renderVersion(r) }),
  spec({ table: 'payment_methods', path: '/payment-methods', names: ['PaymentMethod', 'PaymentMethods'], what: 'Payment method', schema: PaymentMethod, expands: [], render: (r) => renderPaymentMethod(r) }),
  spec({ table: 'shipping_methods', path: '/shipping-methods', names: ['ShippingMethod', 'ShippingMethods'], what: 'Shipping method', schema: ShippingMethod, expands: [], render: (r) => renderShippingMethod(r) }),
] as const;

function register<T extends Readable>(app: Parameters<FastifyPluginAsyncTypebox<CatalogueRoutesOptions>>[0], database: Database, hide: boolean, r: ResourceSpec<T>): void {
  const tags = ['catalogue'];
  const expandProp: Record<string, TSchema> = r.expands.length ? { expand: Type.Optional(Type.String({ maxLength: 100, description: `comma list of ${r.expands.join(', ')}` })) } : {};
  const ListQuery = Type.Object({ ...listQueryProperties(LIST), ...expandProp }, { additionalProperties: false });
  const ExpandQuery = Type.Object(expandProp, { additionalProperties: false });
  const show = async (storeId: number, rows: RowOf<T>[], rawExpand: unknown) => {
    const expands = parseExpand(rawExpand as string | undefined, r.expands);
    const versions = expands.includes('visibilities') ? await storeVersionIds(database.kysely, storeId) : [];
    return rows.map((row) => r.render(row, expands, versions));
  };
  const one = async (storeId: number, id: number, rawExpand?: unknown) => {
    const row = await findNamed(database.kysely, r.table, storeId, id);
    if (!row) throw notFound(r.what, id);
    return { data: (await show(storeId, [row], rawExpand))[0] };
  };

  app.get(r.path, {
    schema: { operationId: `list${r.names[1]}`, tags, hide, summary: `List ${r.what.toLowerCase()}s`, querystring: ListQuery, response: { 200: Many(r.schema), ...errorResponses } },
  }, async (request) => {
    const { page, meta } = await pageFor(database, request, r.table, LIST);
    return { data: await show(request.auth.storeId, page.rows as RowOf<T>[], (request.query as { expand?: string }).expand), meta };
  });
  app.get(`${r.path}/:id`, {
    schema: { operationId: `get${r.names[0]}`, tags, hide, summary: `One ${r.what.toLowerCase()}`, params: Params, querystring: ExpandQuery, response: { 200: One(r.schema), ...errorResponses } },
  }, async (request) => one(request.auth.storeId, (request.params as { id: number }).id, (request.query as { expand?: string }).expand));
  const write = r.write;
  if (!write || (r.table !== 'brands' && r.table !== 'suppliers' && r.table !== 'categories')) return;
  const table = r.table as WritableTable;
  app.post(r.path, {
    schema: { operationId: `create${r.names[0]}`, tags, hide, summary: `Create a ${r.what.toLowerCase()}`, querystring: NoQuery, body: write.create, response: { 200: One(r.schema), ...errorResponses } },
  }, async (request) => one(request.auth.storeId, await insertNamed(database.kysely, table, request.auth.storeId, request.body as Record<string, unknown>)));
  app.patch(`${r.path}/:id`, {
    schema: { operationId: `update${r.names[0]}`, tags, hide, summary: `Change a ${r.what.toLowerCase()}`, params: Params, querystring: NoQuery, body: write.patch, response: { 200: One(r.schema), ...errorResponses } },
  }, async (request) => {
    const id = (request.params as { id: number }).id;
    if (!(await patchNamed(database.kysely, table, request.auth.storeId, id, request.body as Record<string, unknown>))) throw notFound(r.what, id);
    return one(request.auth.storeId, id);
  });
}

export const catalogueRoutes: FastifyPluginAsyncTypebox<CatalogueRoutesOptions> = async (app, options) => {
  for (const r of RESOURCES) register(app, options.database, options.hide ?? false, r as ResourceSpec<Readable>);
};
