// The live stream behind `storehook listen` (GET /api/v1/webhooks/listen), in-process on a real
// socket: authentication and scoping, topics and expands, resuming by Last-Event-ID / since_id,
// keep-alives, clean ends (client gone, server closing), and — the hard part — no event skipped
// when transactions commit out of id order (PostgreSQL).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { createApiUser, createStore } from '../../src/admin/stores.js';
import { loadConfig } from '../../src/config.js';
import { inTransaction } from '../../src/db/transaction.js';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { loadAggregate } from '../../src/orders/repository.js';
import { createOutbox, type Outbox } from '../../src/webhooks/outbox.js';
import { listenRoutes } from '../../src/api/routes/listen.js';
import { pruneStoreEvents, watermark } from '../../src/store-events/reader.js';
import { SseParser, type SseEvent } from '../../src/toolkit/listen/sse.js';
import { forEachDialect, freshDatabase, type FreshDatabase } from '../helpers/database.js';
import { basicAuth, orderBody } from '../helpers/app.js';
import { eventually, sleep } from '../helpers/toolkit-processes.js';

interface Stream {
  status: number;
  events: SseEvent[];
  comments: string[];
  /** `message` events' bodies */
  messages(): { id: number; body: any }[];
  ended: Promise<void>;
  close(): void;
}

async function openStream(url: string, auth: string, headers: Record<string, string> = {}): Promise<Stream> {
  const aborter = new AbortController();
  const res = await fetch(url, { headers: { authorization: auth, accept: 'text/event-stream', ...headers }, signal: aborter.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let ended: Promise<void> = Promise.resolve();
  if (res.status === 200 && res.body) {
    const parser = new SseParser((e) => events.push(e), (c) => comments.push(c));
    const decoder = new TextDecoder();
    ended = (async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.push(decoder.decode(chunk, { stream: true }));
      } catch {
        // aborted
      }
    })();
  } else {
    await res.text();
  }
  return {
    status: res.status,
    events,
    comments,
    messages: () => events.filter((e) => e.event === 'message' && e.data).map((e) => ({ id: Number(e.id), body: JSON.parse(e.data!) })),
    ended,
    close: () => aborter.abort(),
  };
}

