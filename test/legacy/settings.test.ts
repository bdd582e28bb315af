// Per-store settings of the legacy extension (key, automatic POST URL, API orders), which orders
// the automatic POST carries, the change log the migration backfills, and the CLI commands.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { AdminError, createStore, updateStore } from '../../src/admin/stores.js';
import { openDatabase } from '../../src/db/connection.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { NetworkGuard } from '../../src/delivery/network-guard.js';
import { registerLegacyCommands } from '../../src/legacy/commands.js';
import { clearPostUrl, disableLegacy, findStoreByLegacyKey, issueLegacyKey, setIncludeApiOrders, setPostUrl } from '../../src/legacy/settings.js';
import { addComment } from '../../src/orders/service.js';
import { forEachDialect, freshDatabaseMigratedTo, type FreshDatabase } from '../helpers/database.js';
import { createLegacyApp, makeOrder, type LegacyTestApp } from '../helpers/legacy-app.js';
import { child, parseXml, textAt } from '../helpers/xml-reader.js';

const run = promisify(execFile);

forEachDialect('legacy settings', (dialect) => {
  let t: LegacyTestApp;
  before(async () => {
    t = await createLegacyApp(dialect, { enable: false });
  });
  after(async () => t?.close());
  const policy = () => ({ guard: t.guard, httpsOnly: false, maxSubscriptions: 100 });

  it('issues a key once, refuses a second without --rotate, and rotation retires the old key', async () => {
    const first = await issueLegacyKey(t.database, 'shop', { rotate: false });
    assert.match(first.key ?? '', /^[0-9a-f]{40}$/);
    assert.equal(first.status.enabled, true);
    assert.equal(first.status.keyPrefix, first.key!.slice(0, 6));
    const stored = await t.database.kysely.selectFrom('legacy_settings').select('key_hash').where('store_id', '=', t.storeId).executeTakeFirstOrThrow();
    assert.ok(stored.key_hash && !stored.key_hash.includes(first.key!), 'only a hash is stored');
    await assert.rejects(issueLegacyKey(t.database, 'shop', { rotate: false }), (err: unknown) => err instanceof AdminError && /already has a legacy key/.test(err.message));
    const rotated = await issueLegacyKey(t.database, String(t.storeId), { rotate: true });
    assert.notEqual(rotated.key, first.key);
    assert.equal(await findStoreByLegacyKey(t.database.kysely, first.key!), null);
    assert.equal((await findStoreByLegacyKey(t.database.kysely, rotated.key!))?.storeId, t.storeId);
    const off = await disableLegacy(t.database, 'shop');
    assert.equal(off.enabled, false);
    const on = await issueLegacyKey(t.database, 'shop', { rotate: false });
    assert.equal(on.key, null);
    assert.equal(on.status.enabled, true);
    assert.equal((await findStoreByLegacyKey(t.database.kysely, rotated.key!))?.enabled, true, 'the key kept across disable/enable');
  });

  it('is not available on the free plan', async () => {
    await createStore(t.database.kysely, { name: 'tiny', plan: 'free' });
    await assert.rejects(issueLegacyKey(t.database, 'tiny', { rotate: false }), (err: unknown) => err instanceof AdminError && /not available on the free plan/.test(err.message));
    await assert.rejects(issueLegacyKey(t.database, 'nosuch', { rotate: false }), AdminError);
  });

  it('sets, changes, clears and re-sets the automatic POST URL on one internal subscription', async () => {
    await assert.rejects(setPostUrl(t.database, policy(), 'shop', 'ftp://example.com/x'), (err: unknown) => err instanceof AdminError && /--post-url/.test(err.message));
    await assert.rejects(setPostUrl(t.database, { ...policy(), guard: new NetworkGuard() }, 'shop', 'http://127.0.0.1:9/x'), (err: unknown) => err instanceof AdminError && /loopback|refused|private/i.test(err.message));
    const set = await setPostUrl(t.database, policy(), 'shop', 'http://127.0.0.1:9/a');
    assert.equal(set.postUrl, 'http://127.0.0.1:9/a');
    assert.equal(set.postStatus, 'active');
    const uuid = set.subscriptionUuid;
    assert.ok(uuid);
    const changed = await setPostUrl(t.database, policy(), 'shop', 'http://127.0.0.1:9/b');
    assert.equal(changed.subscriptionUuid, uuid);
    assert.equal(changed.postUrl, 'http://127.0.0.1:9/b');
    const cleared = await clearPostUrl(t.database, 'shop');
    assert.equal(cleared.postUrl, null);
    const sub = await t.database.kysely.selectFrom('webhook_subscriptions').selectAll().where('uuid', '=', uuid).executeTakeFirstOrThrow();
    assert.equal(sub.status, 'disabled');
    assert.equal(sub.topic, 'legacy.order_xml');
    const again = await setPostUrl(t.database, policy(), 'shop', 'http://127.0.0.1:9/c');
    assert.equal(again.subscriptionUuid, uuid, 'reused, never doubled');
    assert.equal(again.postStatus, 'active');
    const count = await t.database.kysely.selectFrom('webhook_subscriptions').select((eb) => eb.fn.countAll<number>().as('n')).where('topic', '=', 'legacy.order_xml').executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 1);
  });

  describe('which orders the automatic POST carries', () => {
    const legacyMessages = async (orderId: number) =>
      t.database.kysely.selectFrom('webhook_messages').select(['body', 'status', 'next_attempt_at']).where('order_id', '=', orderId).where('topic', '=', 'legacy.order_xml').execute();

    it('storefront orders yes, API orders only when included, nothing when disabled, free or without URL', async () => {
      await setPostUrl(t.database, policy(), 'shop', 'http://127.0.0.1:9/post');
      await issueLegacyKey(t.database, 'shop', { rotate: false }).catch(() => undefined);
      const shop = await makeOrder(t, {}, 'storefront');
      const [message] = await legacyMessages(shop);
      assert.ok(message, 'a storefront order is POSTed');
      assert.equal(message.status, 'pending');
      assert.ok(message.next_attempt_at !== null, 'due at once');
      assert.equal(textAt(child(parseXml(message.body), 'Order'), 'OrderNumber'), String(shop));

      assert.equal((await legacyMessages(await makeOrder(t, {}, 'api'))).length, 0, 'API orders are skipped by default');
      await setIncludeApiOrders(t.database, 'shop', true);
      assert.equal((await legacyMessages(await makeOrder(t, {}, 'api'))).length, 1, 'included on request');
      await setIncludeApiOrders(t.database, 'shop', false);

      // Only new orders: a change to an order sends nothing.
      await addComment(t.ctx(), shop, 'later', 'PRIVATE');
      assert.equal((await legacyMessages(shop)).length, 1);

      await disableLegacy(t.database, 'shop');
      assert.equal((await legacyMessages(await makeOrder(t))).length, 0, 'extension disabled');
      await issueLegacyKey(t.database, 'shop', { rotate: false });
      await updateStore(t.database.kysely, 'shop', { plan: 'free' });
      assert.equal((await legacyMessages(await makeOrder(t))).length, 0, 'free plan');
      await updateStore(t.database.kysely, 'shop', { plan: 'advanced' });

      // A receiver's 410 disables the internal subscription: the POSTs of new orders are held,
      // and setting the URL again releases them.
      const { holdSubscription } = await import('../../src/delivery/queue.js');
      const settings = await t.database.kysely.selectFrom('legacy_settings').select('subscription_uuid').where('store_id', '=', t.storeId).executeTakeFirstOrThrow();
      await holdSubscription(t.database.kysely, settings.subscription_uuid!, 'The receiver answered 410 Gone', Date.now());
      const whileGone = await makeOrder(t);
      assert.deepEqual((await legacyMessages(whileGone)).map((m) => [m.status, m.next_attempt_at]), [['held', null]], 'kept, held');
      await setPostUrl(t.database, policy(), 'shop', 'http://127.0.0.1:9/post');
      assert.deepEqual((await legacyMessages(whileGone)).map((m) => m.status), ['pending'], 'released when the URL is set again');

      await clearPostUrl(t.database, 'shop');
      assert.equal((await legacyMessages(await makeOrder(t))).length, 0, 'no URL');
    });

    it('stamps every order change in the change log, whatever the store settings', async () => {
      await createStore(t.database.kysely, { name: 'plain', plan: 'pro' });
      const plain = await t.database.kysely.selectFrom('stores').select('id').where('name', '=', 'plain').executeTakeFirstOrThrow();
      const ctx = { ...t.ctx(), storeId: plain.id };
      const { createOrder } = await import('../../src/orders/service.js');
      const agg = await createOrder(ctx, { customer_information: {}, products: [{ product_code: 'X', product_name: 'X', quantity: 1, unit_price: 1 }] });
      const first = await t.database.kysely.selectFrom('legacy_order_changes').selectAll().where('order_id', '=', agg.order.id).executeTakeFirstOrThrow();
      assert.equal(first.store_id, plain.id);
      assert.ok(first.created_at >= agg.order.created_at && first.changed_at === first.created_at);
      await new Promise((r) => setTimeout(r, 5));
      await addComment(ctx, agg.order.id, 'x', 'PUBLIC');
      const second = await t.database.kysely.selectFrom('legacy_order_changes').selectAll().where('order_id', '=', agg.order.id).executeTakeFirstOrThrow();
      assert.equal(second.created_at, first.created_at);
      assert.ok(second.changed_at > first.changed_at);
    });
  });
});

