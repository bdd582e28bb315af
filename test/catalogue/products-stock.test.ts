// Products, variations and stock (issue #15): CRUD with strict input, duplicate codes, tenancy,
// and orders that link to products, reserve stock, are refused when short (also under concurrent
// orders) and give the stock back when cancelled or take it off the shelf when delivered.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestApp, errorBody, orderBody, type TestApp, type TestUser } from '../helpers/app.js';
import { forEachDialect } from '../helpers/database.js';

const product = (code: string, extra: Record<string, unknown> = {}) => ({ product_code: code, name: `Product ${code}`, price: 12.9, vat_rate: 14, ...extra });
const line = (code: string, quantity: number) => ({ product_code: code, product_name: code, quantity, unit_price: 12.9 });

forEachDialect('products, variations and stock', (dialect) => {
  let t: TestApp;
  let other: TestUser;
  before(async () => {
    t = await createTestApp(dialect);
    other = await t.addStore('other');
  });
  after(async () => {
    await t?.close();
  });
  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, auth = t.auth) => call(t.app, auth, method, `/api/v1${url}`, body);
  const stockOf = async (code: string) => (await api('GET', `/stock/${encodeURIComponent(code)}`)).json().data;

  describe('products', () => {
    it('creates a product with its stock item, reads it with expands, changes and lists it', async () => {
      const brand = (await api('POST', '/brands', { name: 'Roastery' })).json().data;
      const created = await api('POST', '/products', product('COFFEE', { brand_id: brand.id, weight: 0.5, stock_item: { quantity: 10, balance_alert: 3, location: 'A-3' } }));
      assert.equal(created.statusCode, 200, created.body);
      const p = created.json().data;
      assert.equal(p.product_code, 'COFFEE');
      assert.equal(p.price, 12.9);
      assert.equal(p.vat_rate, 14);
      assert.equal(p.weight, 0.5);
      assert.deepEqual([p.stock_item.quantity, p.stock_item.reserved, p.stock_item.balance, p.stock_item.balance_alert, p.stock_item.location], [10, 0, 10, 3, 'A-3']);

      const got = (await api('GET', `/products/${p.id}?expand=brand,stock_item,variations,category_links,image_links,translations,visibilities`)).json().data;
      assert.equal(got.brand.name, 'Roastery');
      assert.deepEqual([got.variations, got.category_links, got.image_links, got.translations], [[], [], [], []]);
      assert.deepEqual(got.visibilities, [{ version_id: 1, visible: true }]);

      const patched = await api('PATCH', `/products/${p.id}`, { price: 13.5, name: 'Dark roast' });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.deepEqual([patched.json().data.price, patched.json().data.name], [13.5, 'Dark roast']);

      const list = (await api('GET', `/products?id=${p.id}&expand=stock_item&sort=updated_at-desc`)).json();
      assert.deepEqual(list.data.map((x: { id: number }) => x.id), [p.id]);
      assert.equal(list.meta.item_count, 1);
    });

    it('refuses unknown fields, wrong types, three-decimal prices and a duplicate product_code', async () => {
      assert.equal((await api('POST', '/products', { ...product('X1'), colour: 'red' })).statusCode, 400);
      assert.equal((await api('POST', '/products', { ...product('X2'), price: '12.90' })).statusCode, 400);
      const cents = await api('POST', '/products', product('X3', { price: 1.005 }));
      assert.equal(cents.statusCode, 400);
      assert.match(errorBody(cents).message, /price/);
      assert.equal((await api('POST', '/products', product('DUP'))).statusCode, 200);
      const dup = await api('POST', '/products', product('DUP'));
      assert.equal(dup.statusCode, 409);
      assert.match(errorBody(dup).message, /product_code "DUP" is already used/);
      assert.equal((await api('PATCH', '/products/1', {})).statusCode, 400);
    });

    it("pages every list: page_size and meta.next", async () => {
      for (const code of ['PG-1', 'PG-2', 'PG-3']) assert.equal((await api('POST', '/products', product(code))).statusCode, 200);
      const first = (await api('GET', '/products?page_size=2')).json();
      assert.equal(first.data.length, 2);
      assert.ok(first.meta.next, 'a next link while more remain');
      const last = (await api('GET', `/products?page_size=2&page=${first.meta.page_count}`)).json();
      assert.equal(last.meta.next, undefined);
    });

    it("never shows or changes another store's product (404)", async () => {
      const mine = (await api('POST', '/products', product('MINE', { stock_item: { quantity: 5 } }))).json().data;
      assert.equal((await api('GET', `/products/${mine.id}`, undefined, other.auth)).statusCode, 404);
      assert.equal((await api('PATCH', `/products/${mine.id}`, { name: 'x' }, other.auth)).statusCode, 404);
      assert.equal((await api('DELETE', `/products/${mine.id}`, undefined, other.auth)).statusCode, 404);
      assert.equal((await api('PATCH', '/stock/MINE', { quantity: 1 }, other.auth)).statusCode, 404);
      assert.equal((await api('GET', `/stock-items/${mine.stock_item.id}`, undefined, other.auth)).statusCode, 404);
      // The other store may use the same code for its own product.
      assert.equal((await api('POST', '/products', product('MINE'), other.auth)).statusCode, 200);
      assert.equal((await stockOf('MINE')).quantity, 5);
    });
  });

  describe('variations', () => {
    it('each has its own code and stock item; codes are unique across products and variations', async () => {
      const p = (await api('POST', '/products', product('SHIRT'))).json().data;
      const m = await api('POST', `/products/${p.id}/variations`, { product_code: 'SHIRT-M', name: 'M', stock_item: { quantity: 4 } });
      assert.equal(m.statusCode, 200, m.body);
      assert.equal(m.json().data.stock_item.quantity, 4);
      assert.equal((await api('POST', `/products/${p.id}/variations`, { product_code: 'SHIRT', name: 'dup' })).statusCode, 409);
      assert.equal((await api('POST', '/products', product('SHIRT-M'))).statusCode, 409);
      const l = await api('POST', `/products/${p.id}/variations`, { product_code: 'SHIRT-L', name: 'L', price: 15 });
      const got = (await api('GET', `/products/${p.id}?expand=variations.stock_item`)).json().data;
      assert.deepEqual(got.variations.map((v: { product_code: string; stock_item: { quantity: number } }) => [v.product_code, v.stock_item.quantity]), [['SHIRT-M', 4], ['SHIRT-L', 0]]);
      const patched = await api('PATCH', `/products/${p.id}/variations/${l.json().data.id}`, { product_code: 'SHIRT-XL' });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal((await stockOf('SHIRT-XL')).variation_id, l.json().data.id);
      assert.equal((await api('GET', `/products/${p.id}/variations`)).json().meta.item_count, 2);
      assert.equal((await api('DELETE', `/products/${p.id}/variations/${l.json().data.id}`)).statusCode, 200);
      assert.equal((await api('GET', '/stock/SHIRT-XL')).statusCode, 404);
    });
  });

  describe('stock', () => {
    it('PATCH /stock/{product_code} sets quantity or balance and writes the ledger', async () => {
      await api('POST', '/products', product('ERP-1', { stock_item: { quantity: 2 } }));
      const set = await api('PATCH', '/stock/ERP-1', { quantity: 7 });
      assert.equal(set.statusCode, 200, set.body);
      assert.deepEqual([set.json().data.quantity, set.json().data.balance], [7, 7]);
      assert.equal((await api('PATCH', '/stock/ERP-1', { quantity: 1, balance: 1 })).statusCode, 400);
      assert.equal((await api('PATCH', '/stock/ERP-1', { quantity: 1.5 })).statusCode, 400);
      assert.equal((await api('PATCH', '/stock/ERP-1', { amount: 1 })).statusCode, 400);
      assert.equal((await api('PATCH', '/stock/NOPE', { quantity: 1 })).statusCode, 404);
      const changes = (await api('GET', '/stock-changes?sort=id-asc&page_size=10000')).json().data.filter((c: { product_code: string }) => c.product_code === 'ERP-1');
      assert.deepEqual(changes.map((c: { reason: string; quantity_change: number; quantity: number }) => [c.reason, c.quantity_change, c.quantity]), [['created', 2, 2], ['manual', 5, 7]]);
      assert.equal((await api('GET', '/stock-changes?page_size=10001')).statusCode, 400);
    });
  });

  describe('orders and stock', () => {
    it('an order links its rows to products, reserves their stock; cancelling returns it', async () => {
      const p = (await api('POST', '/products', product('MUG', { stock_item: { quantity: 5 } }))).json().data;
      const res = await api('POST', '/orders', orderBody({ products: [line('MUG', 2), line('NOT-IN-CATALOGUE', 1)] }));
      assert.equal(res.statusCode, 200, res.body);
      const order = res.json().data;
      assert.deepEqual(order.products.map((r: { product_id: number | null }) => r.product_id), [p.id, null]);
      assert.deepEqual([(await stockOf('MUG')).reserved, (await stockOf('MUG')).balance], [2, 3]);
      assert.equal((await api('POST', `/orders/${order.id}/cancel`)).statusCode, 200);
      assert.deepEqual([(await stockOf('MUG')).reserved, (await stockOf('MUG')).quantity], [0, 5]);
      const reasons = (await api('GET', '/stock-changes?page_size=1000')).json().data.filter((c: { order_id: number | null }) => c.order_id === order.id).map((c: { reason: string; reserved_change: number }) => [c.reason, c.reserved_change]);
      assert.deepEqual(reasons, [['order_placed', 2], ['order_cancelled', -2]]);
    });

    it('a delivered order takes its units off the shelf', async () => {
      await api('POST', '/products', product('BAG', { stock_item: { quantity: 3 } }));
      const order = (await api('POST', '/orders', orderBody({ products: [line('BAG', 1)] }))).json().data;
      assert.equal((await api('POST', `/orders/${order.id}/quick-process`, {})).statusCode, 200);
      const s = await stockOf('BAG');
      assert.deepEqual([s.quantity, s.reserved, s.balance], [2, 0, 2]);
    });

    it('refuses with 409 an order for more than the balance, and writes nothing; backorders allow it', async () => {
      await api('POST', '/products', product('RARE', { stock_item: { quantity: 1 } }));
      const before = (await api('GET', '/orders?page_size=1')).json().meta.item_count;
      const res = await api('POST', '/orders', orderBody({ products: [line('RARE', 2)] }));
      assert.equal(res.statusCode, 409);
      assert.match(errorBody(res).message, /Not enough stock for "RARE": ordered 2, balance 1/);
      assert.equal((await api('GET', '/orders?page_size=1')).json().meta.item_count, before);
      assert.equal((await stockOf('RARE')).reserved, 0);
      assert.equal((await api('PATCH', '/stock/RARE', { backorder_enabled: true })).statusCode, 200);
      assert.equal((await api('POST', '/orders', orderBody({ products: [line('RARE', 2)] }))).statusCode, 200);
      assert.equal((await stockOf('RARE')).balance, -1);
    });

    it('under concurrent orders, exactly as many succeed as the stock allows', async () => {
      await api('POST', '/products', product('LAST10', { stock_item: { quantity: 10 } }));
      const answers = await Promise.all(Array.from({ length: 16 }, () => api('POST', '/orders', orderBody({ products: [line('LAST10', 1)] }))));
      const codes = answers.map((a) => a.statusCode).sort();
      assert.equal(codes.filter((c) => c === 200).length, 10, codes.join(','));
      assert.equal(codes.filter((c) => c === 409).length, 6, codes.join(','));
      const s = await stockOf('LAST10');
      assert.deepEqual([s.reserved, s.balance], [10, 0]);
    });

    it('refuses to delete a product an open order holds; allows it once the order is cancelled', async () => {
      const p = (await api('POST', '/products', product('HELD', { stock_item: { quantity: 3 } }))).json().data;
      const order = (await api('POST', '/orders', orderBody({ products: [line('HELD', 1)] }))).json().data;
      const refused = await api('DELETE', `/products/${p.id}`);
      assert.equal(refused.statusCode, 409);
      assert.match(errorBody(refused).message, new RegExp(`open order ${order.id}`));
      await api('POST', `/orders/${order.id}/cancel`);
      assert.equal((await api('DELETE', `/products/${p.id}`)).statusCode, 200);
      assert.equal((await api('GET', `/products/${p.id}`)).statusCode, 404);
      // the order keeps its row and its link; the ledger keeps its rows
      assert.equal((await api('GET', `/orders/${order.id}?expand=products`)).json().data.products[0].product_id, p.id);
    });
  });
});
