// storehook/client for the rest of the store, against a live server with the demo catalogue:
// products and variations (the whole life of one), stock by product code and by id, the stock
// ledger followed over several pages, customers with their groups, and the small resources.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError, StorehookClient, type Product, type StockChange } from '../../src/client/index.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

describe('storehook/client: catalogue, stock and customers', () => {
  let s: LiveServer;
  let api: StorehookClient;
  before(async () => {
    s = await startLiveServer('sqlite');
    const creds = s.server.demoCredentials!;
    api = new StorehookClient({ baseUrl: s.server.url, email: creds.email, apiKey: creds.apiKey });
  });
  after(async () => {
    await s?.close();
  });

  it('lists and reads the products, with expands, over several pages', async () => {
    const codes: string[] = [];
    for await (const p of api.products.listAll({ page_size: 1, sort: 'id-asc', expand: ['variations'] })) {
      codes.push(p.product_code);
      assert.ok(Array.isArray(p.variations), 'the expand carries over to every page');
    }
    assert.deepEqual(codes, ['MUG-1', 'TEE', 'COFFEE-DARK-500']);
    const page = await api.products.list({ id: [1, 3], 'updated_at-to': new Date(Date.now() + 60_000) });
    assert.deepEqual(page.data.map((p) => p.id), [1, 3]);
    const mug = await api.products.get(1, { expand: ['stock_item'] });
    assert.equal(mug.stock_item?.product_code, 'MUG-1');
  });

  it('creates, changes and deletes a product and its variations; a duplicate code is an ApiError 409', async () => {
    const created: Product = await api.products.create({ product_code: 'CAP-1', name: 'Cap', price: 15, vat_rate: 25.5, stock_item: { quantity: 7 } });
    assert.deepEqual([created.name, created.price, created.stock_item?.quantity], ['Cap', 15, 7]);
    assert.equal((await api.products.update(created.id, { name: 'Wool cap', price: 17.5 })).name, 'Wool cap');
    await assert.rejects(api.products.create({ product_code: 'MUG-1', name: 'Again', price: 1 }), (err: unknown) => err instanceof ApiError && err.status === 409 && /MUG-1/.test(err.body.message));

    const red = await api.variations.create(created.id, { product_code: 'CAP-1-RED', name: 'Red', stock_item: { quantity: 3 } });
    await api.variations.create(created.id, { product_code: 'CAP-1-BLUE', name: 'Blue' });
    assert.equal(red.stock_item?.quantity, 3);
    assert.deepEqual((await api.variations.list(created.id)).data.map((v) => v.product_code), ['CAP-1-RED', 'CAP-1-BLUE']);
    assert.equal((await api.variations.update(created.id, red.id, { price: 18 })).price, 18);
    assert.equal((await api.variations.get(created.id, red.id, { expand: 'stock_item' })).stock_item?.quantity, 3);
    assert.deepEqual(await api.variations.delete(created.id, red.id), { id: red.id, deleted: true });
    assert.deepEqual([...(await asArray(api.variations.listAll(created.id, { page_size: 1 })))].map((v) => v.product_code), ['CAP-1-BLUE']);

    assert.deepEqual(await api.products.delete(created.id), { id: created.id, deleted: true });
    await assert.rejects(api.products.get(created.id), (err: unknown) => err instanceof ApiError && err.status === 404);
  });

  it('reads and sets stock by product code and by id, and follows the stock ledger', async () => {
    const before = await api.stock.get('TEE-M', { expand: ['product'] });
    assert.equal(before.product?.product_code, 'TEE');
    const set = await api.stock.update('TEE-M', { quantity: before.quantity + 5 });
    assert.equal(set.quantity, before.quantity + 5);
    assert.equal((await api.stockItems.update(set.id, { balance_alert: 2 })).balance_alert, 2);
    assert.equal((await api.stockItems.get(set.id)).quantity, before.quantity + 5);
    const items = await api.stockItems.list({ page_size: 100, sort: 'id-asc' });
    assert.ok(items.data.some((i) => i.product_code === 'TEE-M'));

    const changes: StockChange[] = [];
    for await (const c of api.stockChanges.listAll({ sort: 'id-asc', page_size: 2, 'changed_at-from': '2000-01-01' })) changes.push(c);
    assert.ok(changes.length > 2, 'more than one page');
    assert.deepEqual(changes.map((c) => c.id), [...changes.map((c) => c.id)].sort((a, b) => a - b));
    const last = changes.at(-1)!;
    assert.deepEqual([last.product_code, last.reason, last.quantity_change], ['TEE-M', 'manual', 5]);
    await assert.rejects(api.stock.get('NO-SUCH-CODE'), (err: unknown) => err instanceof ApiError && err.status === 404);
  });

  it('creates and changes customers with their groups', async () => {
    const group = await api.customerGroups.create({ name: 'Wholesale' });
    assert.equal((await api.customerGroups.update(group.id, { description: 'B2B' })).description, 'B2B');
    const customer = await api.customers.create({ email: 'liisa@example.com', first_name: 'Liisa', customer_group_ids: [group.id] });
    assert.deepEqual(customer.customer_groups?.map((g) => g.name), ['Wholesale']);
    assert.equal((await api.customers.update(customer.id, { city: 'Tampere' })).city, 'Tampere');
    assert.equal((await api.customers.get(customer.id)).customer_groups, undefined, 'groups only when expanded');
    assert.deepEqual((await api.customers.list({ expand: ['customer_groups'] })).data.map((c) => c.customer_groups?.length), [1]);
    assert.deepEqual((await api.customerGroups.list()).data.map((g) => g.id), [group.id]);
  });

  it('brands, suppliers and categories are written; campaigns, versions, payment and shipping methods are read', async () => {
    const brand = await api.brands.create({ name: 'Acme' });
    assert.equal((await api.brands.update(brand.id, { website: 'https://acme.example' })).website, 'https://acme.example');
    const supplier = await api.suppliers.create({ name: 'Tukku Oy', email: 'tilaus@tukku.example' });
    assert.equal((await api.suppliers.get(supplier.id)).email, 'tilaus@tukku.example');
    const parent = await api.categories.create({ name: 'Kitchen' });
    const child = await api.categories.create({ name: 'Mugs', parent_id: parent.id });
    assert.equal((await api.categories.get(child.id, { expand: ['visibilities'] })).visibilities?.[0]?.version_id, 1);
    assert.equal((await api.products.update(1, { brand_id: brand.id, supplier_id: supplier.id, category_ids: [child.id] })).brand_id, brand.id);
    assert.equal((await api.products.get(1, { expand: ['brand'] })).brand?.name, 'Acme');

    assert.deepEqual((await api.campaigns.list()).data, []);
    assert.equal((await api.versions.get(1)).currency, 'EUR');
    const payments = await api.paymentMethods.list();
    assert.ok(payments.data.length > 0);
    assert.equal((await api.paymentMethods.get(payments.data[0]!.id)).name, payments.data[0]!.name);
    const shipping = [];
    for await (const m of api.shippingMethods.listAll({ page_size: 2 })) shipping.push(m);
    assert.equal(shipping.length, (await api.shippingMethods.list({ page_size: 100 })).meta.item_count);
    await assert.rejects(api.brands.get(999_999), (err: unknown) => err instanceof ApiError && err.status === 404);
  });
});

async function asArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}
