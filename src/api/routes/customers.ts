/** Customers and customer groups (docs/api.md "Customers"), under /api/v1 and (hidden) /api/v0. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { insertNamed, patchNamed } from '../../catalogue/named.js';
import { CreateCustomerBody, Customer, CUSTOMER_EXPANDS, CustomerGroup, CustomerGroupBody, PatchCustomerBody, PatchCustomerGroupBody } from '../../customers/contract.js';
import * as service from '../../customers/service.js';
import { notFound } from '../../errors.js';
import { listQueryProperties, pageFor, type ListShape } from '../resource-list.js';
import { parseExpand } from '../query.js';
import { errorResponses, IdParam, Many, One } from '../schemas/common.js';
import type { CatalogueRoutesOptions } from './products.js';

const CUSTOMER_LIST: ListShape = { sortFields: ['id', 'created_at', 'updated_at'], rangeFields: ['created_at', 'updated_at'], stampFields: ['created_at', 'updated_at'] };
const GROUP_LIST: ListShape = { sortFields: ['id'], rangeFields: [], stampFields: [] };
const Expand = { expand: Type.Optional(Type.String({ maxLength: 100, description: `comma list of ${CUSTOMER_EXPANDS.join(', ')}` })) };
const ListQuery = Type.Object({ ...listQueryProperties(CUSTOMER_LIST), ...Expand }, { additionalProperties: false });
const GroupListQuery = Type.Object(listQueryProperties(GROUP_LIST), { additionalProperties: false });
const ExpandQuery = Type.Object(Expand, { additionalProperties: false });
const NoQuery = Type.Object({}, { additionalProperties: false });
const Params = Type.Object({ id: IdParam });

export const customersRoutes: FastifyPluginAsyncTypebox<CatalogueRoutesOptions> = async (app, options) => {
  const { database, sink } = options;
  const tags = ['customers'];
  const hide = options.hide ?? false;
  const ctx = (request: { auth: { storeId: number } }): service.CustomerContext => ({ database, storeId: request.auth.storeId, sink });
  const answer = async (storeId: number, id: number, rawExpand?: string) => {
    const row = await service.findCustomer(database.kysely, storeId, id);
    if (!row) throw notFound('Customer', id);
    const [data] = await service.renderCustomers(database.kysely, storeId, [row], parseExpand(rawExpand, CUSTOMER_EXPANDS));
    return { data: data! };
  };

  app.get('/customers', {
    schema: { operationId: 'listCustomers', tags, hide, summary: 'List customers', querystring: ListQuery, response: { 200: Many(Customer), ...errorResponses } },
  }, async (request) => {
    const expands = parseExpand(request.query.expand, CUSTOMER_EXPANDS);
    const { page, meta } = await pageFor(database, request, 'customers', CUSTOMER_LIST);
    return { data: await service.renderCustomers(database.kysely, request.auth.storeId, page.rows, expands), meta };
  });
  app.post('/customers', {
    schema: { operationId: 'createCustomer', tags, hide, summary: 'Create a customer (e-mail unique in the store)', body: CreateCustomerBody, querystring: NoQuery, response: { 200: One(Customer), ...errorResponses } },
  }, async (request) => answer(request.auth.storeId, await service.createCustomer(ctx(request), request.body), 'customer_groups'));
  app.get('/customers/:id', {
    schema: { operationId: 'getCustomer', tags, hide, summary: 'One customer', params: Params, querystring: ExpandQuery, response: { 200: One(Customer), ...errorResponses } },
  }, async (request) => answer(request.auth.storeId, Number(request.params.id), request.query.expand));
  app.patch('/customers/:id', {
    schema: { operationId: 'updateCustomer', tags, hide, summary: 'Change a customer', params: Params, querystring: NoQuery, body: PatchCustomerBody, response: { 200: One(Customer), ...errorResponses } },
  }, async (request) => {
    await service.updateCustomer(ctx(request), Number(request.params.id), request.body);
    return answer(request.auth.storeId, Number(request.params.id), 'customer_groups');
  });

  const group = async (storeId: number, id: number) => {
    const row = await database.kysely.selectFrom('customer_groups').selectAll().where('store_id', '=', storeId).where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('Customer group', id);
    return { data: service.renderCustomerGroup(row) };
  };
  app.get('/customer-groups', {
    schema: { operationId: 'listCustomerGroups', tags, hide, summary: 'List customer groups', querystring: GroupListQuery, response: { 200: Many(CustomerGroup), ...errorResponses } },
  }, async (request) => {
    const { page, meta } = await pageFor(database, request, 'customer_groups', GROUP_LIST);
    return { data: page.rows.map(service.renderCustomerGroup), meta };
  });
  app.post('/customer-groups', {
    schema: { operationId: 'createCustomerGroup', tags, hide, summary: 'Create a customer group', body: CustomerGroupBody, querystring: NoQuery, response: { 200: One(CustomerGroup), ...errorResponses } },
  }, async (request) => group(request.auth.storeId, await insertNamed(database.kysely, 'customer_groups', request.auth.storeId, request.body)));
  app.get('/customer-groups/:id', {
    schema: { operationId: 'getCustomerGroup', tags, hide, summary: 'One customer group', params: Params, querystring: NoQuery, response: { 200: One(CustomerGroup), ...errorResponses } },
  }, async (request) => group(request.auth.storeId, Number(request.params.id)));
  app.patch('/customer-groups/:id', {
    schema: { operationId: 'updateCustomerGroup', tags, hide, summary: 'Change a customer group', params: Params, querystring: NoQuery, body: PatchCustomerGroupBody, response: { 200: One(CustomerGroup), ...errorResponses } },
  }, async (request) => {
    if (!(await patchNamed(database.kysely, 'customer_groups', request.auth.storeId, Number(request.params.id), request.body))) throw notFound('Customer group', request.params.id);
    return group(request.auth.storeId, Number(request.params.id));
  });
};
