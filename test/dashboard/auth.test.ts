// Dashboard sign-in, sessions and CSRF: the cookie's flags, what is stored, expiry, sign-out, the
// plan gate, the per-address limit on failed sign-ins, and that no POST acts without its token.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'node:test';
import { hashToken, SESSION_COOKIE } from '../../src/dashboard/sessions.js';
import { forEachDialect } from '../helpers/database.js';
import { Browser, csrfOf, startDashboard, textOf, type DashboardTest } from '../helpers/dashboard-app.js';

const PUBLIC_TARGET = 'http://93.184.216.34/hook';

forEachDialect('dashboard sign-in and sessions', (dialect) => {
  let t: DashboardTest;
  beforeEach(async () => {
    t = await startDashboard(dialect, { config: { authFailuresPerMinute: 3 } });
  });
  afterEach(async () => t.close());

  it('sends a visitor without a session to the sign-in page, remembering where they were going', async () => {
    const b = t.browser();
    const res = await b.get('/subscriptions?status=failed');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/sign-in?next=%2Fsubscriptions%3Fstatus%3Dfailed');
    const root = await b.get('/');
    assert.equal(root.headers.location, '/sign-in');
  });

  it('shows a labelled sign-in form with a CSRF token tied to a cookie', async () => {
    const b = t.browser();
    const res = await b.get('/sign-in');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /<label for="email">E-mail<\/label>\s*<input id="email" name="email" type="email"/);
    assert.match(res.body, /<label for="api_key">API key<\/label>\s*<input id="api_key" name="api_key" type="password"/);
    const cookie = (res.cookies as { name: string; value: string; httpOnly?: boolean; sameSite?: string }[]).find((c) => c.name === 'storehook_signin');
    assert.ok(cookie?.httpOnly);
    assert.equal(cookie?.sameSite, 'Strict');
    assert.equal(csrfOf(res.body), cookie?.value);
  });

  it('signs in with the e-mail and API key: HttpOnly SameSite=Strict cookie, only its hash stored', async () => {
    const b = t.browser();
    const res = await b.signIn(t.email.toUpperCase(), t.apiKey);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/');
    const header = ([] as string[]).concat(res.headers['set-cookie'] as string | string[]).find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    assert.match(header, /; Path=\//);
    assert.match(header, /; HttpOnly/);
    assert.match(header, /; SameSite=Strict/);
    assert.doesNotMatch(header, /Secure/, 'plain HTTP: no Secure flag, or the browser would drop the cookie');
    const token = b.cookies.get(SESSION_COOKIE)!;
    assert.ok(token.length >= 43, 'at least 256 bits');
    const rows = await t.database.kysely.selectFrom('dashboard_sessions').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.id_hash, hashToken(token));
    assert.notEqual(rows[0]!.id_hash, token);
    assert.equal(Number(rows[0]!.user_id), t.userId);
    assert.ok(Number(rows[0]!.expires_at) - Number(rows[0]!.created_at) === 7 * 86_400_000);
    const overview = await b.follow(res);
    assert.equal(overview.statusCode, 200);
    assert.match(textOf(overview.body), /Overview of shop-\d+/);
  });

  it('marks the cookie Secure when the request came over HTTPS', async () => {
    const b = t.browser();
    await b.get('/sign-in', { 'x-forwarded-proto': 'https' });
    const res = await b.post('/sign-in', { email: t.email, api_key: t.apiKey }, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(res.statusCode, 303);
    const header = ([] as string[]).concat(res.headers['set-cookie'] as string[]).find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    assert.match(header, /; Secure/);
    assert.match(header, /; HttpOnly/);
  });

  it('goes back to the page asked for after sign-in, but never off-site', async () => {
    const b = t.browser();
    const res = await b.signIn(t.email, t.apiKey, '/orders?status=open');
    assert.equal(res.headers.location, '/orders?status=open');
    const evil = t.browser();
    await evil.get('/sign-in');
    const res2 = await evil.post('/sign-in', { email: t.email, api_key: t.apiKey, next: '//evil.example/x' });
    assert.equal(res2.headers.location, '/');
  });

  it('refuses a wrong key or unknown e-mail with 401 and no session', async () => {
    for (const [email, key] of [[t.email, `${t.apiKey}x`], ['nobody@test.example', t.apiKey]] as const) {
      const b = t.browser();
      const res = await b.signIn(email, key);
      assert.equal(res.statusCode, 401);
      assert.match(textOf(res.body), /Wrong e-mail or API key/);
      assert.ok(!b.cookies.has(SESSION_COOKIE));
      assert.ok(res.body.includes(`value="${email}"`), 'the e-mail is kept in the form');
      assert.ok(!res.body.includes(key), 'the key is never echoed');
    }
    assert.equal((await t.database.kysely.selectFrom('dashboard_sessions').selectAll().execute()).length, 0);
  });

  it('limits failed sign-ins per address: 429 with Retry-After, even for the right key', async () => {
    const b = t.browser();
    for (let i = 0; i < 3; i++) assert.equal((await b.signIn(t.email, 'shk_wrong')).statusCode, 401);
    const blocked = await b.signIn(t.email, t.apiKey);
    assert.equal(blocked.statusCode, 429);
    assert.ok(Number(blocked.headers['retry-after']) >= 1);
    assert.match(textOf(blocked.body), /Too many failed sign-ins/);
    assert.ok(!b.cookies.has(SESSION_COOKIE));
  });

  it('refuses the sign-in form without its CSRF token, or with a wrong one (403)', async () => {
    const b = t.browser();
    await b.get('/sign-in');
    const missing = await b.post('/sign-in', { email: t.email, api_key: t.apiKey }, { csrf: null });
    assert.equal(missing.statusCode, 403);
    const wrong = await b.post('/sign-in', { email: t.email, api_key: t.apiKey }, { csrf: 'forged' });
    assert.equal(wrong.statusCode, 403);
    const noCookie = new Browser(t.app);
    const res = await noCookie.post('/sign-in', { email: t.email, api_key: t.apiKey }, { csrf: 'anything' });
    assert.equal(res.statusCode, 403);
    assert.ok(!b.cookies.has(SESSION_COOKIE) && !noCookie.cookies.has(SESSION_COOKIE));
  });

  it('keeps stores below the Advanced plan out, at sign-in and afterwards', async () => {
    const free = await t.addStore('basic');
    const res = await t.browser().signIn(free.email, free.apiKey);
    assert.equal(res.statusCode, 403);
    assert.match(textOf(res.body), /available from the Advanced plan up; store "shop-\d+" is on the basic plan/);

    const b = await t.signedIn();
    await t.database.kysely.updateTable('stores').set({ plan: 'free' }).where('id', '=', t.storeId).execute();
    const after = await b.get('/');
    assert.equal(after.statusCode, 403);
    assert.match(textOf(after.body), /on the free plan/);
  });

  it('signs out: POST with the token ends the session and clears the cookie', async () => {
    const b = await t.signedIn();
    const token = b.cookies.get(SESSION_COOKIE)!;
    const res = await b.post('/sign-out');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/sign-in?signed_out=1');
    assert.ok(!b.cookies.has(SESSION_COOKIE));
    const page = await b.follow(res);
    assert.match(textOf(page.body), /You are signed out/);
    // The old cookie, replayed, is worth nothing now.
    const replay = new Browser(t.app);
    replay.cookies.set(SESSION_COOKIE, token);
    assert.equal((await replay.get('/')).statusCode, 303);
  });

  it('does not sign out without the CSRF token', async () => {
    const b = await t.signedIn();
    const res = await b.post('/sign-out', {}, { csrf: null });
    assert.equal(res.statusCode, 403);
    assert.equal((await b.get('/')).statusCode, 200);
  });

  it('ends a session after its absolute lifetime, after 12 h idle, and when the key is rotated', async () => {
    for (const change of [
      { expires_at: Date.now() - 1 },
      { last_seen_at: Date.now() - 12 * 3600_000 - 1 },
    ]) {
      const b = await t.signedIn();
      const id = hashToken(b.cookies.get(SESSION_COOKIE)!);
      await t.database.kysely.updateTable('dashboard_sessions').set(change).where('id_hash', '=', id).execute();
      const res = await b.get('/subscriptions');
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, '/sign-in?next=%2Fsubscriptions&expired=1');
      assert.ok(!b.cookies.has(SESSION_COOKIE), 'the dead cookie is cleared');
      const signIn = await b.follow(res);
      assert.match(textOf(signIn.body), /Your session has ended/);
      const left = await t.database.kysely.selectFrom('dashboard_sessions').select('id_hash').where('id_hash', '=', id).execute();
      assert.equal(left.length, 0, 'the ended session row is deleted');
    }
    const b = await t.signedIn();
    await t.database.kysely.updateTable('api_users').set({ key_rotated_at: Date.now() + 1000 }).where('id', '=', t.userId).execute();
    assert.equal((await b.get('/')).statusCode, 303);
  });

  it('refuses every state-changing POST without the right CSRF token (403), and changes nothing', async () => {
    const b = await t.signedIn();
    const created = await t.api('POST', '/webhooks', { topic: 'order.created', url: PUBLIC_TARGET });
    const uuid = created.body.data.uuid as string;
    await b.get(`/subscriptions/${uuid}`);
    const posts: [string, Record<string, string>][] = [
      ['/subscriptions', { topic: 'order.updated', url: `${PUBLIC_TARGET}/2` }],
      [`/subscriptions/${uuid}/status`, { status: 'disabled' }],
      [`/subscriptions/${uuid}/edit`, { url: `${PUBLIC_TARGET}/3` }],
      [`/subscriptions/${uuid}/test`, {}],
      [`/subscriptions/${uuid}/delete`, {}],
      [`/subscriptions/${uuid}/recover`, { since: '2020-01-01T00:00:00Z' }],
    ];
    for (const [url, fields] of posts) {
      for (const csrf of [null, 'wrong-token', '']) {
        const res = await b.post(url, fields, { csrf });
        assert.equal(res.statusCode, 403, `${url} with csrf ${JSON.stringify(csrf)}`);
        assert.match(textOf(res.body), /security token/);
      }
    }
    // Another session's token is wrong too.
    const other = await t.signedIn();
    const res = await b.post(`/subscriptions/${uuid}/status`, { status: 'disabled' }, { csrf: csrfOf(other.last) });
    assert.equal(res.statusCode, 403);
    const subs = await t.database.kysely.selectFrom('webhook_subscriptions').selectAll().execute();
    assert.equal(subs.length, 1);
    assert.equal(subs[0]!.status, 'active');
    assert.equal(subs[0]!.url, PUBLIC_TARGET);
    assert.equal((await t.database.kysely.selectFrom('webhook_messages').selectAll().execute()).length, 0);
  });

  it('refuses a form posted from another origin even with a valid token', async () => {
    const b = await t.signedIn();
    const res = await b.post('/subscriptions', { topic: 'order.created', url: PUBLIC_TARGET }, { headers: { origin: 'https://evil.example' } });
    assert.equal(res.statusCode, 403);
    const ok = await b.post('/subscriptions', { topic: 'order.created', url: PUBLIC_TARGET }, { headers: { origin: 'http://localhost:80' } });
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 300));
  });

  it('sends security headers with every page', async () => {
    const b = await t.signedIn();
    for (const url of ['/', '/sign-in']) {
      const res = await b.get(url);
      assert.match(String(res.headers['content-security-policy']), /default-src 'none'.*form-action 'self'.*frame-ancestors 'none'/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.equal(res.headers['cache-control'], 'no-store');
    }
  });

  it('leaves the JSON API alone: no cookies there, Basic auth as before', async () => {
    const b = await t.signedIn();
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/orders', headers: { cookie: `${SESSION_COOKIE}=${b.cookies.get(SESSION_COOKIE)}` } });
    assert.equal(res.statusCode, 401);
    assert.match(String(res.headers['content-type']), /application\/json/);
    assert.equal(res.headers['content-security-policy'], undefined);
  });
});
