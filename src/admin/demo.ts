/**
 * First run: a demo store on the `advanced` plan with one API user and a small catalogue, so
 * `storehook serve` works with zero configuration and the README's first order (`MUG-1`) links
 * to a real product and takes its stock. The key is returned only when it is created, and never again.
 */
import type { CreateProductBody, CreateVariationBody } from '../catalogue/contract.js';
import type { ResourceEventSink } from '../catalogue/events.js';
import { addProduct, addVariation } from '../catalogue/service.js';
import type { Database } from '../db/connection.js';
import { advisoryXactLock } from '../db/dialect.js';
import { inTransaction, type Tx } from '../db/transaction.js';
import { createApiUser, createStore } from './stores.js';

export const DEMO_STORE = 'demo';
export const DEMO_EMAIL = 'demo@storehook.local';

/** An arbitrary constant naming the seeding lock among PostgreSQL advisory locks ("storehook demo"). */
const SEED_LOCK_KEY = 0x5e_ed_de_70;

/**
 * Seeds the demo store when the database has no store at all. Several processes may start on one
 * fresh database at the same moment: on PostgreSQL they take turns under an advisory lock held
 * until the transaction ends, so the first seeds and the others find its store.
 */
export async function ensureDemoStore(database: Database): Promise<{ email: string; apiKey: string } | null> {
  return inTransaction(database, async (tx) => {
    await advisoryXactLock(tx, SEED_LOCK_KEY);
    return seedIfEmpty(tx);
  });
}

/**
 * The demo catalogue: products with their stock; a product's `variations` are added after it.
 * (Codes the tests' sample orders use, like TSHIRT-M, are left out: those orders must not take stock.)
 */
export const DEMO_PRODUCTS: readonly (CreateProductBody & { variations?: CreateVariationBody[] })[] = [
  // The README's first order: 2 × MUG-1.
  { product_code: 'MUG-1', name: 'Mug', description: 'Stoneware mug, 330 ml.', price: 12.5, purchase_price: 4.2, vat_rate: 25.5, weight: 0.35, stock_item: { quantity: 100, balance_alert: 10 } },
  {
    product_code: 'TEE',
    name: 'T-shirt',
    description: 'Organic cotton T-shirt.',
    price: 19.99,
    vat_rate: 25.5,
    weight: 0.2,
    variations: [
      { product_code: 'TEE-S', name: 'T-shirt S', stock_item: { quantity: 20, balance_alert: 3 } },
      { product_code: 'TEE-M', name: 'T-shirt M', stock_item: { quantity: 30, balance_alert: 5 } },
      { product_code: 'TEE-L', name: 'T-shirt L', stock_item: { quantity: 20, balance_alert: 3 } },
    ],
  },
  // The product of `storehook trigger`'s sample order; roasted to order, so it never runs out.
  { product_code: 'COFFEE-DARK-500', name: 'Dark roast coffee beans 500 g', price: 12.9, vat_rate: 14, weight: 0.5, stock_item: { quantity: 40, backorder_enabled: true } },
];

/** A new store has no subscriptions yet, so its seeding has nobody to tell. */
const NOBODY: ResourceEventSink = { publishResources: async () => undefined };

async function seedIfEmpty(tx: Tx): Promise<{ email: string; apiKey: string } | null> {
  const anyStore = await tx.db.selectFrom('stores').select('id').limit(1).executeTakeFirst();
  if (anyStore) return null;
  const store = await createStore(tx.db, { name: DEMO_STORE, plan: 'advanced', timezone: 'Europe/Helsinki' });
  const user = await createApiUser(tx.db, DEMO_STORE, DEMO_EMAIL);
  const actor = { storeId: store.id, userId: user.userId, sink: NOBODY };
  for (const { variations, ...product } of DEMO_PRODUCTS) {
    const productId = await addProduct(tx, actor, product);
    for (const variation of variations ?? []) await addVariation(tx, actor, productId, variation);
  }
  return { email: user.email, apiKey: user.apiKey };
}