forEachDialect('legacy migration', (dialect) => {
  let fresh: FreshDatabase | undefined;
  afterEach(async () => fresh?.cleanup());

  it('copies the orders that exist before it into the change log', async () => {
    fresh = await freshDatabaseMigratedTo(dialect, '0001-initial');
    const db = fresh.database.kysely;
    const store = await db.insertInto('stores').values({ name: 's', plan: 'pro', timezone: 'UTC', created_at: 1 }).returning('id').executeTakeFirstOrThrow();
    const order = await db
      .insertInto('orders')
      .values({ store_id: store.id, created_at: 1000, updated_at: 5000, archived_at: null, shipments_completed_at: null, external_id: null, version_id: 1, language: 'fi', customer_id: null, customer_information: '{}', shipping_address: '{}', different_shipping_address: 0, currency: 'EUR', subtotal_cents: 0, shipping_costs_cents: 0, payment_costs_cents: 0, discount_cents: 0, total_cents: 0, status: 'OPEN', details: null, custom_data: null, shipping_method_id: null, payment_method_id: null, source: 'api' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await migrateToLatest(fresh.database);
    const row = await db.selectFrom('legacy_order_changes').selectAll().where('order_id', '=', order.id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { order_id: order.id, store_id: store.id, created_at: 1000, changed_at: 5000 });
  });
});

describe('storehook stores legacy-key / legacy (CLI)', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'storehook-legacy-cli-'));
    const database = await openDatabase({ dataDir });
    try {
      await migrateToLatest(database);
      await createStore(database.kysely, { name: 'acme', plan: 'pro' });
      await createStore(database.kysely, { name: 'tiny', plan: 'free' });
    } finally {
      await database.close();
    }
  });
  after(async () => rm(dataDir, { recursive: true, force: true }));

  /** The commands in this process (fast); only successful runs, since a failure exits the process. */
  const inProcess = async (...args: string[]): Promise<string> => {
    const stores = new Command('stores').exitOverride();
    registerLegacyCommands(stores);
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    // Keep only the command's lines (strings). Under `node --test` the runner reports to its parent
    // over this same stdout (Buffers), and it may do so while an action awaits its import().
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean =>
      typeof chunk === 'string' ? out.push(chunk) > 0 : (Reflect.apply(write, process.stdout, [chunk, ...rest]) as boolean)) as typeof process.stdout.write;
    try {
      await stores.parseAsync([...args, '--data-dir', dataDir, '--database-url', ''], { from: 'user' });
    } finally {
      process.stdout.write = write;
    }
    return out.join('');
  };
  /** The real binary, as an operator runs it. */
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['bin/storehook.js', ...args, '--data-dir', dataDir], { env: { ...process.env, DATABASE_URL: '' } });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('enables the extension with a key shown once and sets the POST URL', async () => {
    const json = JSON.parse(await inProcess('legacy-key', '--store', 'acme', '--json')) as { key: string; enabled: boolean; store: string };
    assert.match(json.key, /^[0-9a-f]{40}$/);
    assert.equal(json.enabled, true);
    const rotated = await inProcess('legacy-key', '--store', 'acme', '--rotate');
    assert.match(rotated, /Legacy key \(shown only once; .*\): [0-9a-f]{40}\n/);
    assert.ok(!rotated.includes(json.key));
    const post = await inProcess('legacy', '--store', 'acme', '--post-url', 'http://127.0.0.1:9/orders', '--allow-targets', '127.0.0.0/8', '--include-api-orders', 'yes');
    assert.match(post, /automatic POST: +http:\/\/127\.0\.0\.1:9\/orders \(active\)/);
    assert.match(post, /orders from the API: POSTed too/);
    assert.match(post, /signed with subscription [0-9a-f-]{36}/);
  });

  it('is wired into the storehook binary, and refuses the free plan and a second key', async () => {
    const status = await cli('stores', 'legacy', '--store', 'acme', '--json');
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { post_url: string }).post_url, 'http://127.0.0.1:9/orders');
    const free = await cli('stores', 'legacy-key', '--store', 'tiny');
    assert.equal(free.code, 1);
    assert.match(free.stderr, /not available on the free plan/);
    const again = await cli('stores', 'legacy-key', '--store', 'acme');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already has a legacy key .*--rotate/);
  });
});
