// Every value on every page is escaped: a subscription URL, an order comment, a receiver's
// response body, a disabled reason, an echoed form value — each holding `<script>` and quotes —
// arrive as text, never as markup.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, it } from 'node:test';
import { forEachDialect } from '../helpers/database.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startDashboard, type DashboardTest } from '../helpers/dashboard-app.js';

const SCRIPT = `<script>alert("x")</script>`;
const EVIL = `"><script>alert('x')</script><img src=x onerror="alert(1)">&amp;`;

/** No markup smuggled in: no script or img element at all (the dashboard has neither), and the text is there, escaped. */
function assertEscaped(body: string, where: string, shown = true): void {
  assert.doesNotMatch(body, /<script/i, `${where}: a raw <script>`);
  assert.doesNotMatch(body, /<img/i, `${where}: a raw <img>`);
  if (shown) assert.match(body, /&lt;script&gt;/, `${where}: the escaped text should be shown`);
}

forEachDialect('dashboard escaping', (dialect) => {
  let t: DashboardTest;
  let receiver: Receiver;

  beforeEach(async () => {
    t = await startDashboard(dialect);
    receiver = await startReceiver(() => ({ status: 500, headers: { 'content-type': 'text/html' }, body: `<html>${SCRIPT} it's "broken" & <img src=x onerror=alert(2)></html>` }));
  });
  afterEach(async () => {
    await receiver.close();
    await t.close();
  });

  it('escapes a subscription URL and disabled reason on every page that shows them', async () => {
    // Stored as is, past the URL rules, as an old row or a future rule change might leave it.
    const uuid = randomUUID();
    const now = Date.now();
    await t.database.kysely
      .insertInto('webhook_subscriptions')
      .values({ uuid, store_id: t.storeId, user_id: t.userId, topic: 'order.created', expands: '[]', url: `https://erp.example/${EVIL}`, status: 'disabled', disabled_reason: `Gone: ${EVIL}`, created_at: now, updated_at: now })
      .execute();
    const b = await t.signedIn();
    for (const url of ['/', '/subscriptions', `/subscriptions/${uuid}`, `/subscriptions/${uuid}/edit`, `/subscriptions/${uuid}/delete`, `/subscriptions/${uuid}/recover?since=2020-01-01T00:00`]) {
      const res = await b.get(url);
      assert.equal(res.statusCode, 200, url);
      assertEscaped(res.body, url);
      assert.ok(!res.body.includes(`href="https://erp.example`), `${url}: a stored URL is never a link`);
    }
    const edit = await b.get(`/subscriptions/${uuid}/edit`);
    assert.ok(edit.body.includes(`value="https://erp.example/&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;`), 'escaped inside the value attribute');
    // The flash that names the URL after deleting it.
    const res = await b.post(`/subscriptions/${uuid}/delete`);
    const after = await b.follow(res);
    assertEscaped(after.body, 'flash after delete');
  });

  it('escapes form values echoed back with an error, and the error itself', async () => {
    const b = await t.signedIn();
    await b.get('/subscriptions/new?topic=order.created');
    const res = await b.post('/subscriptions', { topic: 'order.created', url: `ftp://x/${EVIL}` });
    assert.equal(res.statusCode, 400);
    assertEscaped(res.body, 'create form');
    const topic = await b.get(`/subscriptions/new?topic=${encodeURIComponent(EVIL)}`);
    assert.equal(topic.statusCode, 400);
    assertEscaped(topic.body, 'unknown topic');
    const notFound = await b.get(`/subscriptions/${encodeURIComponent(SCRIPT)}`);
    assert.equal(notFound.statusCode, 404);
    assertEscaped(notFound.body, '404 page');
    const filter = await b.get(`/subscriptions/${encodeURIComponent(SCRIPT)}/recover?since=x`);
    assert.equal(filter.statusCode, 404);
    const signIn = t.browser();
    await signIn.get('/sign-in');
    const bad = await signIn.post('/sign-in', { email: EVIL, api_key: 'x', next: `/${EVIL}` });
    assert.equal(bad.statusCode, 401);
    assertEscaped(bad.body, 'sign-in');
  });

  it('escapes order fields and comments, and a receiver’s response body', async () => {
    const b = await t.signedIn();
    const sub = await t.api('POST', '/webhooks', { topic: 'order.created', url: `${receiver.url}?q=${encodeURIComponent(SCRIPT)}`, expands: ['products'] });
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
    const uuid = sub.body.data.uuid as string;
    const orderId = await t.createOrder({
      details: `Deliver to the back door ${SCRIPT}`,
      customer_information: { first_name: `<script>alert('n')</script>`, last_name: `O'Brien "the" <b>`, email: 'o@example.com', country: 'FI' },
      products: [{ product_code: `<script>`, product_name: `Widget ${SCRIPT}`, quantity: 1, unit_price: 1 }],
    });
    const comment = await t.api('POST', `/orders/${orderId}/comments`, { text: `${SCRIPT} it's "quoted" & <img src=x onerror=alert(3)>`, visibility: 'PUBLIC' });
    assert.equal(comment.status, 200, JSON.stringify(comment.body));
    for (const url of ['/orders', `/orders/${orderId}`]) {
      const res = await b.get(url);
      assert.equal(res.statusCode, 200, url);
      assertEscaped(res.body, url);
    }
    const order = await b.get(`/orders/${orderId}`);
    assert.ok(order.body.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; it&#39;s &quot;quoted&quot; &amp; &lt;img src=x onerror=alert(3)&gt;'), 'the comment, escaped');

    // The receiver answers 500 with HTML: the response excerpt is shown as text.
    const [msg] = await t.database.kysely.selectFrom('webhook_messages').select('message_id').execute();
    const messageUrl = `/subscriptions/${uuid}/messages/${msg!.message_id}`;
    await b.get(messageUrl);
    await b.post(`${messageUrl}/resend`);
    for (const url of ['/', `/subscriptions/${uuid}`, `/subscriptions/${uuid}?status=problems`, messageUrl]) {
      const res = await b.get(url);
      assert.equal(res.statusCode, 200, url);
      // The overview shows the status line, not the response; the URL's query is percent-encoded.
      assertEscaped(res.body, url, url === messageUrl);
    }
    const page = await b.get(messageUrl);
    assert.ok(page.body.includes('&lt;html&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; it&#39;s &quot;broken&quot; &amp; &lt;img'), 'the response body, escaped');
    // The message body (JSON with the order's values) is escaped too.
    assert.ok(page.body.includes('Widget &lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;'));
  });
});
