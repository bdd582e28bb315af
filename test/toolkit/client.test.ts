// storehook/client against a live server (a real HTTP listener): typed calls, paging over several
// pages by following meta.next, ApiError carrying the error body, 429 retried after Retry-After
// (bounded), 503 handling, and unreachable servers.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { ApiError, ConnectionError, StorehookClient, parseRetryAfter, type RetryInfo } from '../../src/client/index.js';
import { loadConfig, type Config } from '../../src/config.js';
import { parseAllowList } from '../../src/delivery/network-guard.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { freshDatabase, type FreshDatabase } from '../helpers/database.js';
import { orderBody } from '../helpers/app.js';
import { freePort } from '../helpers/toolkit-processes.js';

interface Live {
  server: RunningServer;
  fresh: FreshDatabase;
  client: (extra?: Partial<ConstructorParameters<typeof StorehookClient>[0]>) => StorehookClient;
}

async function live(overrides: Partial<Config> = {}): Promise<Live> {
  const fresh = await freshDatabase('sqlite');
  await fresh.database.close();
  const config: Config = { ...loadConfig({}, {}), port: 0, host: '127.0.0.1', dataDir: fresh.dataDir, rateLimitPerSecond: 0, ...overrides };
  const server = await startServer({ config, api: true, dispatcher: false, seedDemo: true, logger: pino({ level: 'silent' }) });
  const creds = server.demoCredentials!;
  return {
    server,
    fresh,
    client: (extra = {}) => new StorehookClient({ baseUrl: server.url, email: creds.email, apiKey: creds.apiKey, ...extra }),
  };
}

describe('storehook/client against a live server', () => {
  let l: Live;
  before(async () => {
    l = await live({ allowTargets: parseAllowList('127.0.0.0/8') });
  });
  after(async () => {
    await l.server.close();
    await l.fresh.cleanup();
  });

  it('creates and reads orders with the server types, and lists every page following meta.next', async () => {
    const api = l.client();
    const created = [];
    for (let i = 0; i < 23; i++) created.push(await api.orders.create(orderBody({ external_id: `ext-${i}` }) as never));
    assert.equal(created[0]!.status, 'OPEN');
    assert.equal(created[0]!.products?.length, 2);

    const pages = [];
    for await (const page of api.orders.pages({ page_size: 10, expand: ['payments'] })) pages.push(page);
    assert.equal(pages.length, 3, 'more than one page');
    assert.deepEqual(pages.map((p) => p.data.length), [10, 10, 3]);
    assert.equal(pages[0]!.meta.item_count, 23);
    assert.equal(pages[2]!.meta.next, undefined);

    const ids: number[] = [];
    for await (const order of api.orders.listAll({ page_size: 7, sort: 'id-desc', expand: ['payments'] })) {
      ids.push(order.id);
      assert.equal(order.payments?.length, 1, 'the expand carries over to every page');
    }
    assert.deepEqual(ids, created.map((o) => o.id).reverse());

    const one = await api.orders.get(created[4]!.id, { expand: ['products', 'tax_summary'] });
    assert.equal(one.external_id, 'ext-4');
    assert.ok(one.tax_summary);
    const comment = await api.orders.addComment(one.id, { text: 'hi', visibility: 'PUBLIC' });
    assert.equal((await api.orders.comments(one.id))[0]!.id, comment.id);
    const cancelled = await api.orders.cancel(created[5]!.id);
    assert.equal(cancelled.status, 'CANCELLED');
    const listedCancelled = await api.orders.list({ status: 'cancelled' });
    assert.deepEqual(listedCancelled.data.map((o) => o.id), [created[5]!.id]);
  });

  it('throws ApiError with the API error body (404, 400 with field errors, 409)', async () => {
    const api = l.client();
    await assert.rejects(api.orders.get(999_999), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 404);
      assert.equal(err.body.code, 404);
      assert.match(err.body.message, /Order 999999 was not found/);
      assert.ok(err.requestId);
      return true;
    });
    await assert.rejects(api.orders.create({ customer_information: {}, products: [] } as never), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 400);
      assert.ok(err.fieldErrors.some((e) => e.field === 'products'));
      return true;
    });
    const order = await api.orders.create(orderBody() as never);
    await api.orders.quickProcess(order.id);
    await assert.rejects(api.orders.cancel(order.id), (err: unknown) => err instanceof ApiError && err.status === 409 && /COMPLETED and cannot be cancelled/.test(err.body.message));
    const wrong = new StorehookClient({ baseUrl: `${l.server.url}/api/v1/`, email: 'demo@storehook.local', apiKey: 'shk_wrong' });
    await assert.rejects(wrong.orders.list(), (err: unknown) => err instanceof ApiError && err.status === 401);
  });

  it('manages webhook subscriptions', async () => {
    const api = l.client();
    const topics = await api.webhooks.topics();
    assert.ok(topics.some((t) => t.name === 'order.created' && 'id' in t.example.data && t.example.data.id > 0));
    const sub = await api.webhooks.create({ topic: 'order.created', url: 'http://127.0.0.1:9/hooks', expands: ['products'] });
    assert.equal(sub.status, 'active');
    const all = [];
    for await (const s of api.webhooks.listAll()) all.push(s.uuid);
    assert.deepEqual(all, [sub.uuid]);
    assert.equal((await api.webhooks.update(sub.uuid, { status: 'disabled' })).status, 'disabled');
    assert.equal(sub.signing.hmac, 'uuid');
    const rotated = await api.webhooks.rotateSecret(sub.uuid, { overlap_hours: 1 });
    assert.match(rotated.secret ?? '', /^whsec_/);
    assert.deepEqual(rotated.signing.keys.map((k) => k.kind), ['hmac', 'uuid']);
    const signed = await api.webhooks.update(sub.uuid, { signing: { ed25519: true } });
    assert.match(signed.public_key ?? '', /^whpk_/);
    await api.webhooks.delete(sub.uuid);
    await assert.rejects(api.webhooks.get(sub.uuid), (err: unknown) => err instanceof ApiError && err.status === 404);
  });

  it('throws ConnectionError when nothing answers, or the answer is not storehook JSON', async () => {
    const port = await freePort();
    const api = new StorehookClient({ baseUrl: `http://127.0.0.1:${port}`, email: 'a@b.c', apiKey: 'k' });
    await assert.rejects(api.orders.list(), (err: unknown) => err instanceof ConnectionError && /connection refused/.test(err.message));
    assert.throws(() => new StorehookClient({ baseUrl: 'localhost:8080', email: 'a', apiKey: 'b' }), /http/);
  });
});

