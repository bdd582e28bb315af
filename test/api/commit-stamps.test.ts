// The stamps clients sync by are taken in commit order per store (src/db/commit-clock.ts): a change
// still open while a later one commits never lands behind a stamp a client has seen, and every
// time a change writes (order, event, messages, the legacy change log) is its one stamp.
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { commitStamp, commitWatermark } from '../../src/db/commit-clock.js';
import { inTransaction } from '../../src/db/transaction.js';
import { withLegacyBridge } from '../../src/legacy/sink.js';
import type { OrderEventSink } from '../../src/orders/events.js';
import * as service from '../../src/orders/service.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import { call, createOrder, createTestApp, type TestApp } from '../helpers/app.js';
import { forEachDialect } from '../helpers/database.js';

const body = { customer_information: { first_name: 'Stamp' }, products: [{ product_code: 'S', product_name: 'S', quantity: 1, unit_price: 3 }] };

forEachDialect('commit stamps', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect);
  });
  after(async () => t?.close());

  /** One incremental sync run by updated_at from `since`; returns the ids seen and the new checkpoint. */
  const syncFrom = async (since: string): Promise<{ ids: number[]; checkpoint: string }> => {
    const ids: number[] = [];
    let checkpoint = since;
    let path: string | undefined = `/api/v1/orders?sort=updated_at-asc&updated_at-from=${encodeURIComponent(since)}&page_size=100`;
    while (path) {
      const res = await call(t.app, t.auth, 'GET', path);
      assert.equal(res.statusCode, 200, res.body);
      const page = res.json() as { data: { id: number; updated_at: string }[]; meta: { next?: string } };
      for (const o of page.data) {
        ids.push(o.id);
        checkpoint = o.updated_at;
      }
      path = page.meta.next ? new URL(page.meta.next).pathname + new URL(page.meta.next).search : undefined;
    }
    return { ids, checkpoint };
  };

  it('a change still open while a later one commits is not skipped by a client that saw the later one', async () => {
    const start = (await syncFrom('2000-01-01T00:00:00Z')).checkpoint;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    // The slow change: stamped, then held open inside its transaction until released.
    const holding: OrderEventSink = {
      async publish() {
        entered();
        await gate;
      },
      async publishResources() {},
    };
    const slow = service.createOrder({ database: t.database, storeId: t.storeId, userId: null, sink: holding }, body);
    await inside;
    // A later change commits (on SQLite it waits for the slow one: one writer at a time).
    const fast = createOrder(t.app, t.auth);
    await sleep(100);
    // The client syncs now; the slow change is let go a moment later.
    const first = syncFrom(start);
    await sleep(100);
    release();
    const [slowAgg, fastOrder, run1] = await Promise.all([slow, fast, first]);
    const run2 = await syncFrom(run1.checkpoint);
    const seen = new Set([...run1.ids, ...run2.ids]);
    assert.ok(seen.has(fastOrder.id), 'the later change is seen');
    assert.ok(seen.has(slowAgg.order.id), `the change that committed last (stamp ${slowAgg.order.updated_at}) is seen although the client saw ${run1.checkpoint} first`);
  });

  it('a watermark read right after a change committed is above its stamp: a client sees its own change at once', async () => {
    for (let i = 0; i < 50; i++) {
      const stamp = await inTransaction(t.database, (tx) => commitStamp(tx, t.storeId));
      const watermark = await commitWatermark(t.database, t.storeId);
      assert.ok(watermark > stamp, `round ${i}: watermark ${watermark} is not above the committed stamp ${stamp}`);
    }
  });

  it('stamps the order, its event, its parts, its messages and the legacy change log with one time', async () => {
    await t.database.kysely
      .insertInto('webhook_subscriptions')
      .values({ uuid: randomUUID(), store_id: t.storeId, user_id: t.userId, topic: 'order.updated', expands: '[]', url: 'https://example.com/hook', status: 'active', disabled_reason: null, created_at: 1, updated_at: 1 })
      .execute();
    const ctx = { database: t.database, storeId: t.storeId, userId: null, sink: withLegacyBridge(createOutbox()) };
    const created = await service.createOrder(ctx, body);
    const o = created.order;
    assert.equal(o.updated_at, o.created_at);
    for (const part of [...created.shipments, ...created.payments, ...created.products, ...created.events]) assert.equal(part.created_at, o.created_at);
    await sleep(3);
    const changed = await service.completeShipment(ctx, o.id, created.shipments[0]!.id, 'JJFI1');
    const stamp = changed.order.order.updated_at;
    assert.ok(stamp > o.updated_at);
    assert.equal(changed.order.order.shipments_completed_at, stamp);
    assert.equal(changed.order.shipments[0]!.completed_at, stamp);
    assert.equal(changed.order.events.at(-1)!.created_at, stamp);
    const db = t.database.kysely;
    const log = await db.selectFrom('legacy_order_changes').selectAll().where('order_id', '=', o.id).executeTakeFirstOrThrow();
    assert.deepEqual([log.created_at, log.changed_at], [o.created_at, stamp], 'the legacy change log carries the order stamps');
    const messages = await db.selectFrom('webhook_messages').select(['created_at', 'body']).where('order_id', '=', o.id).execute();
    assert.equal(messages.length, 1);
    const message = JSON.parse(String(messages[0]!.body)) as { created_at: string; data: { updated_at: string } };
    assert.equal(messages[0]!.created_at, stamp);
    assert.equal(Date.parse(message.created_at), stamp);
    assert.equal(Date.parse(message.data.updated_at), stamp);
  });
});
