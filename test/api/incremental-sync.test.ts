// An incremental-sync integration as real ones are written: it pages
// GET /api/v0/orders?sort=updated_at-asc&updated_at-from=<checkpoint>&page_size=100&expand=…
// while `next` is in meta. More than a page of orders share one updated_at, and orders change
// while it pages; it must end, in a bounded number of requests, having seen every order.
// Also run once over a real socket (listen on 127.0.0.1:0 + fetch), following `next` verbatim.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createOrder, createTestApp, type TestApp } from '../helpers/app.js';
import { forEachDialect } from '../helpers/database.js';

const EXPAND = 'products,shipments,tax_summary,events,comments,payments';
const PAGE = 100;
const SHARED = Date.parse('2024-06-01T09:00:00.000Z');
const TIED = 250;
const BEFORE = 30;
const AFTER = 40;
const TOTAL = BEFORE + TIED + AFTER;

interface SyncedOrder {
  id: number;
  updated_at: string;
  [k: string]: unknown;
}

interface SyncResult {
  requests: number;
  checkpoint: string;
  /** every order as last received, by id */
  seen: Map<number, SyncedOrder>;
  /** ids in the order received (duplicates kept) */
  received: number[];
}

/** The integrator's loop from docs/api.md. `get` returns the parsed JSON of a GET to `url`. */
async function sync(
  get: (url: string) => Promise<{ data: SyncedOrder[]; meta: { next?: string } }>,
  firstUrl: (since: string) => string,
  since: string,
  state: Map<number, SyncedOrder>,
  options: { maxRequests: number; afterPage?: (page: number) => Promise<void> },
): Promise<SyncResult> {
  let url: string | undefined = firstUrl(since);
  let requests = 0;
  let checkpoint = since;
  const received: number[] = [];
  while (url) {
    const body = await get(url);
    requests += 1;
    assert.ok(requests <= options.maxRequests, `more than ${options.maxRequests} requests: the client is looping (last url ${url})`);
    for (const order of body.data) {
      // every expansion asked for is there
      for (const e of EXPAND.split(',')) assert.ok(order[e] !== undefined, `order ${order.id} lacks ${e}`);
      assert.ok(Date.parse(order.updated_at) >= Date.parse(checkpoint) || received.length > 0, 'updated_at-from is respected');
      state.set(order.id, order);
      received.push(order.id);
      checkpoint = order.updated_at;
    }
    await options.afterPage?.(requests);
    url = 'next' in body.meta ? body.meta.next : undefined;
  }
  return { requests, checkpoint, seen: state, received };
}

const enc = encodeURIComponent;
const firstPath = (since: string) => `/api/v0/orders?sort=updated_at-asc&updated_at-from=${enc(since)}&page_size=${PAGE}&expand=${EXPAND}`;
const pathOf = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