describe('storehook/client retries', () => {
  it('retries a 429 after Retry-After, and gives up when the wait is too long or the retries run out', async () => {
    // A tiny rate limit: 2 requests at once, then 1 per second.
    const l = await live({ rateLimitPerSecond: 1, rateLimitBurst: 2 });
    try {
      const retries: RetryInfo[] = [];
      const api = l.client({ onRetry: (r) => retries.push(r) });
      const started = Date.now();
      for (let i = 0; i < 4; i++) await api.orders.list();
      assert.ok(retries.length >= 1, 'some request was rate limited and retried');
      assert.ok(retries.every((r) => r.status === 429 && r.waitMs >= 1000 && r.waitMs <= 2000), JSON.stringify(retries));
      assert.ok(Date.now() - started >= 1000, 'it waited as Retry-After said');

      const impatient = l.client({ maxRetries: 0 });
      let limited: ApiError | undefined;
      for (let i = 0; i < 5 && !limited; i++) {
        try {
          await impatient.orders.list();
        } catch (err) {
          if (err instanceof ApiError) limited = err;
          else throw err;
        }
      }
      assert.ok(limited, 'without retries the 429 reaches the caller');
      assert.equal(limited.status, 429);
      assert.ok((limited.retryAfterSec ?? 0) >= 1);
      assert.match(limited.body.message, /Rate limit reached/);

      const bounded = l.client({ maxRetryWaitMs: 100 });
      const t0 = Date.now();
      let refused: unknown;
      for (let i = 0; i < 5 && !refused; i++) await bounded.orders.list().catch((err: unknown) => (refused = err));
      assert.ok(refused instanceof ApiError && refused.status === 429, 'a Retry-After beyond maxRetryWaitMs is not waited for');
      assert.ok(Date.now() - t0 < 900);
    } finally {
      await l.server.close();
      await l.fresh.cleanup();
    }
  });

  it('retries 503 (honouring Retry-After), but not a POST answered 503 without Retry-After', async () => {
    let calls = 0;
    const stub: Server = createServer((req, res) => {
      calls++;
      if (req.url?.startsWith('/api/v1/orders') && req.method === 'GET' && calls < 3) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' }).end(JSON.stringify({ code: 503, error: 'Service Unavailable', message: 'busy' }));
        return;
      }
      if (req.method === 'POST') {
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 503, error: 'Service Unavailable', message: 'database down' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [], meta: { page: 1, page_size: 50, page_count: 0, item_count: 0 } }));
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    try {
      const api = new StorehookClient({ baseUrl: `http://127.0.0.1:${(stub.address() as AddressInfo).port}`, email: 'a@b.c', apiKey: 'k' });
      const page = await api.orders.list();
      assert.equal(page.meta.item_count, 0);
      assert.equal(calls, 3, 'two 503s, then the answer');
      calls = 0;
      await assert.rejects(api.orders.create(orderBody() as never), (err: unknown) => err instanceof ApiError && err.status === 503 && err.body.message === 'database down');
      assert.equal(calls, 1, 'a POST may have been done: not repeated');
    } finally {
      await new Promise<void>((resolve) => stub.close(() => resolve()));
    }
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(Date.now() + 5000).toUTCString(), Date.now())! > 3000, true);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});
