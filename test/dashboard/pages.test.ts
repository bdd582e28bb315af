// Every dashboard page and action through inject(): subscriptions (create, edit, enable/disable,
// test, delete), the message log (filters, paging), a message (why, attempts, headers, resend),
// recover (dry run, then requeue), topics, orders, the overview, tenancy.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { whsecFromUuid } from '../../src/delivery/signer.js';
import { TOPICS } from '../../src/webhooks/topics.js';
import { forEachDialect } from '../helpers/database.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { type Browser, startDashboard, textOf, type DashboardTest } from '../helpers/dashboard-app.js';

forEachDialect('dashboard pages', (dialect) => {
  let t: DashboardTest;
  let b: Browser;
  let receiver: Receiver;
  let answer: { status: number; body: string };

  beforeEach(async () => {
    t = await startDashboard(dialect);
    answer = { status: 200, body: 'ok' };
    receiver = await startReceiver(() => ({ status: answer.status, body: answer.body }));
    b = await t.signedIn();
  });
  afterEach(async () => {
    await receiver.close();
    await t.close();
  });

  /** Creates a subscription through the dashboard's two-step form; returns its uuid. */
  async function createViaForm(url = receiver.url, topic = 'order.created', expands: string[] = ['products']): Promise<string> {
    const step1 = await b.get('/subscriptions/new');
    assert.equal(step1.statusCode, 200);
    const step2 = await b.get(`/subscriptions/new?topic=${topic}`);
    assert.equal(step2.statusCode, 200);
    const res = await b.post('/subscriptions', { topic, url, expands });
    assert.equal(res.statusCode, 303, res.body.slice(0, 500));
    const location = String(res.headers.location);
    const m = /^\/subscriptions\/([0-9a-f-]{36})$/.exec(location);
    assert.ok(m, location);
    return m[1]!;
  }

  it('shows an empty overview that points to the first subscription', async () => {
    const res = await b.get('/');
    assert.equal(res.statusCode, 200);
    const text = textOf(res.body);
    assert.match(text, /Needs attention No subscriptions yet\. Create the first one/);
    assert.match(text, /Last hour 0 0 0 0 0 0/);
    assert.match(text, /0 messages not yet delivered \(queue depth\)/);
    assert.match(res.body, /<h1>Overview of shop-\d+<\/h1>/);
    assert.match(res.body, /<a href="\/" aria-current="page">Overview<\/a>/);
  });

  it('lists the topic catalogue with allowed expands and an example message', async () => {
    const res = await b.get('/topics');
    assert.equal(res.statusCode, 200);
    for (const topic of TOPICS) assert.ok(res.body.includes(`<h2 id="${topic.name}"><code>${topic.name}</code></h2>`), topic.name);
    assert.match(res.body, /<details><summary>Example message<\/summary><pre>\{\n  &quot;id&quot;: &quot;msg_/);
    assert.match(textOf(res.body), /Allowed expands: products ?, products.return_reasons ?, shipments ?, payments ?, comments ?, events ?, tax_summary/);
    assert.doesNotMatch(textOf(res.body), /Every message carries the order/);
    const section = (name: string) => textOf(res.body.slice(res.body.indexOf(`<h2 id="${name}">`), res.body.indexOf('</section>', res.body.indexOf(`<h2 id="${name}">`))));
    assert.match(section('order.created'), /Carries the order, as GET \/api\/v1\/orders\/\{id\} returns it\./);
    assert.match(section('product.deleted'), /Carries the product, as GET \/api\/v1\/products\/\{id\} returns it\./);
    assert.match(section('stock_item.low'), /Carries the stock item, as GET \/api\/v1\/stock-items\/\{id\} returns it\./);
    assert.match(section('customer.updated'), /Carries the customer, as GET \/api\/v1\/customers\/\{id\} returns it\./);
  });

  it('creates a subscription in two steps: topic picker, then URL and that topic’s expands', async () => {
    const step1 = await b.get('/subscriptions/new');
    assert.match(step1.body, /<legend>Step 1 of 2: which event should be sent\?<\/legend>/);
    for (const topic of TOPICS) assert.ok(step1.body.includes(`name="topic" value="${topic.name}"`));
    const step2 = await b.get('/subscriptions/new?topic=order.updated');
    assert.match(step2.body, /<label for="url">Receiver URL<\/label>/);
    assert.match(step2.body, /<legend>Include in each message \(expands\)<\/legend>/);
    for (const e of TOPICS[1]!.expands) assert.ok(step2.body.includes(`name="expands" value="${e}"`), e);
    const unknown = await b.get('/subscriptions/new?topic=order.exploded');
    assert.equal(unknown.statusCode, 400);
    assert.match(textOf(unknown.body), /Unknown topic "order.exploded"/);

    const uuid = await createViaForm(receiver.url, 'order.updated', ['products', 'payments']);
    const page = await b.get(`/subscriptions/${uuid}`);
    assert.equal(page.statusCode, 200);
    const text = textOf(page.body);
    assert.match(text, /Subscription created: order.updated messages now go to http:\/\/127\.0\.0\.1/);
    assert.match(text, /Expands products ?, payments/);
    assert.ok(page.body.includes(whsecFromUuid(uuid)), 'the signing secret is on the page');
    // The flash is shown once.
    assert.doesNotMatch(textOf((await b.get(`/subscriptions/${uuid}`)).body), /Subscription created/);
    const list = await b.get('/subscriptions');
    assert.ok(list.body.includes(`href="/subscriptions/${uuid}"`));
    assert.ok(list.body.includes(`<code>${receiver.url}</code>`));
  });

  it('re-shows the form with the reason when the API rules refuse it (400, 409)', async () => {
    await b.get('/subscriptions/new?topic=order.created');
    const bad = await b.post('/subscriptions', { topic: 'order.created', url: 'ftp://example.com/x', expands: ['products'] });
    assert.equal(bad.statusCode, 400);
    assert.match(textOf(bad.body), /url: scheme ftp: is not allowed/);
    assert.ok(bad.body.includes('value="ftp://example.com/x"'), 'the value is kept');
    assert.match(bad.body, /name="expands" value="products" checked/);
    const internal = await b.post('/subscriptions', { topic: 'order.created', url: 'http://10.1.2.3/hook' }, { csrf: 'page' });
    assert.equal(internal.statusCode, 400);
    assert.match(textOf(internal.body), /network guard|internal addresses/);
    const badExpand = await b.post('/subscriptions', { topic: 'order.created', url: receiver.url, expands: ['secrets'] });
    assert.equal(badExpand.statusCode, 400);
    assert.match(textOf(badExpand.body), /"secrets" not allowed for order.created/);

    const uuid = await createViaForm();
    await b.get('/subscriptions/new?topic=order.created');
    const dup = await b.post('/subscriptions', { topic: 'order.created', url: receiver.url });
    assert.equal(dup.statusCode, 409);
    assert.ok(textOf(dup.body).includes(uuid));
    const noTopic = await b.post('/subscriptions', { url: receiver.url });
    assert.equal(noTopic.statusCode, 400);
  });

  it('edits, disables and enables a subscription (enabling wakes the dispatcher)', async () => {
    const uuid = await createViaForm();
    const edit = await b.get(`/subscriptions/${uuid}/edit`);
    assert.equal(edit.statusCode, 200);
    assert.match(edit.body, /name="expands" value="products" checked/);
    const saved = await b.post(`/subscriptions/${uuid}/edit`, { url: `${receiver.url}/v2`, expands: ['payments'] });
    assert.equal(saved.statusCode, 303);
    const page = await b.follow(saved);
    assert.match(textOf(page.body), /Subscription saved/);
    assert.ok(page.body.includes(`<code>${receiver.url}/v2</code>`));
    const badEdit = await b.post(`/subscriptions/${uuid}/edit`, { url: 'not a url' }, { csrf: 'page' });
    assert.equal(badEdit.statusCode, 400);

    await b.get(`/subscriptions/${uuid}`);
    const off = await b.post(`/subscriptions/${uuid}/status`, { status: 'disabled' });
    assert.equal(off.statusCode, 303);
    const offPage = await b.follow(off);
    assert.match(textOf(offPage.body), /Subscription disabled/);
    assert.match(offPage.body, /<span class="status s-disabled">disabled<\/span> Disabled by shop-\d+@test\.example/);
    assert.match(offPage.body, /name="status" value="active"><button type="submit">Enable<\/button>/);
    const before = t.requeued.count;
    const on = await b.post(`/subscriptions/${uuid}/status`, { status: 'active' });
    assert.equal(on.statusCode, 303);
    assert.equal(t.requeued.count, before + 1);
    assert.match(textOf((await b.follow(on)).body), /Subscription enabled/);
    const wrong = await b.post(`/subscriptions/${uuid}/status`, { status: 'paused' }, { csrf: 'page' });
    assert.equal(wrong.statusCode, 400);
  });

  it('sends a test message and shows its outcome on the message page', async () => {
    const uuid = await createViaForm();
    const res = await b.post(`/subscriptions/${uuid}/test`);
    assert.equal(res.statusCode, 303);
    assert.match(String(res.headers.location), new RegExp(`^/subscriptions/${uuid}/messages/msg_`));
    assert.equal(receiver.requests.length, 1);
    assert.equal(receiver.requests[0]!.headers['webhook-topic'], 'webhook.test');
    const page = await b.follow(res);
    const text = textOf(page.body);
    assert.match(text, /Test message: delivered\. The receiver answered HTTP 200/);
    assert.match(text, /State delivered Delivered\./);
    assert.match(text, /Attempt 1: delivered/);

    answer = { status: 503, body: 'maintenance' };
    await b.get(`/subscriptions/${uuid}`);
    const failed = await b.follow(await b.post(`/subscriptions/${uuid}/test`));
    assert.match(textOf(failed.body), /Test message: failed after .*: HTTP 503 Service Unavailable\. No retry is scheduled\./);
  });

  it('rotates the signing secret after a confirmation page, shows the new secret once, and rebuilds headers signed by both keys', async () => {
    const uuid = await createViaForm();
    const page = await b.get(`/subscriptions/${uuid}`);
    assert.match(textOf(page.body), /Signature v1 \(HMAC-SHA256\), keyed by the subscription uuid, as MyCashflow does — Rotate secret…/);
    const confirm = await b.get(`/subscriptions/${uuid}/secret/rotate`);
    assert.equal(confirm.statusCode, 200);
    assert.match(textOf(confirm.body), /For 24 hours every message is signed by the old key and the new one/);
    const done = await b.post(`/subscriptions/${uuid}/secret/rotate`, { kind: 'hmac' });
    assert.equal(done.statusCode, 200, done.body.slice(0, 500));
    assert.equal(done.headers['cache-control'], 'no-store');
    const secret = /<code data-new-key>(whsec_[^<]+)<\/code>/.exec(done.body)?.[1];
    assert.ok(secret, 'the new secret is on the page');
    const after = await b.get(`/subscriptions/${uuid}`);
    assert.ok(!after.body.includes(secret), 'and never again');
    assert.match(textOf(after.body), /own secret \(shown once, when made\), since .* the uuid, since .* signs until/);

    const sent = await b.follow(await b.post(`/subscriptions/${uuid}/test`));
    const request = receiver.requests.at(-1)!;
    const shown = (name: string) => new RegExp(`<code>${name}</code></th><td><code>([^<]*)</code>`).exec(sent.body)?.[1];
    assert.equal(shown('webhook-signature'), request.headers['webhook-signature'], 'the headers shown are those sent, two v1 entries');
    const headers = { 'webhook-id': shown('webhook-id')!, 'webhook-timestamp': shown('webhook-timestamp')!, 'webhook-signature': shown('webhook-signature')! };
    for (const key of [secret, whsecFromUuid(uuid)]) new Webhook(key).verify(request.body, headers);
  });

  it('finds a failing message from the overview, shows why, and resends it', async () => {
    const uuid = await createViaForm();
    const orderId = await t.createOrder();
    const [msg] = await t.database.kysely.selectFrom('webhook_messages').selectAll().execute();
    assert.ok(msg);
    assert.equal(Number(msg.order_id), orderId);

    // First attempt (there is no dispatcher here: resend it from its page) fails with a 500.
    answer = { status: 500, body: 'database is locked' };
    const messageUrl = `/subscriptions/${uuid}/messages/${msg.message_id}`;
    const waiting = await b.get(messageUrl);
    assert.match(textOf(waiting.body), /State waiting Waiting for its first attempt/);
    const failed = await b.post(`${messageUrl}/resend`);
    assert.equal(failed.statusCode, 303);
    assert.equal(failed.headers.location, messageUrl);
    assert.equal(t.requeued.count, 1, 'a failed resend schedules a retry: wake the dispatcher');
    const failedPage = await b.follow(failed);
    assert.match(textOf(failedPage.body), /Resend: failed after .*: HTTP 500 Internal Server Error\. Next retry at \d{4}-\d\d-\d\d/);

    // The overview leads there.
    const overview = await b.get('/');
    const text = textOf(overview.body);
    assert.match(text, /Needs attention .*order\.created .*retrying|Needs attention .*order\.created/);
    assert.match(text, /HTTP 500 Internal Server Error — open the latest failed message/);
    assert.ok(overview.body.includes(`href="${messageUrl}"`), 'a link from the overview to the message');
    assert.ok(overview.body.includes(`href="/subscriptions/${uuid}?status=problems"`), 'and to its failed messages');
    assert.match(text, /Last hour 1 0 1 0 0/);

    // The subscription's failed messages.
    const problems = await b.get(`/subscriptions/${uuid}?status=problems`);
    assert.ok(problems.body.includes(`href="${messageUrl}"`));
    assert.match(problems.body, /<span class="status s-retrying">retrying<\/span>/);

    // The message: why, the attempt, the next retry, the headers as sent, the body.
    const page = await b.get(messageUrl);
    const ptext = textOf(page.body);
    assert.match(ptext, /Why it failed HTTP 500 Internal Server Error on attempt 1/);
    assert.match(ptext, /The receiver failed while handling the message \(HTTP 500\)/);
    assert.match(ptext, /The receiver answered: database is locked/);
    assert.match(ptext, /Attempt 1: failed .* Answer HTTP 500 Internal Server Error Error class http_status/);
    assert.match(ptext, /Next attempt 2/);
    assert.match(ptext, /Next retry \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0[23]:00 \(in 1[45] s\)/);
    assert.ok(page.body.includes(`<a href="/orders/${orderId}">Order ${orderId}</a>`));
    // The headers shown are the ones sent: the signature verifies with the subscription's secret.
    const sent = receiver.requests[0]!;
    const shown = (name: string) => new RegExp(`<code>${name}</code></th><td><code>([^<]*)</code>`).exec(page.body)?.[1];
    assert.equal(shown('webhook-id'), sent.headers['webhook-id']);
    assert.equal(shown('webhook-timestamp'), sent.headers['webhook-timestamp']);
    assert.equal(shown('webhook-signature'), sent.headers['webhook-signature']);
    new Webhook(whsecFromUuid(uuid)).verify(sent.body, { 'webhook-id': shown('webhook-id')!, 'webhook-timestamp': shown('webhook-timestamp')!, 'webhook-signature': shown('webhook-signature')! });
    assert.ok(page.body.includes(`&quot;id&quot;: &quot;${msg.message_id}&quot;`), 'the body, pretty-printed');

    // Fixed receiver, resend: delivered.
    answer = { status: 204, body: '' };
    const ok = await b.post(`${messageUrl}/resend`);
    const okPage = await b.follow(ok);
    const otext = textOf(okPage.body);
    assert.match(otext, /Resend: delivered\. The receiver answered HTTP 204/);
    assert.match(otext, /State delivered Delivered\./);
    assert.match(otext, /Attempt 2: delivered/);
    assert.doesNotMatch(otext, /Why it failed/);
    assert.equal(receiver.requests.length, 2);
    assert.equal(receiver.requests[1]!.headers['webhook-id'], sent.headers['webhook-id'], 'same webhook-id on resend');
    const after = await b.get('/');
    assert.match(textOf(after.body), /Nothing needs attention/);
  });

  it('filters the message log by state and time, newest first, in pages of 25', async () => {
    const uuid = await createViaForm();
    const base = Date.UTC(2026, 0, 10, 10, 0, 0);
    const rows = Array.from({ length: 30 }, (_, i) => ({
      message_id: `msg_test${String(i).padStart(3, '0')}`,
      store_id: t.storeId,
      subscription_uuid: uuid,
      topic: 'order.created',
      order_id: null,
      body: '{}',
      status: i % 3 === 0 ? ('delivered' as const) : i % 3 === 1 ? ('failed' as const) : ('pending' as const),
      attempt_count: i % 3 === 2 ? 0 : 1,
      created_at: base + i * 60_000,
      next_attempt_at: i % 3 === 2 ? base + 86_400_000 * 365 * 10 : null,
      last_attempt_at: null,
      delivered_at: null,
      locked_by: null,
      locked_until: null,
    }));
    await t.database.kysely.insertInto('webhook_messages').values(rows).execute();

    const first = await b.get(`/subscriptions/${uuid}`);
    const ids = [...first.body.matchAll(/<code class="muted">(msg_test\d+)<\/code>/g)].map((m) => m[1]);
    assert.equal(ids.length, 25);
    assert.equal(ids[0], 'msg_test029', 'newest first');
    assert.match(textOf(first.body), /Page 1 of 2 \(30 in all\)/);
    assert.ok(first.body.includes(`href="/subscriptions/${uuid}?page=2" rel="next"`));
    const second = await b.get(`/subscriptions/${uuid}?page=2`);
    assert.equal([...second.body.matchAll(/<code class="muted">(msg_test\d+)<\/code>/g)].length, 5);

    const delivered = await b.get(`/subscriptions/${uuid}?status=delivered`);
    assert.match(textOf(delivered.body), /\(10 in all\)/);
    assert.match(delivered.body, /<option value="delivered" selected>/);
    const failed = await b.get(`/subscriptions/${uuid}?status=failed`);
    assert.match(textOf(failed.body), /\(10 in all\)/);
    // 12:00..12:04 Helsinki time (UTC+2) = minutes 0..4 after base: messages 0-4.
    const windowed = await b.get(`/subscriptions/${uuid}?from=2026-01-10T12:00&to=2026-01-10T12:04`);
    const wids = [...windowed.body.matchAll(/<code class="muted">(msg_test\d+)<\/code>/g)].map((m) => m[1]);
    assert.deepEqual(wids, ['msg_test004', 'msg_test003', 'msg_test002', 'msg_test001', 'msg_test000']);
    assert.ok(windowed.body.includes('value="2026-01-10T12:00"'), 'the filter is kept in the form');
    const both = await b.get(`/subscriptions/${uuid}?status=failed&from=2026-01-10T12:00&to=2026-01-10T12:04`);
    assert.match(textOf(both.body), /\(2 in all\)/);
    const bad = await b.get(`/subscriptions/${uuid}?from=soon&status=weird`);
    assert.equal(bad.statusCode, 400);
    assert.match(textOf(bad.body), /Unknown state "weird".*"Created from" is not a date and time like 2026-05-02 10:15: soon/);
    // One time format: text inputs in the format the pages show, not the browser's locale picker.
    assert.doesNotMatch(first.body, /type="datetime-local"/);
    assert.match(first.body, /<input id="f-from" name="from" type="text" [^>]*pattern="[^"]+" placeholder="YYYY-MM-DD HH:MM"/);
    const spaced = await b.get(`/subscriptions/${uuid}?from=2026-01-10+12:00&to=2026-01-10+12:04`);
    assert.equal([...spaced.body.matchAll(/<code class="muted">(msg_test\d+)<\/code>/g)].length, 5, 'the shown format is accepted as typed');
  });

  it('recovers failed messages: a dry-run count first, then requeue on confirmation', async () => {
    const uuid = await createViaForm();
    await t.createOrder();
    await t.createOrder();
    await t.database.kysely.updateTable('webhook_messages').set({ status: 'failed', next_attempt_at: null, attempt_count: 16 }).execute();
    const sub = await b.get(`/subscriptions/${uuid}`);
    assert.match(sub.body, /<label for="r-since">Created from<\/label>/);
    const since = encodeURIComponent(new Date(Date.now() - 3600_000).toISOString());
    const dry = await b.get(`/subscriptions/${uuid}/recover?since=${since}`);
    assert.equal(dry.statusCode, 200);
    assert.match(textOf(dry.body), /2 failed messages created between .* would be sent again \(dry run: nothing has changed yet\)/);
    const still = await t.database.kysely.selectFrom('webhook_messages').select('status').execute();
    assert.deepEqual(still.map((r) => r.status), ['failed', 'failed'], 'the dry run changed nothing');
    const before = t.requeued.count;
    const res = await b.post(`/subscriptions/${uuid}/recover`, {
      since: /name="since" value="([^"]+)"/.exec(dry.body)![1]!,
      until: /name="until" value="([^"]+)"/.exec(dry.body)![1]!,
    });
    assert.equal(res.statusCode, 303);
    assert.equal(t.requeued.count, before + 1);
    const after = await b.follow(res);
    assert.match(textOf(after.body), /2 failed messages are queued again/);
    const now = await t.database.kysely.selectFrom('webhook_messages').select(['status', 'next_attempt_at']).execute();
    assert.ok(now.every((r) => r.status === 'pending' && r.next_attempt_at !== null));

    const none = await b.get(`/subscriptions/${uuid}/recover?since=${since}`);
    assert.match(textOf(none.body), /0 failed messages .* Nothing to send again/);
    assert.doesNotMatch(none.body, /method="post" action="\/subscriptions\/[^"]+\/recover"/);
    const bad = await b.get(`/subscriptions/${uuid}/recover?since=tomorrow`);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /<label for="r-since">Created from<\/label>/, 'the form again, with the reason');
    // Opened directly (no window yet): the form, not a dead end.
    const direct = await b.get(`/subscriptions/${uuid}/recover`);
    assert.equal(direct.statusCode, 200);
    assert.match(direct.body, /<form method="get" action="\/subscriptions\/[^"]+\/recover"[^>]*>/);
    assert.match(direct.body, /<input id="r-since" name="since" type="text" [^>]*value="\d{4}-\d\d-\d\d \d\d:\d\d" required>/);
    const reversed = await b.get(`/subscriptions/${uuid}/recover?since=2026-01-02T00:00&until=2026-01-01T00:00`);
    assert.equal(reversed.statusCode, 400);
    assert.match(textOf(reversed.body), /starts after it ends/);
  });

  it('triage: search by message or order id, filter by HTTP status, 24 h success rate, resend all failed, sending without a next attempt', async () => {
    const uuid = await createViaForm();
    const orderA = await t.createOrder();
    const orderB = await t.createOrder();
    const db = t.database.kysely;
    const msgs = await db.selectFrom('webhook_messages').select(['id', 'message_id', 'order_id']).orderBy('id').execute();
    assert.equal(msgs.length, 2);
    const [a, m2] = msgs as [(typeof msgs)[0], (typeof msgs)[0]];
    const now = Date.now();
    // a: failed for good after a 500, then a 503; b: delivered at its second attempt, after a timeout.
    await db.updateTable('webhook_messages').set({ status: 'failed', attempt_count: 2, next_attempt_at: null, last_attempt_at: now - 1000 }).where('id', '=', a.id).execute();
    await db.updateTable('webhook_messages').set({ status: 'delivered', attempt_count: 2, next_attempt_at: null, delivered_at: now - 500 }).where('id', '=', m2.id).execute();
    const attempt = (row: number, n: number, status: number | null, errorClass: string | null) => ({
      message_row_id: row, store_id: t.storeId, attempt_number: n, started_at: now - 5000 + n, duration_ms: 5, status_code: status, error_class: errorClass, error_message: null, response_body: null, worker_id: 'w',
    });
    await db.insertInto('webhook_attempts').values([attempt(a.id, 1, 500, 'http_status'), attempt(a.id, 2, 503, 'http_status'), attempt(m2.id, 1, null, 'timeout'), attempt(m2.id, 2, 200, null)]).execute();

    // Search: by message id (the webhook-id), by order id; across subscriptions, on /messages.
    const ids = (body: string) => [...body.matchAll(/<code class="muted">(msg_[^<]+)<\/code>/g)].map((m) => m[1]);
    assert.deepEqual(ids((await b.get(`/messages?q=${a.message_id}`)).body), [a.message_id]);
    assert.deepEqual(ids((await b.get(`/messages?q=${orderB}`)).body), [m2.message_id]);
    assert.equal(m2.order_id, orderB);
    assert.deepEqual(ids((await b.get('/messages')).body).sort(), [a.message_id, m2.message_id].sort());
    const badSearch = await b.get('/messages?q=DROP+TABLE&http=600');
    assert.equal(badSearch.statusCode, 400);
    assert.match(textOf(badSearch.body), /Search by a message id \(msg_…, the webhook-id header a receiver sees\) or an order id .* HTTP status "600" is not one/);
    // HTTP status of the last attempt: a code, a class, or none.
    assert.deepEqual(ids((await b.get('/messages?http=503')).body), [a.message_id]);
    assert.deepEqual(ids((await b.get('/messages?http=5xx')).body), [a.message_id], 'the 500 was not the last attempt');
    assert.deepEqual(ids((await b.get('/messages?http=2xx&status=delivered')).body), [m2.message_id]);
    assert.deepEqual(ids((await b.get('/messages?http=2xx&status=failed')).body), []);
    assert.deepEqual(ids((await b.get(`/subscriptions/${uuid}?http=503`)).body), [a.message_id], 'the subscription log filters too');
    assert.deepEqual(ids((await b.get(`/messages?q=${orderA}&http=none`)).body), []);

    // Success rate over the last 24 h: 1 of the 4 attempts delivered.
    const list = await b.get('/subscriptions');
    assert.match(textOf(list.body), /Delivered \(24 h\).*25% \(1 of 4 attempts\)/);
    const page = await b.get(`/subscriptions/${uuid}`);
    assert.match(page.body, /<dt>Delivered \(24 h\)<\/dt><dd><span data-success-rate="25">25%<\/span>/);

    // Resend all failed: the count first, then a CSRF-protected POST.
    assert.match(page.body, new RegExp(`<a class="button secondary" href="/subscriptions/${uuid}/failed/resend">Resend all 1 failed…</a>`));
    const confirm = await b.get(`/subscriptions/${uuid}/failed/resend`);
    assert.equal(confirm.statusCode, 200);
    assert.match(textOf(confirm.body), /1 failed message \(every one of this subscription, up to .*\) would be sent again \(dry run/);
    assert.equal((await db.selectFrom('webhook_messages').select('status').where('id', '=', a.id).executeTakeFirstOrThrow()).status, 'failed', 'counting changed nothing');
    const until = /name="until" value="([^"]+)"/.exec(confirm.body)![1]!;
    const forged = await b.post(`/subscriptions/${uuid}/failed/resend`, { until }, { csrf: null });
    assert.equal(forged.statusCode, 403, 'no CSRF token, no resend');
    const before = t.requeued.count;
    const done = await b.post(`/subscriptions/${uuid}/failed/resend`, { until });
    assert.equal(done.statusCode, 303);
    assert.equal(t.requeued.count, before + 1);
    assert.match(textOf((await b.follow(done)).body), /1 failed message is queued again/);
    assert.equal((await db.selectFrom('webhook_messages').select('status').where('id', '=', a.id).executeTakeFirstOrThrow()).status, 'pending');

    // A dispatcher claims it: the lease moves next_attempt_at a minute ahead. The row is being
    // sent, and shows no "next attempt in 60 s" beside it.
    await db.updateTable('webhook_messages').set({ locked_by: 'w1', locked_until: now + 60_000, next_attempt_at: now + 60_000 }).where('id', '=', a.id).execute();
    const sending = await b.get(`/subscriptions/${uuid}?status=pending`);
    const row = textOf(sending.body);
    assert.match(row, /sending 2 .* being sent now/);
    assert.doesNotMatch(row, /in (59|60|1 min)/);
    const message = await b.get(`/subscriptions/${uuid}/messages/${a.message_id}`);
    assert.match(textOf(message.body), /Next retry being sent right now/);
  });

  it('folds a run of attempts that failed the same way into one item, response bodies closed', async () => {
    const uuid = await createViaForm();
    await t.createOrder();
    const db = t.database.kysely;
    const m = await db.selectFrom('webhook_messages').select(['id', 'message_id']).executeTakeFirstOrThrow();
    const now = Date.now();
    // 16 × 500, a resend that times out twice, then 26 × 500 again and a delivery: 45 attempts.
    const outcomes: [number | null, string | null][] = [...Array<[number, string]>(16).fill([500, 'http_status']), [null, 'timeout'], [null, 'timeout'], ...Array<[number, string]>(26).fill([500, 'http_status']), [200, null]];
    await db.insertInto('webhook_attempts').values(outcomes.map(([status, errorClass], i) => ({
      message_row_id: m.id, store_id: t.storeId, attempt_number: i + 1, started_at: now - 100_000 + i * 1000, duration_ms: 3, status_code: status, error_class: errorClass, error_message: null, response_body: `body of attempt ${i + 1}`, worker_id: 'w',
    }))).execute();
    await db.updateTable('webhook_messages').set({ status: 'delivered', attempt_count: 45, next_attempt_at: null, delivered_at: now }).where('id', '=', m.id).execute();
    const page = await b.get(`/subscriptions/${uuid}/messages/${m.message_id}`);
    assert.equal(page.statusCode, 200);
    const text = textOf(page.body);
    assert.match(text, /Attempts 1–16: failed 16 times, HTTP 500 Internal Server Error/);
    assert.match(text, /Attempts 17–18: failed 2 times, timeout/);
    assert.match(text, /Attempts 19–44: failed 26 times, HTTP 500 Internal Server Error/);
    assert.match(text, /Attempt 45: delivered/);
    assert.deepEqual([...page.body.matchAll(/data-attempt-run="(\d+)"/g)].map((r) => Number(r[1])), [16, 2, 26]);
    // Every attempt is still there, folded; no response body is open.
    assert.equal([...page.body.matchAll(/<summary>Response body<\/summary>/g)].length, 45);
    assert.doesNotMatch(page.body, /<details open/);
  });

  it('deletes a subscription only after a confirmation page', async () => {
    const uuid = await createViaForm();
    await t.createOrder();
    const confirm = await b.get(`/subscriptions/${uuid}/delete`);
    assert.equal(confirm.statusCode, 200);
    assert.match(textOf(confirm.body), /Delete this subscription\? .* drops the 1 message\(s\) still waiting to be sent/);
    assert.equal((await t.database.kysely.selectFrom('webhook_subscriptions').selectAll().execute()).length, 1, 'GET deletes nothing');
    const res = await b.post(`/subscriptions/${uuid}/delete`);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/subscriptions');
    assert.match(textOf((await b.follow(res)).body), /Subscription to order.created at .* deleted\. .*No subscriptions yet/);
    assert.equal((await t.database.kysely.selectFrom('webhook_subscriptions').selectAll().execute()).length, 0);
    assert.equal((await b.get(`/subscriptions/${uuid}`)).statusCode, 404);
  });

  it('lists orders and shows one with the messages it caused', async () => {
    const uuid = await createViaForm();
    const orderId = await t.createOrder({ details: 'Leave at the door' });
    await t.api('POST', `/orders/${orderId}/comments`, { text: 'Called the customer', visibility: 'PRIVATE' });
    const list = await b.get('/orders');
    assert.equal(list.statusCode, 200);
    assert.ok(list.body.includes(`<a href="/orders/${orderId}">Order ${orderId}</a>`));
    // One message: the subscription is to order.created; the comment's topics have none.
    assert.match(textOf(list.body), /Maija Meikäläinen 26\.90 EUR OPEN 1/);
    const open = await b.get('/orders?status=open');
    assert.ok(open.body.includes(`Order ${orderId}`));
    const cancelled = await b.get('/orders?status=cancelled');
    assert.match(textOf(cancelled.body), /No orders with that status/);

    const page = await b.get(`/orders/${orderId}`);
    assert.equal(page.statusCode, 200);
    const text = textOf(page.body);
    assert.match(text, /Order \d+ Status OPEN/);
    assert.match(text, /Total 26\.90 EUR/);
    assert.match(text, /Details Leave at the door/);
    assert.match(text, /Called the customer/);
    assert.match(text, /A-1 Widget 2 10\.50 EUR 25\.5 21\.00 EUR/);
    const messages = await t.database.kysely.selectFrom('webhook_messages').select('message_id').where('order_id', '=', orderId).execute();
    assert.ok(messages.length >= 1);
    for (const m of messages) assert.ok(page.body.includes(`href="/subscriptions/${uuid}/messages/${m.message_id}"`));

    assert.equal((await b.get('/orders/999999')).statusCode, 404);
    assert.equal((await b.get('/orders/abc')).statusCode, 404);
  });

  it('keeps each store to its own subscriptions, messages and orders (404)', async () => {
    const uuid = await createViaForm();
    const orderId = await t.createOrder();
    const [msg] = await t.database.kysely.selectFrom('webhook_messages').select('message_id').execute();
    const other = await t.addStore();
    const ob = await t.signedIn(other);
    for (const url of [`/subscriptions/${uuid}`, `/subscriptions/${uuid}/edit`, `/subscriptions/${uuid}/delete`, `/subscriptions/${uuid}/messages/${msg!.message_id}`, `/orders/${orderId}`]) {
      const res = await ob.get(url);
      assert.equal(res.statusCode, 404, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(textOf(res.body), /was not found in this store/);
    }
    await ob.get('/');
    const del = await ob.post(`/subscriptions/${uuid}/delete`);
    assert.equal(del.statusCode, 404);
    const resend = await ob.post(`/subscriptions/${uuid}/messages/${msg!.message_id}/resend`, {}, { csrf: 'page' });
    assert.equal(resend.statusCode, 404);
    assert.equal(receiver.requests.length, 0);
    assert.match(textOf((await ob.get('/')).body), /No subscriptions yet/);
    assert.match(textOf((await ob.get('/orders')).body), /No orders/);
    // A message of the right store under the wrong subscription is not found either.
    const uuid2 = await createViaForm(`${receiver.url}/2`);
    assert.equal((await b.get(`/subscriptions/${uuid2}/messages/${msg!.message_id}`)).statusCode, 404);
  });

  it('shows an internal subscription (the legacy automatic POST) but leaves its editing to the CLI', async () => {
    const uuid = randomUUID();
    const now = Date.now();
    await t.database.kysely
      .insertInto('webhook_subscriptions')
      .values({ uuid, store_id: t.storeId, user_id: t.userId, topic: 'legacy.order_xml', expands: '[]', url: receiver.url, status: 'active', disabled_reason: null, created_at: now, updated_at: now })
      .execute();
    const page = await b.get(`/subscriptions/${uuid}`);
    assert.equal(page.statusCode, 200);
    assert.match(textOf(page.body), /automatic POST of the old XML Webhooks extension/);
    assert.ok(!page.body.includes(`/subscriptions/${uuid}/edit`));
    for (const url of [`/subscriptions/${uuid}/edit`, `/subscriptions/${uuid}/delete`]) assert.equal((await b.get(url)).statusCode, 409, url);
    await b.get(`/subscriptions/${uuid}`);
    assert.equal((await b.post(`/subscriptions/${uuid}/delete`)).statusCode, 409);
    assert.equal((await t.database.kysely.selectFrom('webhook_subscriptions').selectAll().execute()).length, 1);
    assert.equal((await b.post(`/subscriptions/${uuid}/status`, { status: 'disabled' }, { csrf: 'page' })).statusCode, 303);
  });

  it('shows the overview numbers: traffic by outcome, queue depth, oldest due message, disabled subscriptions', async () => {
    const uuid = await createViaForm();
    await t.createOrder();
    await t.createOrder();
    const rows = await t.database.kysely.selectFrom('webhook_messages').select(['id', 'message_id']).orderBy('id').execute();
    await t.database.kysely.updateTable('webhook_messages').set({ next_attempt_at: Date.now() - 90_000 }).where('id', '=', rows[0]!.id).execute();
    await t.database.kysely.updateTable('webhook_messages').set({ status: 'delivered', attempt_count: 1, delivered_at: Date.now(), next_attempt_at: null }).where('id', '=', rows[1]!.id).execute();
    await b.get(`/subscriptions/${uuid}`);
    await b.post(`/subscriptions/${uuid}/status`, { status: 'disabled' });
    const res = await b.get('/');
    const text = textOf(res.body);
    // All, delivered, retrying, failed, waiting, held: disabling held the waiting one.
    assert.match(text, /Last hour 2 1 0 0 0 1/);
    assert.match(text, /Last 24 hours 2 1 0 0 0 1/);
    assert.match(text, /1 messages not yet delivered \(queue depth\)/);
    assert.match(text, /1 held for disabled subscriptions/);
    assert.match(text, /Disabled: Disabled by shop-\d+@test\.example/);
  });

  it('holds the messages of a disabled subscription: counts on its page, the list and the overview; discards them after a confirmation with the count', async () => {
    const uuid = await createViaForm();
    await b.get(`/subscriptions/${uuid}`);
    await b.post(`/subscriptions/${uuid}/status`, { status: 'disabled' });
    for (let i = 0; i < 3; i++) await t.createOrder();

    const page = await b.get(`/subscriptions/${uuid}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<dt>Held messages<\/dt><dd data-held-count="3">/);
    assert.match(textOf(page.body), /Held messages 3 — kept, not sent, while the subscription is disabled/);
    assert.equal((page.body.match(/<span class="status s-held">held<\/span>/g) ?? []).length, 3, 'each message shows as held');
    const heldOnly = await b.get(`/subscriptions/${uuid}?status=held`);
    assert.equal(heldOnly.statusCode, 200);
    assert.match(textOf(heldOnly.body), /Page 1 of 1 \(3 in all\)/);
    const list = await b.get('/subscriptions');
    assert.ok(list.body.includes(`<td data-label="Held" class="num"><a href="/subscriptions/${uuid}?status=held">3</a></td>`));
    const overview = await b.get('/');
    assert.match(textOf(overview.body), /3 held for disabled subscriptions/);
    assert.ok(overview.body.includes(`<td data-label="Held" class="num"><a href="/subscriptions/${uuid}?status=held">3</a></td>`));

    // Discarding asks first, with the count; the confirmation discards exactly those.
    assert.match(page.body, /Discard 3 held…/);
    const confirm = await b.get(`/subscriptions/${uuid}/held/discard`);
    assert.equal(confirm.statusCode, 200);
    assert.match(textOf(confirm.body), /3 held messages, created up to .* will be deleted and never sent/);
    assert.equal(await t.database.kysely.selectFrom('webhook_messages').select('id').where('status', '=', 'held').execute().then((r) => r.length), 3, 'the confirmation page changes nothing');
    const until = /name="until" value="([^"]+)"/.exec(confirm.body)?.[1];
    assert.ok(until, 'the form carries the moment the count was taken');
    await new Promise((r) => setTimeout(r, 5));
    await t.createOrder(); // arrives after the confirmation page: not part of what was confirmed
    const done = await b.post(`/subscriptions/${uuid}/held/discard`, { until });
    assert.equal(done.statusCode, 303);
    const after = await b.follow(done);
    assert.match(textOf(after.body), /3 held messages were discarded/);
    assert.match(after.body, /data-held-count="1"/);
    const missing = await b.post(`/subscriptions/${uuid}/held/discard`, {}, { csrf: 'page' });
    assert.equal(missing.statusCode, 400);
  });
  it('shows a banner on every page while subscriptions fail or were disabled automatically, and the health on the subscription page', async () => {
    const healthy = await createViaForm(`${receiver.url}/healthy`);
    assert.doesNotMatch((await b.get('/')).body, /data-health-banner/, 'no banner while all is well');
    const failing = await createViaForm(`${receiver.url}/failing`);
    const gone = await createViaForm(`${receiver.url}/gone`);
    const now = Date.now();
    const db = t.database.kysely;
    await db.updateTable('webhook_subscriptions').set({ consecutive_failures: 9, failing_since: now - 3_600_000, last_failure_at: now - 60_000 }).where('uuid', '=', failing).execute();
    await db.updateTable('webhook_subscriptions').set({ status: 'disabled', disabled_by: 'gone', disabled_at: now - 1000, disabled_reason: 'The receiver answered 410 Gone.', failing_since: now - 2000 }).where('uuid', '=', gone).execute();

    for (const page of ['/', '/subscriptions', '/messages', '/topics', `/subscriptions/${healthy}`]) {
      const res = await b.get(page);
      assert.equal(res.statusCode, 200, page);
      assert.match(res.body, /data-health-banner data-failing="1" data-disabled="1"/, page);
      assert.match(textOf(res.body), /1 subscription failing, 1 subscription disabled automatically/, page);
      assert.ok(res.body.includes(`href="/subscriptions/${failing}"`) && res.body.includes(`href="/subscriptions/${gone}"`), `${page}: links to both`);
      assert.ok(!res.body.includes(`href="/subscriptions/${healthy}"><code>`), `${page}: the healthy one is not listed`);
    }

    const page = await b.get(`/subscriptions/${failing}`);
    assert.match(page.body, /data-health-state="failing"/);
    assert.match(page.body, /data-consecutive-failures="9"/);
    const disablesAt = new Date(now - 3_600_000 + t.config.webhookDisableAfterMs).toISOString();
    assert.ok(page.body.includes(`data-disables-at="${disablesAt.replace('Z', '+00:00')}"`) || page.body.includes(`data-disables-at="${disablesAt}"`), 'disables at failing_since + the disable time');
    assert.match(page.body, /<dt>Delivered \(1 h\)<\/dt><dd><span class="muted" data-success-rate="none">no attempts<\/span>/);
    const off = await b.get(`/subscriptions/${gone}`);
    assert.match(off.body, /data-disabled-by="gone"/);
    assert.match(textOf(off.body), /its receiver answered 410 Gone/);

    // Enabled again and healthy: the banner goes.
    await db.updateTable('webhook_subscriptions').set({ consecutive_failures: 0, failing_since: null }).where('uuid', '=', failing).execute();
    assert.equal((await t.api('PATCH', `/webhooks/${gone}`, { status: 'active' })).status, 200);
    assert.doesNotMatch((await b.get('/')).body, /data-health-banner/);
  });
});
