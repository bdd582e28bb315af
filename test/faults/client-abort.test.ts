/**
 * A client that goes away mid-body (ECONNRESET "aborted") is logged as what it is, not as
 * "database unavailable", on the JSON API, the legacy routes and the dashboard.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningServer } from '../../src/server.js';
import { forEachDialect, freshDatabase, type FreshDatabase } from '../helpers/database.js';
import { captureLogs } from '../helpers/log-capture.js';
import { basicAuth } from '../helpers/app.js';
import { serveOn } from '../helpers/live-server.js';

/** Sends the head and part of a body that claims 1000 bytes, then resets the connection. */
async function abortMidBody(url: string, path: string, headers: Record<string, string>): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const head = [`POST ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Content-Length: 1000', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  socket.write(head + '{"products":[');
  await sleep(200);
  socket.resetAndDestroy();
}

forEachDialect('client aborts', (dialect) => {
  let fresh: FreshDatabase;
  let server: RunningServer;
  const logs = captureLogs();
  before(async () => {
    fresh = await freshDatabase(dialect);
    server = await serveOn(fresh, {}, logs.logger);
  });
  after(async () => {
    await server?.close();
    await fresh?.cleanup();
  });

  test('an aborted body is not logged as "database unavailable"', async () => {
    const creds = server.demoCredentials!;
    await abortMidBody(server.url, '/api/v1/orders', { authorization: basicAuth(creds.email, creds.apiKey), 'content-type': 'application/json' });
    await abortMidBody(server.url, '/webhooks/process', { 'content-type': 'application/x-www-form-urlencoded' });
    await abortMidBody(server.url, '/sign-in', { 'content-type': 'application/x-www-form-urlencoded' });
    await sleep(300);
    assert.match(logs.text(), /client closed the connection/, 'the abort is logged as such');
    assert.doesNotMatch(logs.text(), /database unavailable/);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });
});