forEachDialect('incremental sync', (dialect) => {
  let t: TestApp;
  let ids: number[] = [];

  /** Fresh timestamps: 30 orders before SHARED, 250 at SHARED exactly, 40 after. */
  const resetTimestamps = async () => {
    const db = t.database.kysely;
    await db.updateTable('orders').set({ updated_at: SHARED }).where('store_id', '=', t.storeId).execute();
    for (let i = 0; i < BEFORE; i++) await db.updateTable('orders').set({ updated_at: SHARED - (BEFORE - i) * 1000 }).where('id', '=', ids[i]!).execute();
    for (let i = 0; i < AFTER; i++) await db.updateTable('orders').set({ updated_at: SHARED + (i + 1) * 1000 }).where('id', '=', ids[BEFORE + TIED + i]!).execute();
  };
  /** The orders' current updated_at, from the database. */
  const dbState = async () => {
    const rows = await t.database.kysely.selectFrom('orders').select(['id', 'updated_at']).where('store_id', '=', t.storeId).execute();
    return new Map(rows.map((r) => [r.id, r.updated_at]));
  };
  const get = async (url: string) => {
    const res = await call(t.app, t.auth, 'GET', url.startsWith('http') ? pathOf(url) : url);
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };

  before(async () => {
    t = await createTestApp(dialect);
    // another store's orders must never show up
    const other = await t.addStore('noise');
    for (let i = 0; i < 5; i++) await createOrder(t.app, other.auth);
    // 320 orders, created 8 at a time
    for (let i = 0; i < TOTAL; i += 8) {
      const batch = await Promise.all(Array.from({ length: Math.min(8, TOTAL - i) }, () => createOrder(t.app, t.auth)));
      ids.push(...batch.map((o) => o.id));
    }
    ids = ids.sort((a, b) => a - b);
    // a comment on each of a few, so the comments expansion has content
    for (const id of ids.slice(0, 3)) await call(t.app, t.auth, 'POST', `/api/v1/orders/${id}/comments`, { text: 'hello' });
  });
  after(async () => {
    await t?.close();
  });

  it(`sees all ${TOTAL} orders (${TIED} sharing one updated_at) in ${Math.ceil(TOTAL / PAGE)} requests, following next`, async () => {
    await resetTimestamps();
    const r = await sync(get, firstPath, '2000-01-01T00:00:00Z', new Map(), { maxRequests: Math.ceil(TOTAL / PAGE) });
    assert.equal(r.requests, Math.ceil(TOTAL / PAGE));
    assert.equal(r.received.length, TOTAL, 'each order exactly once');
    assert.deepEqual([...r.seen.keys()].sort((a, b) => a - b), ids);
    // ascending by (updated_at, id)
    const order = r.received.map((id) => [Date.parse(r.seen.get(id)!.updated_at), id] as const);
    for (let i = 1; i < order.length; i++) assert.ok(order[i - 1]![0] < order[i]![0] || (order[i - 1]![0] === order[i]![0] && order[i - 1]![1] < order[i]![1]), `out of order at ${i}`);
    assert.equal(Date.parse(r.checkpoint), SHARED + AFTER * 1000);
  });

  it('starting from the shared timestamp itself, sees the 250 tied orders and the later ones, and ends', async () => {
    await resetTimestamps();
    const r = await sync(get, firstPath, new Date(SHARED).toISOString(), new Map(), { maxRequests: Math.ceil((TIED + AFTER) / PAGE) });
    assert.equal(r.received.length, TIED + AFTER);
    assert.deepEqual([...r.seen.keys()].sort((a, b) => a - b), ids.slice(BEFORE));
  });

  it('a second run from the checkpoint gets only the orders at or after it, and a third sees new changes', async () => {
    await resetTimestamps();
    const state = new Map<number, SyncedOrder>();
    const first = await sync(get, firstPath, '2000-01-01T00:00:00Z', state, { maxRequests: 4 });
    const second = await sync(get, firstPath, first.checkpoint, state, { maxRequests: 1 });
    assert.deepEqual(second.received, [ids.at(-1)], 'inclusive -from: the order carrying exactly the checkpoint comes again');
    const changed = [ids[0]!, ids[100]!, ids[200]!];
    for (const id of changed) assert.equal((await call(t.app, t.auth, 'PATCH', `/api/v1/orders/${id}`, { details: 'changed' })).statusCode, 200);
    const third = await sync(get, firstPath, second.checkpoint, state, { maxRequests: 1 });
    assert.deepEqual(new Set(third.received), new Set([ids.at(-1), ...changed]));
    for (const id of changed) assert.equal(state.get(id)!.details, 'changed');
  });

  it('sees every order, each in its latest version, when orders change between its pages', async () => {
    await resetTimestamps();
    const changed: number[] = [];
    // after pages 1 and 2: change orders already seen, not yet seen, and inside the tied run
    const afterPage = async (page: number) => {
      if (page > 2) return;
      const targets = page === 1 ? [ids[0]!, ids[50]!, ids[150]!, ids[299]!] : [ids[120]!, ids[260]!, ids[310]!];
      for (const id of targets) {
        const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${id}/comments`, { text: `while paging ${page}` });
        assert.equal(res.statusCode, 200);
        changed.push(id);
      }
    };
    const state = new Map<number, SyncedOrder>();
    const r = await sync(get, firstPath, '2000-01-01T00:00:00Z', state, { maxRequests: Math.ceil((TOTAL + changed.length + 7) / PAGE) + 1, afterPage });
    assert.deepEqual([...state.keys()].sort((a, b) => a - b), ids);
    const now = await dbState();
    for (const [id, updatedAt] of now) assert.equal(Date.parse(state.get(id)!.updated_at), updatedAt, `order ${id}: the client holds an old version`);
    for (const id of changed) assert.ok((state.get(id)!.comments as unknown[]).length >= 1);
  });

  it('sees every order and ends while other clients change orders concurrently', async () => {
    await resetTimestamps();
    let stop = false;
    const writes: Promise<unknown>[] = [];
    let n = 0;
    let done = 0;
    let doneWhileSyncing = 0;
    // writers: comment on random orders as fast as they can while the sync runs
    const writer = async () => {
      while (!stop) {
        const id = ids[(n++ * 37) % ids.length]!;
        const res = await call(t.app, t.auth, 'POST', `/api/v1/orders/${id}/comments`, { text: 'concurrent' });
        assert.equal(res.statusCode, 200);
        done += 1;
        await new Promise((r) => setImmediate(r));
      }
    };
    for (let i = 0; i < 3; i++) writes.push(writer());
    const state = new Map<number, SyncedOrder>();
    let r: SyncResult;
    try {
      // each write moves one order to the end; bound the run generously but finitely
      r = await sync(get, firstPath, '2000-01-01T00:00:00Z', state, {
        maxRequests: 50,
        afterPage: async (page) => {
          if (page >= 6) stop = true; // writers stop eventually, so the client can catch up
          // a real client takes a moment to store each page; the writers keep going meanwhile
          await new Promise((r) => setTimeout(r, 15));
        },
      });
      doneWhileSyncing = done;
    } finally {
      stop = true;
      await Promise.all(writes);
    }
    assert.deepEqual([...state.keys()].sort((a, b) => a - b), ids, 'every order seen');
    assert.ok(doneWhileSyncing >= 3, `only ${doneWhileSyncing} writes landed while the client paged`);
    // a follow-up run from the checkpoint (as the docs say) brings the client up to date
    const follow = await sync(get, firstPath, r.checkpoint, state, { maxRequests: 10 });
    assert.ok(follow.requests >= 1);
    const now = await dbState();
    for (const [id, updatedAt] of now) assert.equal(Date.parse(state.get(id)!.updated_at), updatedAt, `order ${id}: the client holds an old version`);
  });

  it('a client building page=N itself (no cursor) still terminates at the last page', async () => {
    await resetTimestamps();
    const seen = new Set<number>();
    let page = 1;
    for (;;) {
      const body = await get(`${firstPath('2000-01-01T00:00:00Z')}&page=${page}`);
      for (const o of body.data) seen.add(o.id);
      assert.equal(body.meta.page_count, Math.ceil(TOTAL / PAGE));
      if (!('next' in body.meta)) break;
      page += 1;
      assert.ok(page <= 4);
    }
    assert.equal(seen.size, TOTAL);
  });

  describe('over a real socket', () => {
    let base: string;
    before(async () => {
      // a second app instance is not needed: listen the same one (inject keeps working)
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const address = t.app.server.address();
      assert.ok(address && typeof address === 'object');
      base = `http://127.0.0.1:${address.port}`;
    });

    it('follows the absolute next URLs verbatim with fetch and sees every order', async () => {
      await resetTimestamps();
      const getHttp = async (url: string) => {
        const res = await fetch(url.startsWith('http') ? url : `${base}${url}`, { headers: { authorization: t.auth } });
        assert.equal(res.status, 200, await res.clone().text());
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        const body = (await res.json()) as { data: SyncedOrder[]; meta: { next?: string } };
        if (body.meta.next) assert.ok(body.meta.next.startsWith(`${base}/api/v0/orders?`), body.meta.next);
        return body;
      };
      const r = await sync(getHttp, firstPath, '2000-01-01T00:00:00Z', new Map(), { maxRequests: Math.ceil(TOTAL / PAGE) });
      assert.equal(r.received.length, TOTAL);
      assert.equal(r.seen.size, TOTAL);
    });

    it('creates an order, refuses bad credentials and an oversized body over HTTP', async () => {
      const created = await fetch(`${base}/api/v1/orders`, {
        method: 'POST',
        headers: { authorization: t.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ customer_information: { first_name: 'Socket' }, products: [{ product_code: 'S', product_name: 'Socket', quantity: 3, unit_price: 19.99 }], shipping_costs: 4.9, discount: 0.99 }),
      });
      assert.equal(created.status, 200);
      const order = ((await created.json()) as { data: { id: number; total: number } }).data;
      assert.equal(order.total, 63.88);

      const denied = await fetch(`${base}/api/v1/orders`, { headers: { authorization: 'Basic Zm9vOmJhcg==' } });
      assert.equal(denied.status, 401);
      assert.match(denied.headers.get('www-authenticate') ?? '', /^Basic/);
      assert.equal(((await denied.json()) as { code: number }).code, 401);

      const big = await fetch(`${base}/api/v1/orders`, {
        method: 'POST',
        headers: { authorization: t.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ details: 'x'.repeat(2 * 1024 * 1024) }),
      });
      assert.equal(big.status, 413);
      assert.equal(((await big.json()) as { code: number }).code, 413);

      const slash = await fetch(`${base}/api/v0/orders/`, { headers: { authorization: t.auth } });
      assert.equal(slash.status, 404);
      assert.match(((await slash.json()) as { message: string }).message, /trailing slash/);
    });
  });
});
