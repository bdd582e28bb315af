/**
 * The subscriptions half of the Webhooks API (SPEC §3): create, list, read, change, delete,
 * every validation rule, the network guard at subscribe time, tenancy, and the uuid's randomness.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { ORDER_TOPICS } from '../../src/orders/events.js';
import { forEachDialect } from '../helpers/database.js';
import { api, PUBLIC_TARGET, startHarness, subscribe, type Harness } from '../helpers/webhooks-app.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

forEachDialect('webhooks API: subscriptions', (dialect) => {
  // One database for the suite; every test works as the user of a store of its own.
  let h: Harness;
  before(async () => {
    h = await startHarness(dialect);
  });
  beforeEach(async () => {
    Object.assign(h, await h.addStore());
    h.requeued.count = 0;
  });
  after(async () => {
    await h.close();
  });

  test('POST answers 200 with the subscription (MCF shape), readable with GET', async () => {
    const before = Date.now();
    const res = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', expands: ['products', 'payments'], url: `${PUBLIC_TARGET}/hooks/erp` });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const s = res.body.data;
    assert.match(s.uuid, UUID_V4);
    assert.equal(s.user_id, h.userId);
    assert.equal(s.topic, 'order.created');
    assert.deepEqual(s.expands, ['products', 'payments']);
    assert.equal(s.url, `${PUBLIC_TARGET}/hooks/erp`);
    assert.equal(s.status, 'active');
    assert.equal(s.disabled_reason, null);
    assert.match(s.created_at, ISO_WITH_OFFSET);
    assert.ok(Date.parse(s.created_at) >= before - 1 && Date.parse(s.created_at) <= Date.now() + 1);
    assert.equal(s.updated_at, s.created_at);

    const one = await api(h, 'GET', `/api/v1/webhooks/${s.uuid}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.data, s);
    // An upper-case spelling of the uuid finds the same subscription.
    const upper = await api(h, 'GET', `/api/v1/webhooks/${s.uuid.toUpperCase()}`);
    assert.equal(upper.status, 200);
    assert.equal(upper.body.data.uuid, s.uuid);

    const list = await api(h, 'GET', '/api/v1/webhooks');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data, [s]);
    assert.deepEqual(list.body.meta, { page: 1, page_size: 50, page_count: 1, item_count: 1 });
  });

  test('expands default to [] and repeated values are kept once', async () => {
    const none = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.updated', url: `${PUBLIC_TARGET}/a` });
    assert.equal(none.status, 200);
    assert.deepEqual(none.body.data.expands, []);
    const twice = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.updated', url: `${PUBLIC_TARGET}/b`, expands: ['events', 'events', 'comments'] });
    assert.equal(twice.status, 200);
    assert.deepEqual(twice.body.data.expands, ['events', 'comments']);
  });

  test('GET /webhooks is paged: meta, next only while another page exists', async () => {
    const created = [];
    for (let i = 0; i < 5; i++) created.push((await subscribe(h, 'order.created', `${PUBLIC_TARGET}/p${i}`)).uuid);
    const p1 = await api(h, 'GET', '/api/v1/webhooks?page_size=2');
    assert.equal(p1.status, 200);
    assert.equal(p1.body.data.length, 2);
    assert.equal(p1.body.meta.page, 1);
    assert.equal(p1.body.meta.page_size, 2);
    assert.equal(p1.body.meta.page_count, 3);
    assert.equal(p1.body.meta.item_count, 5);
    assert.ok(p1.body.meta.next, 'first page links to the next');
    const next = new URL(p1.body.meta.next as string);
    assert.equal(next.searchParams.get('page'), '2');
    const p2 = await api(h, 'GET', `${next.pathname}${next.search}`);
    assert.equal(p2.body.data.length, 2);
    assert.ok(p2.body.meta.next);
    const p3 = await api(h, 'GET', '/api/v1/webhooks?page=3&page_size=2');
    assert.equal(p3.body.data.length, 1);
    assert.equal(p3.body.meta.next, undefined, 'the last page has no next');
    const seen = [...p1.body.data, ...p2.body.data, ...p3.body.data].map((s: { uuid: string }) => s.uuid);
    assert.deepEqual([...seen].sort(), [...created].sort());
    assert.equal(new Set(seen).size, 5);
    const bad = await api(h, 'GET', '/api/v1/webhooks?page_size=0');
    assert.equal(bad.status, 400);
  });

  test('PATCH changes url, expands and status; disabling records who, enabling clears it', async () => {
    const s = await subscribe(h, 'order.updated', `${PUBLIC_TARGET}/old`);
    const url = await api(h, 'PATCH', `/api/v1/webhooks/${s.uuid}`, { url: `${PUBLIC_TARGET}/new` });
    assert.equal(url.status, 200, JSON.stringify(url.body));
    assert.equal(url.body.data.url, `${PUBLIC_TARGET}/new`);
    assert.equal(url.body.data.uuid, s.uuid, 'the uuid (the signing key) never changes');

    const expands = await api(h, 'PATCH', `/api/v1/webhooks/${s.uuid}`, { expands: ['shipments', 'tax_summary'] });
    assert.equal(expands.status, 200);
    assert.deepEqual(expands.body.data.expands, ['shipments', 'tax_summary']);
    assert.equal(expands.body.data.url, `${PUBLIC_TARGET}/new`);

    const off = await api(h, 'PATCH', `/api/v1/webhooks/${s.uuid}`, { status: 'disabled' });
    assert.equal(off.status, 200);
    assert.equal(off.body.data.status, 'disabled');
    assert.match(off.body.data.disabled_reason, new RegExp(h.email.replace(/[.]/g, '\\.')));

    const on = await api(h, 'PATCH', `/api/v1/webhooks/${s.uuid}`, { status: 'active' });
    assert.equal(on.status, 200);
    assert.equal(on.body.data.status, 'active');
    assert.equal(on.body.data.disabled_reason, null);
    assert.equal(h.requeued.count, 1, 'enabling again wakes the dispatcher');

    const read = await api(h, 'GET', `/api/v1/webhooks/${s.uuid}`);
    assert.deepEqual(read.body.data, on.body.data);
    assert.equal(read.body.data.topic, 'order.updated', 'the topic is not changeable');
  });

  test('PATCH validates like POST', async () => {
    const s = await subscribe(h, 'order.updated', `${PUBLIC_TARGET}/one`);
    const other = await subscribe(h, 'order.updated', `${PUBLIC_TARGET}/two`);
    const cases: [unknown, number, RegExp][] = [
      [{}, 400, /at least one field/],
      [{ topic: 'order.created' }, 400, /topic/],
      [{ expands: ['customers'] }, 400, /"customers" not allowed/],
      [{ url: 'ftp://93.184.216.34/x' }, 400, /scheme ftp:/],
      [{ url: 'http://10.1.2.3/x' }, 400, /private/],
      [{ status: 'paused' }, 400, /status/],
      [{ url: other.url }, 409, new RegExp(other.uuid)],
    ];
    for (const [body, status, message] of cases) {
      const res = await api(h, 'PATCH', `/api/v1/webhooks/${s.uuid}`, body);
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, message, JSON.stringify(body));
    }
    // Setting a subscription's own url again is not a duplicate of itself.
    const same = await api(h, 'PATCH', `/api/v1/webhooks/${s.uuid}`, { url: s.url });
    assert.equal(same.status, 200);
    const after = await api(h, 'GET', `/api/v1/webhooks/${s.uuid}`);
    assert.equal(after.body.data.url, s.url);
    assert.deepEqual(after.body.data.expands, []);
    assert.equal(after.body.data.status, 'active');
  });

  test('DELETE answers 204, then the subscription is 404 everywhere and its messages are gone', async () => {
    const s = await subscribe(h, 'order.created', `${PUBLIC_TARGET}/gone`);
    const keep = await subscribe(h, 'order.created', `${PUBLIC_TARGET}/kept`);
    const order = await api(h, 'POST', '/api/v1/orders', { customer_information: { first_name: 'A' }, products: [{ product_code: 'x', product_name: 'X', quantity: 1, unit_price: 1 }] });
    assert.equal(order.status, 200);
    const count = async (uuid: string) => Number((await h.database.kysely.selectFrom('webhook_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('subscription_uuid', '=', uuid).executeTakeFirstOrThrow()).n);
    assert.equal(await count(s.uuid), 1);

    const del = await api(h, 'DELETE', `/api/v1/webhooks/${s.uuid}`);
    assert.equal(del.status, 204);
    assert.equal(del.body, null);
    assert.equal(await count(s.uuid), 0, 'pending messages to it are dropped');
    assert.equal(await count(keep.uuid), 1, 'other subscriptions keep theirs');
    for (const [method, path] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['GET', '/deliveries'], ['POST', '/test']] as const) {
      const res = await api(h, method, `/api/v1/webhooks/${s.uuid}${path}`, method === 'PATCH' ? { status: 'active' } : undefined);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.match(res.body.message, new RegExp(s.uuid));
    }
    const list = await api(h, 'GET', '/api/v1/webhooks');
    assert.deepEqual(list.body.data.map((x: { uuid: string }) => x.uuid), [keep.uuid]);
    // The same (topic, url) can be subscribed again once deleted.
    assert.equal((await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url: `${PUBLIC_TARGET}/gone` })).status, 200);
  });

  test('a path that is not a uuid is a 404, not a 500', async () => {
    for (const id of ['abc', '1', "x'or'1'='1", '00000000-0000-4000-8000-000000000000']) {
      const res = await api(h, 'GET', `/api/v1/webhooks/${encodeURIComponent(id)}`);
      assert.equal(res.status, 404, id);
      assert.equal(res.body.code, 404);
    }
  });

  test('validation: each bad body is a 400 that says what is wrong, and nothing is stored', async () => {
    const allTopics = ORDER_TOPICS.join(', ');
    const cases: [string, unknown, RegExp][] = [
      ['unknown topic lists the allowed ones', { topic: 'order.deleted', url: `${PUBLIC_TARGET}/x` }, new RegExp(`unknown topic "order\\.deleted"; allowed: ${allTopics.replace(/\./g, '\\.')}`)],
      ['the test topic is not subscribable', { topic: 'webhook.test', url: `${PUBLIC_TARGET}/x` }, /unknown topic/],
      ['missing topic', { url: `${PUBLIC_TARGET}/x` }, /topic is required/],
      ['expands outside the topic list', { topic: 'order.created', url: `${PUBLIC_TARGET}/x`, expands: ['products', 'customer'] }, /"customer" not allowed for order\.created; allowed: products, products\.return_reasons, shipments, payments, comments, events, tax_summary/],
      ['missing url', { topic: 'order.created' }, /url is required/],
      ['empty url', { topic: 'order.created', url: '' }, /url/],
      ['relative url', { topic: 'order.created', url: '/hooks/erp' }, /must be an absolute URL/],
      ['host without scheme', { topic: 'order.created', url: 'erp.example.com/hooks' }, /must be an absolute URL/],
      ['ftp:', { topic: 'order.created', url: 'ftp://93.184.216.34/hooks' }, /scheme ftp: is not allowed/],
      ['javascript:', { topic: 'order.created', url: 'javascript:alert(1)' }, /scheme javascript: is not allowed/],
      ['file:', { topic: 'order.created', url: 'file:///etc/passwd' }, /scheme file: is not allowed/],
      ['data:', { topic: 'order.created', url: 'data:text/plain,hi' }, /scheme data: is not allowed/],
      ['user and password', { topic: 'order.created', url: 'http://user:secret@93.184.216.34/hooks' }, /must not contain a user name or password/],
      ['user only', { topic: 'order.created', url: 'https://user@93.184.216.34/hooks' }, /must not contain a user name or password/],
      ['longer than 2048', { topic: 'order.created', url: `${PUBLIC_TARGET}/${'a'.repeat(2048)}` }, /url.*2048/],
      ['longer than 2048 once percent-encoded', { topic: 'order.created', url: `${PUBLIC_TARGET}/${'ä'.repeat(1000)}` }, /url.*2048/],
      ['a #fragment', { topic: 'order.created', url: `${PUBLIC_TARGET}/hook#part` }, /#fragment/],
      ['unknown field', { topic: 'order.created', url: `${PUBLIC_TARGET}/x`, secret: 'x' }, /secret is not a known field/],
      ['expands not an array', { topic: 'order.created', url: `${PUBLIC_TARGET}/x`, expands: { products: true } }, /expands/],
      ['expands a string, not a list', { topic: 'order.created', url: `${PUBLIC_TARGET}/x`, expands: 'products' }, /expands must be array/],
      ['url not a string', { topic: 'order.created', url: 42 }, /url/],
    ];
    for (const [name, body, message] of cases) {
      const res = await api(h, 'POST', '/api/v1/webhooks', body);
      assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 400, name);
      assert.match(res.body.message, message, name);
      assert.ok(Array.isArray(res.body.errors) && res.body.errors.length > 0, `${name}: names the field`);
    }
    const list = await api(h, 'GET', '/api/v1/webhooks');
    assert.equal(list.body.meta.item_count, 0);
  });

  test('a url of exactly 2048 characters is accepted', async () => {
    const base = `${PUBLIC_TARGET}/`;
    const url = base + 'a'.repeat(2048 - base.length);
    assert.equal(url.length, 2048);
    const res = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url });
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
    assert.equal(res.body.data.url, url);
  });

  test('a duplicate (topic, url) is 409 naming the existing uuid; another topic or store may use the url', async () => {
    const first = await subscribe(h, 'order.created', `${PUBLIC_TARGET}/dup`);
    const dup = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url: `${PUBLIC_TARGET}/dup`, expands: ['products'] });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, 409);
    assert.match(dup.body.message, new RegExp(first.uuid));
    // The same URL written differently (host case, default port) is the same URL.
    const spelled = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url: 'HTTP://93.184.216.34:80/dup' });
    assert.equal(spelled.status, 409, JSON.stringify(spelled.body));
    assert.match(spelled.body.message, new RegExp(first.uuid));

    assert.equal((await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.updated', url: `${PUBLIC_TARGET}/dup` })).status, 200);
    const other = await h.addStore();
    assert.equal((await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url: `${PUBLIC_TARGET}/dup` }, other)).status, 200);
    assert.equal((await api(h, 'GET', '/api/v1/webhooks')).body.meta.item_count, 2);
  });

  test('the network guard refuses internal targets at subscribe time, naming the reason', async () => {
    const cases: [string, RegExp][] = [
      ['http://127.0.0.1/hook', /loopback/],
      ['http://127.8.9.10:8080/hook', /loopback/],
      ['http://localhost:3000/hook', /localhost/],
      ['http://api.localhost/hook', /localhost/],
      ['http://[::1]/hook', /loopback/],
      ['http://2130706433/hook', /127\.0\.0\.1.*loopback/],
      ['http://0x7f.1/hook', /127\.0\.0\.1.*loopback/],
      ['http://10.0.0.5/hook', /private/],
      ['http://172.16.3.4/hook', /private/],
      ['http://192.168.1.1/hook', /private/],
      ['http://169.254.169.254/latest/meta-data', /linkLocal/],
      ['http://[fe80::1]/hook', /linkLocal/],
      ['http://100.64.0.1/hook', /carrierGradeNat/],
      ['http://0.0.0.0/hook', /unspecified/],
      ['http://224.0.0.1/hook', /multicast/],
      ['http://[fd00::1]/hook', /uniqueLocal/],
      ['http://[::ffff:127.0.0.1]/hook', /loopback/],
      ['http://[::ffff:10.0.0.1]/hook', /private/],
      ['http://[64:ff9b::a00:1]/hook', /NAT64.*10\.0\.0\.1/],
    ];
    for (const [url, reason] of cases) {
      const res = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url });
      assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, reason, url);
      assert.match(res.body.message, /STOREHOOK_ALLOW_TARGETS/, `${url}: says how to open it`);
      assert.equal(res.body.errors[0].field, 'url');
    }
    assert.equal((await api(h, 'GET', '/api/v1/webhooks')).body.meta.item_count, 0);
  });

  test('PATCH to a target with user-info or an internal address is refused too', async () => {
    const s = await subscribe(h, 'order.created', `${PUBLIC_TARGET}/x`);
    for (const url of ['http://127.0.0.1/x', 'http://u:p@93.184.216.34/x', 'http://localhost/x']) {
      const res = await api(h, 'PATCH', `/api/v1/webhooks/${s.uuid}`, { url });
      assert.equal(res.status, 400, url);
    }
    assert.equal((await api(h, 'GET', `/api/v1/webhooks/${s.uuid}`)).body.data.url, `${PUBLIC_TARGET}/x`);
  });

  test("another store's subscription is a 404 on every endpoint, and stays untouched", async () => {
    const mine = await subscribe(h, 'order.created', `${PUBLIC_TARGET}/mine`);
    const other = await h.addStore();
    const paths: ['GET' | 'POST' | 'PATCH' | 'DELETE', string, unknown?][] = [
      ['GET', ''],
      ['PATCH', '', { status: 'disabled' }],
      ['PATCH', '', { url: `${PUBLIC_TARGET}/stolen` }],
      ['DELETE', ''],
      ['GET', '/deliveries'],
      ['GET', '/deliveries/msg_abc'],
      ['POST', '/deliveries/msg_abc/resend'],
      ['POST', '/test'],
      ['POST', '/recover', { since: '2020-01-01T00:00:00Z' }],
    ];
    for (const [method, path, body] of paths) {
      const res = await api(h, method, `/api/v1/webhooks/${mine.uuid}${path}`, body, other);
      assert.equal(res.status, 404, `${method} ${path}: ${JSON.stringify(res.body)}`);
    }
    assert.deepEqual((await api(h, 'GET', '/api/v1/webhooks', undefined, other)).body.data, []);
    const still = await api(h, 'GET', `/api/v1/webhooks/${mine.uuid}`);
    assert.equal(still.status, 200);
    assert.equal(still.body.data.status, 'active');
    assert.equal(still.body.data.url, `${PUBLIC_TARGET}/mine`);
  });

  test('authentication and plan gate apply to the Webhooks API', async () => {
    const anonymous = await h.app.inject({ method: 'GET', url: '/api/v1/webhooks' });
    assert.equal(anonymous.statusCode, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Basic/);
    const free = await h.addStore('free');
    const res = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url: `${PUBLIC_TARGET}/x` }, free);
    assert.equal(res.status, 403);
    assert.match(res.body.message, /advanced/i);
    // Webhooks live under /api/v1 only.
    assert.equal((await api(h, 'GET', '/api/v0/webhooks')).status, 404);
  });
});

forEachDialect('webhooks API: subscription limits and policies', (dialect) => {
  const open: Harness[] = [];
  after(async () => {
    await Promise.all(open.map((x) => x.close()));
  });
  // One harness per configuration, shared by the tests that use it; each test in its own store.
  const shared = new Map<string, Promise<Harness>>();
  const harness = async (options: NonNullable<Parameters<typeof startHarness>[1]>) => {
    const key = JSON.stringify(options);
    let made = shared.get(key);
    if (!made) {
      made = startHarness(dialect, options);
      shared.set(key, made);
      open.push(await made);
    }
    const x = await made;
    Object.assign(x, await x.addStore());
    return x;
  };

  test('a store holds at most maxSubscriptions; 409 says so; other stores are not affected', async () => {
    const h = await harness({ config: { maxSubscriptions: 5 } });
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await subscribe(h, 'order.created', `${PUBLIC_TARGET}/n${i}`));
    const over = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.updated', url: `${PUBLIC_TARGET}/n9` });
    assert.equal(over.status, 409);
    assert.match(over.body.message, /already has 5 subscriptions/);
    const other = await h.addStore();
    assert.equal((await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url: `${PUBLIC_TARGET}/n0` }, other)).status, 200);
    assert.equal((await api(h, 'DELETE', `/api/v1/webhooks/${made[0]!.uuid}`)).status, 204);
    assert.equal((await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.updated', url: `${PUBLIC_TARGET}/n9` })).status, 200);
    assert.equal((await api(h, 'GET', '/api/v1/webhooks')).body.meta.item_count, 5);
  });

  test('concurrent requests cannot pass the limit or the duplicate check together', async () => {
    const h = await harness({ config: { maxSubscriptions: 5 } });
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url: `${PUBLIC_TARGET}/c${i}` })));
    assert.deepEqual(many.map((r) => r.status).sort(), [...Array(5).fill(200), ...Array(15).fill(409)]);
    assert.equal((await api(h, 'GET', '/api/v1/webhooks')).body.meta.item_count, 5);

    Object.assign(h, await h.addStore());
    const same = await Promise.all(Array.from({ length: 10 }, () => api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url: `${PUBLIC_TARGET}/same` })));
    assert.deepEqual(same.map((r) => r.status).sort(), [200, ...Array(9).fill(409)]);
    const winner = same.find((r) => r.status === 200)!.body.data.uuid as string;
    for (const r of same.filter((x) => x.status === 409)) assert.match(r.body.message, new RegExp(winner));

    // Two subscriptions moved to the same url at once: one wins, the other is told which.
    const a = await subscribe(h, 'order.updated', `${PUBLIC_TARGET}/a`);
    const b = await subscribe(h, 'order.updated', `${PUBLIC_TARGET}/b`);
    const moved = await Promise.all([a, b].map((s) => api(h, 'PATCH', `/api/v1/webhooks/${s.uuid}`, { url: `${PUBLIC_TARGET}/target` })));
    assert.deepEqual(moved.map((r) => r.status).sort(), [200, 409]);
  });

  test('STOREHOOK_HTTPS_ONLY refuses http: on POST and PATCH, accepts https:', async () => {
    const h = await harness({ config: { httpsOnly: true } });
    const plain = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url: `${PUBLIC_TARGET}/x` });
    assert.equal(plain.status, 400);
    assert.match(plain.body.message, /https.*STOREHOOK_HTTPS_ONLY/);
    const secure = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url: 'https://93.184.216.34/x' });
    assert.equal(secure.status, 200, JSON.stringify(secure.body));
    const patch = await api(h, 'PATCH', `/api/v1/webhooks/${secure.body.data.uuid}`, { url: `${PUBLIC_TARGET}/y` });
    assert.equal(patch.status, 400);
  });

  test('the operator allow-list (127.0.0.0/8,::1/128) opens loopback, and only loopback', async () => {
    const h = await harness({ config: { allowTargets: '127.0.0.0/8,::1/128' } });
    for (const url of ['http://127.0.0.1:9/hook', 'http://127.8.9.10/hook', 'http://[::1]:9/hook', 'http://2130706433/hook', 'http://[::ffff:127.0.0.1]/mapped', 'http://localhost:9/hook']) {
      const res = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url });
      assert.equal(res.status, 200, `${url}: ${JSON.stringify(res.body)}`);
    }
    for (const url of ['http://10.0.0.1/hook', 'http://169.254.169.254/hook', 'http://[fe80::1]/hook', 'http://192.168.0.1/hook']) {
      const res = await api(h, 'POST', '/api/v1/webhooks', { topic: 'order.created', url });
      assert.equal(res.status, 400, url);
    }
  });

  test('the uuid is unpredictable: 1000 creations give 1000 distinct random v4 uuids', async () => {
    // Ten stores of 100 (the default limit) each. PostgreSQL: the stores in parallel, to keep
    // this quick; SQLite has one writer, so one request at a time.
    const h = await harness({ config: { allowTargets: '127.0.0.0/8,::1/128' } });
    const stores = [];
    for (let s = 0; s < 10; s++) stores.push(await h.addStore());
    const perStore = async (who: { auth: string }, s: number): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < 100; i++) {
        const res = await api(h, 'POST', '/api/v1/webhooks', { topic: ORDER_TOPICS[i % ORDER_TOPICS.length]!, url: `${PUBLIC_TARGET}/u/${s}/${i}` }, who);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        out.push(res.body.data.uuid as string);
      }
      return out;
    };
    const uuids: string[] = [];
    if (dialect === 'postgres') uuids.push(...(await Promise.all(stores.map(perStore))).flat());
    else for (const [s, who] of stores.entries()) uuids.push(...(await perStore(who, s)));
    assert.equal(new Set(uuids).size, 1000);
    for (const u of uuids) assert.match(u, UUID_V4, 'version nibble 4, RFC 4122 variant, lowercase');
    // The 122 random bits look random: about half ones overall, and every bit position varies.
    const bits = uuids.map((u) => {
      const hex = u.replace(/-/g, '');
      const all = [...hex].flatMap((c) => parseInt(c, 16).toString(2).padStart(4, '0').split('').map(Number));
      // drop the 4 version bits (48..51) and the 2 variant bits (64..65)
      return all.filter((_, i) => !(i >= 48 && i < 52) && !(i >= 64 && i < 66));
    });
    const ones = bits.flat().reduce((a, b) => a + b, 0);
    const ratio = ones / (1000 * 122);
    assert.ok(ratio > 0.48 && ratio < 0.52, `one-bit ratio ${ratio}`);
    for (let pos = 0; pos < 122; pos++) {
      const set = bits.reduce((a, b) => a + b[pos]!, 0);
      assert.ok(set > 350 && set < 650, `bit ${pos} set in ${set}/1000 uuids`);
    }
    // Consecutive uuids share no long prefix (not a counter or a time-ordered id).
    for (let i = 1; i < uuids.length; i++) assert.notEqual(uuids[i]!.slice(0, 8), uuids[i - 1]!.slice(0, 8));
  });
});
