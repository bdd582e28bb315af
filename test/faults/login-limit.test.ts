/**
 * One failed-login limit per client address across every surface (JSON API v1 and v0, legacy
 * `/webhooks/*` with key=, dashboard sign-in), and one request rate per API user across v1 and v0.
 * On PostgreSQL the failed-login count is shared by every process on the database.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { forEachDialect, freshDatabase, type FreshDatabase } from '../helpers/database.js';
import type { RunningServer } from '../../src/server.js';
import { basicAuth } from '../helpers/app.js';
import { serveOn } from '../helpers/live-server.js';

const LIMIT = 30;

async function failApiLogin(url: string, prefix = '/api/v1'): Promise<number> {
  const res = await fetch(`${url}${prefix}/orders`, { headers: { authorization: basicAuth('nobody@example.com', 'wrong-key') } });
  await res.arrayBuffer();
  return res.status;
}

forEachDialect('failed logins and the rate limit, across surfaces', (dialect) => {
  let fresh: FreshDatabase;
  let server: RunningServer;
  before(async () => {
    fresh = await freshDatabase(dialect);
    server = await serveOn(fresh, { authFailuresPerMinute: LIMIT, rateLimitPerSecond: 1, rateLimitBurst: 3 });
  });
  after(async () => {
    await server?.close();
    await fresh?.cleanup();
  });

  test(`${LIMIT} failures on /api/v1 block the address on /api/v0, the legacy routes and the dashboard sign-in`, async () => {
    for (let i = 0; i < LIMIT; i++) assert.equal(await failApiLogin(server.url), 401, `failure ${i + 1} is answered 401`);
    assert.equal(await failApiLogin(server.url), 429, 'v1 itself blocks');

    const v0 = await fetch(`${server.url}/api/v0/orders`, { headers: { authorization: basicAuth('nobody@example.com', 'wrong-key') } });
    assert.equal(v0.status, 429, `v0: ${await v0.text()}`);
    assert.ok(Number(v0.headers.get('retry-after')) > 0);

    const legacy = await fetch(`${server.url}/webhooks/get?order=1&key=wrong-key`);
    assert.equal(legacy.status, 429, `legacy: ${await legacy.text()}`);

    const signIn = await fetch(`${server.url}/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=nobody%40example.com&api_key=wrong-key&_csrf=x',
    });
    assert.equal(signIn.status, 429, 'dashboard sign-in');
    await signIn.arrayBuffer();
  });

  test('the per-user rate limit is one bucket for v1 and v0', async () => {
    const creds = server.demoCredentials!;
    // A fresh server (the address above is blocked for a minute): the same user on both versions.
    const other = await serveOn(fresh, { rateLimitPerSecond: 1, rateLimitBurst: 3 });
    try {
      const auth = { authorization: basicAuth(creds.email, creds.apiKey) };
      const statuses: number[] = [];
      for (const prefix of ['/api/v1', '/api/v1', '/api/v1', '/api/v0']) {
        const res = await fetch(`${other.url}${prefix}/orders`, { headers: auth });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 429], 'the 3-request burst is spent on v1, so v0 is limited too');
    } finally {
      await other.close();
    }
  });

  if (dialect === 'postgres') {
    test('a second API process on the same database blocks the address after at most one more failure', async () => {
      const second = await serveOn(fresh, { authFailuresPerMinute: LIMIT });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++) statuses.push(await failApiLogin(second.url));
        assert.ok(statuses.filter((s) => s === 401).length <= 1, `statuses on the second process: ${statuses.join(', ')}`);
        assert.equal(statuses.at(-1), 429);
      } finally {
        await second.close();
      }
    });
  }
});
