// End to end against a running storehook (startServer: API, legacy bridge, dispatcher), over real
// HTTP: an integration written for the old XML extension runs its loop unchanged — fetch changes
// since a timestamp, deliver each order, add a comment — and JSON subscribers get the webhooks
// that causes; the automatic POST goes through the delivery engine with retries.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { parseAllowList, NetworkGuard } from '../../src/delivery/network-guard.js';
import { issueLegacyKey, legacyStatus, setIncludeApiOrders, setPostUrl } from '../../src/legacy/settings.js';
import { findStore } from '../../src/admin/stores.js';
import { decodeSecret, signatureMatches, verify } from '../../src/sdk/verify.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { forEachDialect, freshDatabase, type FreshDatabase } from '../helpers/database.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { child, childrenNamed, parseXml, textAt, type XmlTree } from '../helpers/xml-reader.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

forEachDialect('legacy bridge end to end (running server)', (dialect) => {
  let server: RunningServer;
  let fresh: FreshDatabase | undefined;
  let dataDir: string;
  let auth: string;
  let key: string;
  let jsonReceiver: Receiver;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'storehook-legacy-e2e-'));
    if (dialect === 'postgres') fresh = await freshDatabase('postgres', { migrate: false });
    const config: Config = {
      ...loadConfig({}, {}),
      port: 0,
      host: '127.0.0.1',
      dataDir,
      databaseUrl: fresh?.databaseUrl,
      allowTargets: parseAllowList('127.0.0.0/8'),
      retryBaseMs: 100,
      pollIntervalMs: 50,
      rateLimitPerSecond: 0,
      logLevel: 'silent',
    };
    server = await startServer({ config, api: true, dispatcher: true, seedDemo: true, logger: pino({ level: 'silent' }) });
    const creds = server.demoCredentials!;
    auth = `Basic ${Buffer.from(`${creds.email}:${creds.apiKey}`).toString('base64')}`;
    key = (await issueLegacyKey(server.database, 'demo', { rotate: false })).key!;
    jsonReceiver = await startReceiver();
  });

  after(async () => {
    await server?.close();
    await jsonReceiver?.close();
    await fresh?.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as { data: any };
  };
  /** What the old PHP integrations did: GET with the key in the URL, POST form fields. */
  const legacyGet = async (path: string): Promise<{ status: number; type: string | null; doc: XmlTree }> => {
    const res = await fetch(`${server.url}/webhooks/${path}${path.includes('?') ? '&' : '?'}key=${key}`, { headers: { accept: 'application/xml' } });
    return { status: res.status, type: res.headers.get('content-type'), doc: parseXml(await res.text()) };
  };
  const legacyPost = async (path: string, fields: Record<string, string>) => {
    const res = await fetch(`${server.url}/webhooks/${path}`, { method: 'POST', body: new URLSearchParams({ ...fields, key }) });
    return { status: res.status, doc: parseXml(await res.text()) };
  };
  const newOrder = async (name: string) =>
    (await api('POST', '/api/v1/orders', { customer_information: { first_name: name, email: `${name.toLowerCase()}@example.com` }, products: [{ product_code: 'SKU-1', product_name: 'Thing', quantity: 1, unit_price: 10 }], shipping_costs: 4.9 })).data.id as number;

  it('runs an old-style integration loop unchanged, and its actions reach JSON subscribers', async () => {
    const completed = await api('POST', '/api/v1/webhooks', { topic: 'order.completed', expands: ['shipments'], url: jsonReceiver.url });
    const commented = await api('POST', '/api/v1/webhooks', { topic: 'order.comment_created', expands: ['comments'], url: jsonReceiver.url });
    const startTs = Math.floor(Date.now() / 1000) - 1;
    const ids = [await newOrder('Aino'), await newOrder('Eino'), await newOrder('Veikko')];

    // The integration's loop: changes since its checkpoint, each open order delivered and commented.
    let ts = startTs;
    const handled: number[] = [];
    // Orders seen again after the integration handled them. When the three orders land in
    // different seconds, a later page of this first loop already holds the earlier ones' changes.
    const seenAgain = new Map<number, string>();
    for (let round = 0; handled.length < ids.length; round++) {
      assert.ok(round < 100, `the loop found ${handled.length} of ${ids.length} orders`);
      const page = await legacyGet(`changes?ts=${ts}`);
      assert.equal(page.status, 200);
      assert.equal(page.type, 'application/xml; charset=utf-8');
      for (const order of childrenNamed(page.doc, 'Order')) {
        if (textAt(order, 'OrderStatus') !== 'Open') {
          if (handled.includes(Number(textAt(order, 'OrderNumber')))) seenAgain.set(Number(textAt(order, 'OrderNumber')), textAt(order, 'OrderStatus'));
          continue;
        }
        const number = textAt(order, 'OrderNumber');
        const comment = await legacyPost('process', { action: 'add_comment', order: number, message: 'Tilauksesi on toimitettu. Seurantakoodi: JJFI123.', public_message: '1' });
        assert.equal(comment.status, 200);
        const delivered = await legacyPost('process', { action: 'deliver', order: number, send_email: '1' });
        assert.equal(delivered.status, 200);
        assert.equal(delivered.doc.name, 'success');
        handled.push(Number(number));
      }
      ts = Number(page.doc.attrs['time_to']) + 1;
      await sleep(100);
    }
    assert.deepEqual(handled.sort((a, b) => a - b), ids);

    // The state changed exactly as in the new API.
    for (const id of ids) {
      const order = (await api('GET', `/api/v1/orders/${id}?expand=shipments,comments`)).data;
      assert.equal(order.status, 'COMPLETED');
      assert.ok(order.shipments.every((s: { status: string }) => s.status === 'COMPLETED'));
      assert.deepEqual(order.comments.map((c: { visibility: string; text: string }) => [c.visibility, c.text]), [['PUBLIC', 'Tilauksesi on toimitettu. Seurantakoodi: JJFI123.']]);
    }

    // …and the JSON subscribers were told, signed with their uuids.
    await jsonReceiver.waitFor(6, 10_000);
    const secrets = new Map([['order.completed', completed.data.uuid as string], ['order.comment_created', commented.data.uuid as string]]);
    const got = jsonReceiver.requests.map((r) => {
      const topic = String(r.headers['webhook-topic']);
      const body = verify(r.body, r.headers, secrets.get(topic)!) as { topic: string; data: { id: number; status: string } };
      assert.equal(r.headers['content-type'], 'application/json');
      return `${body.topic}:${body.data.id}`;
    });
    assert.deepEqual(got.sort(), ids.flatMap((id) => [`order.comment_created:${id}`, `order.completed:${id}`]).sort());

    // Paging on, the integration sees its own changes: the same orders, now Shipped.
    for (let round = 0; seenAgain.size < ids.length; round++) {
      assert.ok(round < 50);
      const page = await legacyGet(`changes?ts=${ts}`);
      for (const order of childrenNamed(page.doc, 'Order')) seenAgain.set(Number(textAt(order, 'OrderNumber')), textAt(order, 'OrderStatus'));
      ts = Number(page.doc.attrs['time_to']) + 1;
      await sleep(100);
    }
    assert.deepEqual([...seenAgain.values()], ['Shipped', 'Shipped', 'Shipped']);
  });

  it('sends the automatic POST of a new order through the delivery engine, retrying until the receiver takes it', async () => {
    let calls = 0;
    const receiver = await startReceiver(() => (++calls <= 2 ? { status: 500, body: 'not yet' } : { status: 200, body: 'OK' }));
    try {
      const guard = new NetworkGuard(parseAllowList('127.0.0.0/8'));
      await setPostUrl(server.database, { guard, httpsOnly: false, maxSubscriptions: 100 }, 'demo', receiver.url);

      // An order created through the API is not POSTed by default (MyCashflow skipped them too)…
      const skipped = await newOrder('Api');
      await sleep(500);
      assert.equal(receiver.requests.length, 0, 'API orders are skipped by default');

      // …unless the store includes them.
      await setIncludeApiOrders(server.database, 'demo', true);
      const id = await newOrder('Lempi');
      await receiver.waitFor(3, 10_000);
      const [first, second, third] = receiver.requests;
      assert.ok(first && second && third);
      for (const r of receiver.requests) {
        assert.equal(r.method, 'POST');
        assert.equal(r.headers['content-type'], 'application/xml; charset=utf-8');
        assert.equal(r.headers['webhook-topic'], 'legacy.order_xml');
        assert.equal(r.headers['webhook-id'], first.headers['webhook-id'], 'the same message on every attempt');
        assert.equal(r.body, first.body, 'the same bytes on every attempt');
      }
      assert.deepEqual(receiver.requests.map((r) => r.headers['webhook-attempt']), ['1', '2', '3']);
      const order = child(parseXml(first.body), 'Order');
      assert.equal(textAt(order, 'OrderNumber'), String(id));
      assert.notEqual(id, skipped);

      // Signed like every message, with the internal subscription's uuid as the key.
      const status = await legacyStatus(server.database.kysely, await findStore(server.database.kysely, 'demo'));
      const uuid = status.subscriptionUuid!;
      assert.ok(signatureMatches(decodeSecret(uuid), String(third.headers['webhook-id']), String(third.headers['webhook-timestamp']), third.body, String(third.headers['webhook-signature'])));

      // The delivery log shows it like any other message; the public list does not show the subscription.
      let log: { data: { status: string; attempt_count: number; topic: string }[] } = { data: [] };
      for (let i = 0; i < 50 && log.data[0]?.status !== 'delivered'; i++) {
        await sleep(50);
        log = await api('GET', `/api/v1/webhooks/${uuid}/deliveries`);
      }
      assert.equal(log.data[0]?.status, 'delivered');
      assert.equal(log.data[0]?.attempt_count, 3);
      assert.equal(log.data[0]?.topic, 'legacy.order_xml');
      const list = await api('GET', '/api/v1/webhooks');
      assert.ok(list.data.every((s: { uuid: string }) => s.uuid !== uuid));

      // /webhooks/send: the order POSTed again now, answered with the outcome.
      const before = receiver.requests.length;
      const sent = await legacyGet(`send?order=${skipped}`);
      assert.equal(sent.status, 200);
      assert.equal(sent.doc.name, 'success');
      assert.equal(receiver.requests.length, before + 1);
      assert.equal(textAt(child(parseXml(receiver.requests[before]!.body), 'Order'), 'OrderNumber'), String(skipped), 'send works for an API order too');
    } finally {
      await receiver.close();
    }
  });

  it('answers /webhooks/send with a 502 <error> when the receiver fails, and retries it', async () => {
    let calls = 0;
    const receiver = await startReceiver(() => (++calls === 1 ? { status: 503, body: 'down' } : { status: 200 }));
    try {
      const guard = new NetworkGuard(parseAllowList('127.0.0.0/8'));
      await setPostUrl(server.database, { guard, httpsOnly: false, maxSubscriptions: 100 }, 'demo', receiver.url);
      await setIncludeApiOrders(server.database, 'demo', false);
      const id = await newOrder('Send');
      const res = await fetch(`${server.url}/webhooks/send`, { method: 'POST', body: new URLSearchParams({ order: String(id), key }) });
      assert.equal(res.status, 502);
      const doc = parseXml(await res.text());
      assert.equal(doc.name, 'error');
      assert.match(doc.text, /receiver answered 503.*retried automatically/);
      await receiver.waitFor(2, 10_000);
      assert.equal(receiver.requests[1]!.headers['webhook-id'], receiver.requests[0]!.headers['webhook-id']);
    } finally {
      await receiver.close();
    }
  });
});
