// The new topics (product.*, stock_item.*, customer.*): written in the change's transaction, one
// message per matching subscription, the body the resource with the subscription's expands; and
// customers, customer groups and the read-only catalogue resources, with tenancy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from '../helpers/database.js';
import { api, PUBLIC_TARGET, startHarness, subscribe, type Credentials, type Harness } from '../helpers/webhooks-app.js';

forEachDialect('catalogue topics, customers and read-only resources', (dialect) => {
  let h: Harness;
  let other: Credentials;
  before(async () => {
    h = await startHarness(dialect);
    other = await h.addStore();
  });
  after(async () => {
    await h?.close();
  });
  /** the bodies of the store's messages of `topic`, oldest first. */
  const messages = async (topic: string) =>
    (await h.database.kysely.selectFrom('webhook_messages').select(['body', 'order_id']).where('store_id', '=', h.storeId).where('topic', '=', topic).orderBy('id').execute()).map((m) => JSON.parse(m.body));

  describe('topics', () => {
    it('the catalogue lists the new topics with their expands and an example of their resource', async () => {
      const topics = (await api(h, 'GET', '/api/v1/webhooks/topics')).body.data as { name: string; resource: string; expands: string[]; example: { data: Record<string, unknown> } }[];
      const byName = new Map(topics.map((t) => [t.name, t]));
      for (const name of ['product.created', 'product.updated', 'product.deleted', 'stock_item.updated', 'stock_item.low', 'customer.created', 'customer.updated']) assert.ok(byName.has(name), name);
      assert.ok(byName.get('product.created')!.expands.includes('variations.stock_item'));
      assert.equal(byName.get('stock_item.low')!.example.data.product_code, 'COFFEE-DARK-500');
      assert.equal(byName.get('customer.created')!.resource, 'customer');
      assert.equal((await api(h, 'POST', '/api/v1/webhooks', { topic: 'product.created', url: PUBLIC_TARGET, expands: ['shipments'] })).status, 400);
    });

    it('product and stock changes, including orders, emit their topics with the subscription expands', async () => {
      await subscribe(h, 'product.created', `${PUBLIC_TARGET}/p`, ['stock_item']);
      await subscribe(h, 'product.updated', `${PUBLIC_TARGET}/p`);
      await subscribe(h, 'product.deleted', `${PUBLIC_TARGET}/p`);
      await subscribe(h, 'stock_item.updated', `${PUBLIC_TARGET}/s`, ['product']);
      await subscribe(h, 'stock_item.low', `${PUBLIC_TARGET}/s`);
      const p = (await api(h, 'POST', '/api/v1/products', { product_code: 'T-1', name: 'Topic', price: 5, stock_item: { quantity: 5, balance_alert: 3 } })).body.data;
      const [created] = await messages('product.created');
      assert.equal(created.data.id, p.id);
      assert.equal(created.data.stock_item.quantity, 5);
      await api(h, 'PATCH', `/api/v1/products/${p.id}`, { name: 'Renamed' });
      assert.equal((await messages('product.updated')).at(-1).data.name, 'Renamed');

      const order = await api(h, 'POST', '/api/v1/orders', { customer_information: { first_name: 'A' }, products: [{ product_code: 'T-1', product_name: 'Topic', quantity: 3, unit_price: 5 }] });
      assert.equal(order.status, 200);
      const updates = await messages('stock_item.updated');
      assert.deepEqual(updates.map((m) => m.data.balance), [5, 2], 'created with 5, then the order reserved 3');
      assert.equal(updates.at(-1).data.product.name, 'Renamed');
      const low = await messages('stock_item.low');
      assert.equal(low.length, 1, 'the balance crossed below 3 once');
      await api(h, 'PATCH', '/api/v1/stock/T-1', { quantity: 4 });
      assert.equal((await messages('stock_item.low')).length, 1, 'still below the alert: no second low');
      await api(h, 'POST', `/api/v1/orders/${order.body.data.id}/cancel`);
      assert.deepEqual((await messages('stock_item.updated')).map((m) => m.data.balance), [5, 2, 1, 4]);

      await api(h, 'DELETE', `/api/v1/products/${p.id}`);
      assert.equal((await messages('product.deleted'))[0].data.name, 'Renamed');
    });

    it('a refused change emits nothing', async () => {
      const before = (await messages('product.created')).length;
      assert.equal((await api(h, 'POST', '/api/v1/products', { product_code: 'T-2', name: 'x', price: 1 })).status, 200);
      assert.equal((await api(h, 'POST', '/api/v1/products', { product_code: 'T-2', name: 'x', price: 1 })).status, 409);
      assert.equal((await messages('product.created')).length, before + 1);
    });
  });

  describe('customers', () => {
    it('creates, reads with customer_groups, updates; e-mail unique; topics; another store sees 404', async () => {
      await subscribe(h, 'customer.created', `${PUBLIC_TARGET}/c`, ['customer_groups']);
      await subscribe(h, 'customer.updated', `${PUBLIC_TARGET}/c`);
      const group = (await api(h, 'POST', '/api/v1/customer-groups', { name: 'Wholesale' })).body.data;
      const res = await api(h, 'POST', '/api/v1/customers', { email: 'maija@example.com', first_name: 'Maija', country: 'FI', customer_group_ids: [group.id] });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const c = res.body.data;
      assert.deepEqual(c.customer_groups.map((g: { name: string }) => g.name), ['Wholesale']);
      assert.equal((await messages('customer.created'))[0].data.customer_groups[0].id, group.id);
      assert.equal((await api(h, 'POST', '/api/v1/customers', { email: 'maija@example.com' })).status, 409);
      assert.equal((await api(h, 'POST', '/api/v1/customers', { email: 'x@example.com', age: 3 })).status, 400);
      assert.equal((await api(h, 'POST', '/api/v1/customers', { email: 'y@example.com', customer_group_ids: [999999] })).status, 400);
      const patched = await api(h, 'PATCH', `/api/v1/customers/${c.id}`, { city: 'Tampere', newsletter: true });
      assert.deepEqual([patched.body.data.city, patched.body.data.newsletter], ['Tampere', true]);
      assert.equal((await messages('customer.updated')).at(-1).data.city, 'Tampere');
      assert.equal((await api(h, 'GET', `/api/v1/customers?expand=customer_groups&page_size=1`)).body.meta.item_count, 1);
      assert.equal((await api(h, 'GET', `/api/v1/customers/${c.id}`, undefined, other)).status, 404);
      assert.equal((await api(h, 'PATCH', `/api/v1/customers/${c.id}`, { city: 'x' }, other)).status, 404);
      assert.equal((await api(h, 'GET', `/api/v1/customer-groups/${group.id}`, undefined, other)).status, 404);
    });
  });

  describe('read-only and small resources', () => {
    it('lists and gets brands, suppliers, categories, campaigns, versions and the methods orders name', async () => {
      const cat = await api(h, 'POST', '/api/v1/categories', { name: 'Coffee' });
      assert.equal(cat.status, 200);
      assert.equal((await api(h, 'POST', '/api/v1/categories', { name: 'Dark', parent_id: 999999 })).status, 400);
      assert.equal((await api(h, 'POST', '/api/v1/suppliers', { name: 'Roaster Oy', email: 'x@example.com' })).status, 200);
      assert.equal((await api(h, 'PATCH', `/api/v1/categories/${cat.body.data.id}`, { visible: false })).body.data.visible, false);
      assert.deepEqual((await api(h, 'GET', `/api/v1/categories?expand=visibilities`)).body.data[0].visibilities, [{ version_id: 1, visible: false }]);
      assert.deepEqual((await api(h, 'GET', '/api/v1/versions')).body.data.map((v: { id: number }) => v.id), [1]);
      assert.equal((await api(h, 'GET', '/api/v0/campaigns?expand=prices,visibilities')).body.meta.item_count, 0);
      const shipping = (await api(h, 'GET', '/api/v1/shipping-methods?page_size=2')).body;
      assert.deepEqual([shipping.data.length, shipping.meta.item_count, typeof shipping.meta.next], [2, 3, 'string']);
      assert.equal((await api(h, 'GET', '/api/v1/payment-methods/1')).body.data.name, 'Lasku');
      assert.equal((await api(h, 'GET', '/api/v1/payment-methods/99')).status, 404);
      assert.equal((await api(h, 'POST', '/api/v1/versions', { name: 'x' })).status, 404);
      assert.equal((await api(h, 'GET', `/api/v1/categories/${cat.body.data.id}`, undefined, other)).status, 404);
      assert.equal((await api(h, 'GET', '/api/v1/brands?sort=name-asc')).status, 400);
    });
  });
});
