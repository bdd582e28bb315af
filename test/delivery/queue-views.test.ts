/**
 * The queue's read side (src/delivery/queue-views.ts) on both databases: searches stay inside
 * their store, the HTTP status filter reads the last attempt only, a bounded count says it is
 * bounded, and the success rate counts the attempts of the window.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, it } from 'node:test';
import { listMessages, successRates } from '../../src/delivery/queue-views.js';
import { enqueueMessage } from '../../src/delivery/queue.js';
import type { Database } from '../../src/db/connection.js';
import { forEachDialect, freshDatabase, type FreshDatabase } from '../helpers/database.js';

const NOW = Date.UTC(2026, 4, 2, 12, 0, 0);

forEachDialect('queue views', (dialect) => {
  let fresh: FreshDatabase;
  let database: Database;
  const stores: number[] = [];
  const subs: string[] = [];

  beforeEach(async () => {
    fresh = await freshDatabase(dialect);
    database = fresh.database;
    stores.length = 0;
    subs.length = 0;
    for (const name of ['a', 'b']) {
      const store = await database.kysely.insertInto('stores').values({ name, plan: 'pro', timezone: 'UTC', created_at: NOW }).returning('id').executeTakeFirstOrThrow();
      const uuid = randomUUID();
      await database.kysely.insertInto('webhook_subscriptions').values({ uuid, store_id: store.id, user_id: 0, topic: 'order.created', expands: '[]', url: `http://127.0.0.1:1/${name}`, status: 'active', disabled_reason: null, created_at: NOW, updated_at: NOW }).execute();
      stores.push(store.id);
      subs.push(uuid);
    }
  });
  afterEach(() => fresh.cleanup());

  /** A message of store `s` for order `orderId` whose attempts answered `codes` (null: no HTTP answer). */
  async function message(s: number, orderId: number, codes: (number | null)[], minutesAgo = 1): Promise<string> {
    const messageId = `msg_${randomUUID().replace(/-/g, '')}`;
    const at = NOW - minutesAgo * 60_000;
    const rowId = await enqueueMessage(database.kysely, { messageId, storeId: stores[s]!, subscriptionUuid: subs[s]!, topic: 'order.created', orderId, body: '{}', createdAt: at, dueAt: at });
    if (codes.length) {
      await database.kysely.insertInto('webhook_attempts').values(codes.map((code, i) => ({ message_row_id: rowId, store_id: stores[s]!, attempt_number: i + 1, started_at: at + i, duration_ms: 1, status_code: code, error_class: code !== null && code < 300 ? null : code === null ? 'timeout' : 'http_status', error_message: null, response_body: null, worker_id: 'w' }))).execute();
      const delivered = codes.at(-1) !== null && codes.at(-1)! < 300;
      await database.kysely.updateTable('webhook_messages').set({ attempt_count: codes.length, status: delivered ? 'delivered' : 'failed', next_attempt_at: null, last_attempt_at: at }).where('id', '=', rowId).execute();
    }
    return messageId;
  }

  const ids = async (s: number, search: Parameters<typeof listMessages>[2], countUpTo?: number) => {
    const page = await listMessages(database.kysely, stores[s]!, search, 1, 25, countUpTo);
    return { ids: page.rows.map((r) => r.message_id), total: page.total, moreThan: page.moreThan };
  };

  it('finds by message id and order id within the store only', async () => {
    const mine = await message(0, 7, [500]);
    const theirs = await message(1, 7, [500]);
    assert.deepEqual((await ids(0, { messageId: mine })).ids, [mine]);
    assert.deepEqual((await ids(0, { messageId: theirs })).ids, [], "another store's message id finds nothing");
    assert.deepEqual((await ids(0, { orderId: 7 })).ids, [mine]);
    assert.deepEqual((await ids(1, { orderId: 7 })).ids, [theirs]);
  });

  it('filters by the HTTP status of the last attempt: a code, a range, or none', async () => {
    const recovered = await message(0, 1, [500, 200]);
    const failed = await message(0, 2, [500, 503]);
    const silent = await message(0, 3, [500, null]);
    const untried = await message(0, 4, []);
    assert.deepEqual((await ids(0, { httpStatus: { min: 500, max: 599 } })).ids, [failed], 'a 500 before a later answer does not count');
    assert.deepEqual((await ids(0, { httpStatus: { min: 200, max: 299 } })).ids, [recovered]);
    assert.deepEqual((await ids(0, { httpStatus: 'none' })).ids, [silent]);
    assert.deepEqual((await ids(0, { httpStatus: { min: 503, max: 503 }, state: 'failed' })).ids, [failed]);
    assert.equal((await ids(0, {})).ids.length, 4);
    assert.ok((await ids(0, { state: 'pending' })).ids.includes(untried));
  });

  it('bounds the count when asked, and says so', async () => {
    for (let i = 0; i < 4; i++) await message(0, i, [200], i + 1);
    assert.deepEqual(await ids(0, {}, 10).then((r) => [r.total, r.moreThan]), [4, false]);
    const bounded = await ids(0, {}, 2);
    assert.deepEqual([bounded.total, bounded.moreThan, bounded.ids.length], [2, true, 4], 'the page itself is whole');
    assert.deepEqual(await ids(0, {}, 4).then((r) => [r.total, r.moreThan]), [4, false]);
  });

  it('rates a subscription by its attempts in the window', async () => {
    await message(0, 1, [500, 200]);
    await message(0, 2, [500, 503]);
    await message(0, 3, [200], 60 * 25); // its attempt is older than 24 h
    await message(1, 4, [200]);
    const rates = await successRates(database.kysely, stores[0]!, NOW - 86_400_000, [subs[0]!, subs[1]!]);
    assert.deepEqual(rates.get(subs[0]!), { attempts: 4, delivered: 1 });
    assert.equal(rates.get(subs[1]!), undefined, "another store's subscription is not rated");
  });
});
