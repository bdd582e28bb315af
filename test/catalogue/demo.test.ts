// The first run's demo store has a small catalogue, and the README's first order (its curl body,
// read from README.md) links to a real product and takes its stock, on a real listening server.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, it } from 'node:test';
import { DEMO_PRODUCTS } from '../../src/admin/demo.js';
import { forEachDialect } from '../helpers/database.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

/** The JSON body of the README's `curl … -d '{…}' $SH/api/v1/orders` that orders MUG-1. */
async function readmeOrderBody(): Promise<Record<string, unknown>> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const bodies = [...readme.matchAll(/-d '(\{[^']*\})' \$SH\/api\/v1\/orders\n/g)].map((m) => m[1]!);
  const body = bodies.find((b) => b.includes('"MUG-1"'));
  assert.ok(body, 'the README orders MUG-1 with curl');
  return JSON.parse(body) as Record<string, unknown>;
}

forEachDialect('the demo store', (dialect) => {
  let s: LiveServer;
  before(async () => {
    s = await startLiveServer(dialect);
  });
  after(async () => {
    await s?.close();
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${s.port}/api/v1${path}`, {
      method,
      headers: { authorization: s.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as { data: any; meta?: { item_count: number } } };
  };

  it('has the demo catalogue: products, one with variations, each with its stock item', async () => {
    const products = (await call('GET', '/products?expand=stock_item,variations.stock_item')).body.data as any[];
    assert.deepEqual(products.map((p) => p.product_code), DEMO_PRODUCTS.map((p) => p.product_code));
    const mug = products.find((p) => p.product_code === 'MUG-1');
    assert.deepEqual([mug.name, mug.price, mug.stock_item.quantity, mug.stock_item.balance], ['Mug', 12.5, 100, 100]);
    const tee = products.find((p) => p.variations.length > 0);
    assert.deepEqual(tee.variations.map((v: any) => [v.product_code, v.stock_item.product_code, v.stock_item.quantity > 0]), [
      ['TEE-S', 'TEE-S', true],
      ['TEE-M', 'TEE-M', true],
      ['TEE-L', 'TEE-L', true],
    ]);
    // every opening quantity is in the ledger
    const ledger = (await call('GET', '/stock-changes?page_size=100')).body.data as any[];
    assert.ok(ledger.every((c) => c.reason === 'created'));
    assert.equal(ledger.length, (await call('GET', '/stock-items?page_size=100')).body.data.filter((i: any) => i.quantity > 0).length);
  });

  it("the README's order links to the MUG-1 product and reserves its units in the stock ledger", async () => {
    const mug = (await call('GET', '/stock/MUG-1')).body.data;
    const created = await call('POST', '/orders', await readmeOrderBody());
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const row = (created.body.data.products as any[])[0];
    assert.deepEqual([row.product_code, row.product_id, row.variation_id, row.quantity], ['MUG-1', mug.product_id, null, 2]);
    const change = (await call('GET', '/stock-changes?sort=id-desc&page_size=1')).body.data[0];
    assert.deepEqual([change.reason, change.order_id, change.product_code, change.reserved_change, change.balance], ['order_placed', created.body.data.id, 'MUG-1', 2, mug.balance - 2]);
    const after = (await call('GET', '/stock/MUG-1')).body.data;
    assert.deepEqual([after.quantity, after.reserved, after.balance], [mug.quantity, 2, mug.balance - 2]);
  });

  it('an order of a variation code links to the product and the variation', async () => {
    const tee = (await call('GET', '/stock/TEE-M')).body.data;
    const created = await call('POST', '/orders', { customer_information: { email: 'a@example.com' }, products: [{ product_code: 'TEE-M', product_name: 'T-shirt M', quantity: 1, unit_price: 19.99 }] });
    const row = (created.body.data.products as any[])[0];
    assert.deepEqual([row.product_id, row.variation_id], [tee.product_id, tee.variation_id]);
    assert.notEqual(tee.variation_id, null);
  });
});