forEachDialect('listen endpoint', (dialect) => {
  let fresh: FreshDatabase;
  let app: FastifyInstance;
  let outbox: Outbox;
  let base: string;
  let auth: string;
  let otherAuth: string;
  const streams: Stream[] = [];
  const extra: Database[] = [];

  const post = async (path: string, body: unknown, who = auth) => {
    const res = await app.inject({ method: 'POST', url: `/api/v1${path}`, headers: { authorization: who }, payload: body as object });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().data;
  };
  const stream = async (query = '', headers: Record<string, string> = {}, who = auth) => {
    const s = await openStream(`${base}/api/v1/webhooks/listen${query}`, who, headers);
    streams.push(s);
    return s;
  };

  beforeEach(async () => {
    fresh = await freshDatabase(dialect);
    outbox = createOutbox();
    const database = fresh.database;
    app = await buildApp({
      config: { ...loadConfig({}, {}), dataDir: fresh.dataDir, rateLimitPerSecond: 0 },
      database,
      sink: outbox,
      logger: false,
      apiV1Plugins: [async (api) => void (await api.register(listenRoutes, { database, outbox, pollMs: 100, keepAliveMs: 300, maxStreamsPerStore: 4 }))],
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    await createStore(database.kysely, { name: 'shop', plan: 'advanced' });
    const u = await createApiUser(database.kysely, 'shop', 'erp@shop.example');
    auth = basicAuth(u.email, u.apiKey);
    await createStore(database.kysely, { name: 'other', plan: 'advanced' });
    const o = await createApiUser(database.kysely, 'other', 'erp@other.example');
    otherAuth = basicAuth(o.email, o.apiKey);
  });

  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await app.close().catch(() => undefined);
    for (const d of extra.splice(0)) await d.close();
    await fresh.cleanup();
  });

  it('needs credentials, and names unknown topics and expands', async () => {
    assert.equal((await stream('', {}, 'Basic bm9ib2R5Om5vcGU=')).status, 401);
    const bad = await app.inject({ method: 'GET', url: '/api/v1/webhooks/listen?topic=order.created,order.shipped', headers: { authorization: auth } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /unknown topic "order\.shipped"; topics: order\.created, order\.updated/);
    const badExpand = await app.inject({ method: 'GET', url: '/api/v1/webhooks/listen?expand=products,nope', headers: { authorization: auth } });
    assert.equal(badExpand.statusCode, 400);
    assert.match(badExpand.json().message, /nope/);
    const badId = await app.inject({ method: 'GET', url: '/api/v1/webhooks/listen', headers: { authorization: auth, 'last-event-id': 'abc' } });
    assert.equal(badId.statusCode, 400);
  });

  it("streams only the caller's store's events, as they commit, with the order rendered with the expands", async () => {
    const s = await stream('?expand=products,payments');
    assert.equal(s.status, 200);
    await eventually('ready', () => s.events.find((e) => e.event === 'ready'));
    const ready = JSON.parse(s.events.find((e) => e.event === 'ready')!.data!);
    assert.equal(ready.store, 'shop');
    await post('/orders', orderBody(), otherAuth); // another store: never seen
    const order = await post('/orders', orderBody());
    await post(`/orders/${order.id}/cancel`, undefined);
    await eventually('3 events', () => s.messages().length >= 3);
    await sleep(300);
    const got = s.messages();
    assert.deepEqual(got.map((m) => m.body.topic), ['order.created', 'order.cancelled', 'order.updated']);
    assert.ok(got.every((m) => m.body.data.id === order.id));
    assert.deepEqual(got.map((m) => m.body.id), got.map((m) => `evt_${m.id}`));
    assert.ok(got[0]!.id < got[1]!.id && got[1]!.id < got[2]!.id, 'ids increase');
    assert.equal(got[0]!.body.data.products.length, 2);
    assert.equal(got[0]!.body.data.payments.length, 1);
    assert.equal(got[0]!.body.data.shipments, undefined, 'not expanded');
    assert.match(got[0]!.body.created_at, /^\d{4}-\d\d-\d\dT.*\+00:00$/);
  });

  it('filters by topic, resumes after Last-Event-ID or since_id, and starts "now" without either', async () => {
    const a = await post('/orders', orderBody());
    await post(`/orders/${a.id}/comments`, { text: 'hello' });
    const all = await stream('?since_id=0');
    await eventually('3 events', () => all.messages().length >= 3);
    const ids = all.messages().map((m) => m.id);

    const resumed = await stream('', { 'last-event-id': String(ids[0]) });
    await eventually('2 events after the first', () => resumed.messages().length >= 2);
    assert.deepEqual(resumed.messages().map((m) => m.id), ids.slice(1));
    assert.equal(JSON.parse(resumed.events.find((e) => e.event === 'ready')!.data!).resumed, true);

    const comments = await stream(`?topic=order.comment_created&since_id=${ids[0]}`);
    const fresh2 = await stream('?topic=order.created');
    await eventually('1 comment event', () => comments.messages().length >= 1);
    await post('/orders', orderBody());
    await eventually('the new order', () => fresh2.messages().length >= 1);
    await sleep(300);
    assert.deepEqual(comments.messages().map((m) => m.body.topic), ['order.comment_created']);
    assert.equal(fresh2.messages().length, 1, 'a stream without a resume id starts with the next event');
    assert.equal(fresh2.messages()[0]!.body.topic, 'order.created');
  });

  it('warns when asked to resume after an id it has never issued', async () => {
    await post('/orders', orderBody());
    const s = await stream('', { 'last-event-id': '999999' });
    await eventually('warning', () => s.events.find((e) => e.event === 'warning'));
    assert.match(JSON.parse(s.events.find((e) => e.event === 'warning')!.data!).message, /newer than this server's newest event/);
    await post('/orders', orderBody());
    await eventually('the next event still arrives', () => s.messages().length === 1);
  });

  it('sends keep-alive comments, caps streams per store, and frees a slot when a client goes away', async () => {
    const one = await stream();
    const two = await stream();
    await stream();
    await stream();
    await eventually('keep-alive', () => one.comments.includes('keep-alive'), 5000);
    const fifth = await stream();
    assert.equal(fifth.status, 429);
    assert.equal((await stream('', {}, otherAuth)).status, 200, 'the cap is per store');
    two.close();
    await eventually('a free slot', async () => {
      const s = await stream();
      if (s.status === 200) return true;
      return false;
    }, 5000, 200);
    one.close();
  });

  it('ends every stream with a shutdown event when the server closes', async () => {
    const s = await stream();
    await eventually('ready', () => s.events.find((e) => e.event === 'ready'));
    const started = Date.now();
    await app.close();
    await s.ended;
    assert.ok(Date.now() - started < 5000, 'close does not wait for the stream');
    assert.ok(s.events.some((e) => e.event === 'shutdown'));
  });

  it('finds events committed by another process (polling)', async () => {
    // A second handle and outbox: its commits do not wake this process's streams.
    const other = await openDatabase({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir });
    extra.push(other);
    const s = await stream();
    await eventually('ready', () => s.events.find((e) => e.event === 'ready'));
    const order = await post('/orders', orderBody());
    await eventually('own event', () => s.messages().length === 1);
    const foreign = createOutbox();
    const storeId = (await other.kysely.selectFrom('stores').select('id').where('name', '=', 'shop').executeTakeFirstOrThrow()).id;
    const agg = (await loadAggregate(other.kysely, storeId, order.id))!;
    await inTransaction(other, (tx) => foreign.publish(tx, agg, ['order.updated'], Date.now()));
    await eventually('the other process\'s event', () => s.messages().length === 2, 5000);
    assert.equal(s.messages()[1]!.body.topic, 'order.updated');
  });

  it('appends events in the change\'s transaction: a rolled-back change leaves none', async () => {
    const order = await post('/orders', orderBody());
    const before = await watermark(fresh.database);
    const storeId = (await fresh.database.kysely.selectFrom('stores').select('id').where('name', '=', 'shop').executeTakeFirstOrThrow()).id;
    const agg = (await loadAggregate(fresh.database.kysely, storeId, order.id))!;
    await assert.rejects(
      inTransaction(fresh.database, async (tx) => {
        await outbox.publish(tx, agg, ['order.updated'], Date.now());
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await watermark(fresh.database), before);
  });

  it('prunes events older than the retention, in batches', async () => {
    const order = await post('/orders', orderBody());
    const storeId = (await fresh.database.kysely.selectFrom('stores').select('id').where('name', '=', 'shop').executeTakeFirstOrThrow()).id;
    const old = Date.now() - 8 * 86_400_000;
    await fresh.database.kysely
      .insertInto('store_events')
      .values(Array.from({ length: 25 }, () => ({ store_id: storeId, topic: 'order.updated', order_id: order.id, created_at: old })))
      .execute();
    assert.equal(await pruneStoreEvents(fresh.database.kysely, Date.now() - 7 * 86_400_000, 10), 25);
    const left = await fresh.database.kysely.selectFrom('store_events').select('topic').execute();
    assert.deepEqual(left.map((r) => r.topic), ['order.created']);
  });

  if (dialect === 'postgres') {
    it('never skips an event whose transaction commits after a later id (out-of-order commits)', async () => {
      const other = await openDatabase({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir });
      extra.push(other);
      const order = await post('/orders', orderBody());
      const s = await stream();
      await eventually('ready', () => s.events.find((e) => e.event === 'ready'));
      const storeId = (await other.kysely.selectFrom('stores').select('id').where('name', '=', 'shop').executeTakeFirstOrThrow()).id;
      const agg = (await loadAggregate(other.kysely, storeId, order.id))!;
      const foreign = createOutbox();
      // A slow transaction draws an id, then takes 1.5 s to commit; meanwhile faster changes commit later ids.
      const slow = inTransaction(other, async (tx) => {
        await foreign.publish(tx, agg, ['order.updated'], Date.now());
        await sleep(1500);
      });
      await sleep(200);
      const fast = await Promise.all(Array.from({ length: 5 }, () => post(`/orders/${order.id}/comments`, { text: 'fast' })));
      assert.equal(fast.length, 5);
      await slow;
      await eventually('all 11 events', () => s.messages().length >= 11, 10_000);
      await sleep(500);
      const got = s.messages();
      assert.equal(got.length, 11, 'each event once');
      const ids = got.map((m) => m.id);
      assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'in id order');
      assert.equal(new Set(ids).size, 11);
      assert.equal(got.filter((m) => m.body.topic === 'order.comment_created').length, 5);
      assert.equal(got.filter((m) => m.body.topic === 'order.updated').length, 6, 'five from the comments, one from the slow transaction');
    });

    it('streams every event of many concurrent changes exactly once', async () => {
      const s = await stream();
      await eventually('ready', () => s.events.find((e) => e.event === 'ready'));
      await Promise.all(Array.from({ length: 30 }, () => post('/orders', orderBody())));
      await eventually('30 events', () => s.messages().length >= 30, 10_000);
      await sleep(300);
      const ids = s.messages().map((m) => m.id);
      assert.equal(ids.length, 30);
      assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
    });
  }
});
