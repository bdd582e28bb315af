/**
 * The `storehook trigger` scenarios of the topics beyond orders: each makes a fresh sample
 * product or customer through the public API and, for most topics, changes it, so the real
 * message is sent by the real change (trigger.ts runs them).
 */
import { CATALOGUE_TOPICS, type CatalogueTopic } from '../catalogue/topics.js';
import type { Product, StorehookClient } from '../client/index.js';
import { CUSTOMER_TOPICS, type CustomerTopic } from '../customers/topics.js';
import type { TriggerStep } from './trigger.js';

export type ResourceTopic = CatalogueTopic | CustomerTopic;
export const RESOURCE_TOPICS: readonly ResourceTopic[] = [...CATALOGUE_TOPICS, ...CUSTOMER_TOPICS];

export interface ResourceScenario {
  /** what the topic's messages are about */
  resource: 'product' | 'stock_item' | 'customer';
  describe: string;
  /** makes the change; resolves with the id of the resource the topic is about and every topic emitted, in order */
  run(api: StorehookClient, log: (s: TriggerStep) => void): Promise<{ id: number; emitted: ResourceTopic[] }>;
}

const suffix = () => Math.random().toString(36).slice(2, 8).toUpperCase();

/** A sample product with 10 units on the shelf (so a stock_item.updated too); `balanceAlert` arms stock_item.low. */
async function sampleProduct(api: StorehookClient, log: (s: TriggerStep) => void, balanceAlert: number | null = null): Promise<Product> {
  const p = await api.products.create({
    product_code: `TRIGGER-${suffix()}`,
    name: 'Sample product made by storehook trigger',
    description: 'Made by `storehook trigger`.',
    price: 24.9,
    vat_rate: 25.5,
    weight: 0.4,
    stock_item: { quantity: 10, balance_alert: balanceAlert },
  });
  log({ action: `created sample product ${p.id} (${p.product_code})`, method: 'POST', path: '/products', result: `${p.price.toFixed(2)}, stock ${p.stock_item?.quantity ?? 0}` });
  return p;
}

const PRODUCT_CREATED: ResourceTopic[] = ['product.created', 'stock_item.updated'];

async function sampleCustomer(api: StorehookClient, log: (s: TriggerStep) => void): Promise<number> {
  const email = `trigger-${suffix().toLowerCase()}@example.com`;
  const c = await api.customers.create({ email, first_name: 'Maija', last_name: 'Meikäläinen', city: 'Helsinki', country: 'FI', language: 'fi' });
  log({ action: `created sample customer ${c.id}`, method: 'POST', path: '/customers', result: email });
  return c.id;
}

export const RESOURCE_SCENARIOS: Record<ResourceTopic, ResourceScenario> = {
  'product.created': {
    resource: 'product',
    describe: 'creates a sample product with its stock',
    run: async (api, log) => ({ id: (await sampleProduct(api, log)).id, emitted: PRODUCT_CREATED }),
  },
  'product.updated': {
    resource: 'product',
    describe: 'changes the price and description of a sample product',
    run: async (api, log) => {
      const p = await sampleProduct(api, log);
      const after = await api.products.update(p.id, { price: 19.9, description: `Updated by storehook trigger at ${new Date().toISOString()}` });
      log({ action: `changed price and description of product ${p.id}`, method: 'PATCH', path: `/products/${p.id}`, result: `price ${after.price.toFixed(2)}` });
      return { id: p.id, emitted: [...PRODUCT_CREATED, 'product.updated'] };
    },
  },
  'product.deleted': {
    resource: 'product',
    describe: 'deletes a sample product',
    run: async (api, log) => {
      const p = await sampleProduct(api, log);
      await api.products.delete(p.id);
      log({ action: `deleted product ${p.id}`, method: 'DELETE', path: `/products/${p.id}`, result: 'deleted' });
      return { id: p.id, emitted: [...PRODUCT_CREATED, 'product.deleted'] };
    },
  },
  'stock_item.updated': {
    resource: 'stock_item',
    describe: "sets a sample product's stock quantity by its product code",
    run: async (api, log) => {
      const p = await sampleProduct(api, log);
      const path = `/stock/${encodeURIComponent(p.product_code)}`;
      const item = await api.stock.update(p.product_code, { quantity: 25 });
      log({ action: `set the stock of ${p.product_code}`, method: 'PATCH', path, result: `quantity ${item.quantity}, balance ${item.balance}` });
      return { id: item.id, emitted: [...PRODUCT_CREATED, 'stock_item.updated'] };
    },
  },
  'stock_item.low': {
    resource: 'stock_item',
    describe: "takes a sample product's balance below its balance_alert",
    run: async (api, log) => {
      const p = await sampleProduct(api, log, 5);
      const path = `/stock/${encodeURIComponent(p.product_code)}`;
      const item = await api.stock.update(p.product_code, { quantity: 3 });
      log({ action: `lowered the stock of ${p.product_code}`, method: 'PATCH', path, result: `balance ${item.balance}, balance_alert ${item.balance_alert ?? '-'}` });
      return { id: item.id, emitted: [...PRODUCT_CREATED, 'stock_item.updated', 'stock_item.low'] };
    },
  },
  'customer.created': {
    resource: 'customer',
    describe: 'creates a sample customer',
    run: async (api, log) => ({ id: await sampleCustomer(api, log), emitted: ['customer.created'] }),
  },
  'customer.updated': {
    resource: 'customer',
    describe: "changes a sample customer's address",
    run: async (api, log) => {
      const id = await sampleCustomer(api, log);
      const after = await api.customers.update(id, { street_address: 'Hämeenkatu 1', postal_code: '33100', city: 'Tampere' });
      log({ action: `changed the address of customer ${id}`, method: 'PATCH', path: `/customers/${id}`, result: `city ${after.city}` });
      return { id, emitted: ['customer.created', 'customer.updated'] };
    },
  },
};
