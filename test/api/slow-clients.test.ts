// Slow clients (slowloris) cannot hold the server: a body that trickles is cut off at the request
// timeout with a 408 in the path's format, headers that trickle at the headers timeout, and a
// flood of connections past the cap is refused without stopping the server from answering once
// connections free up. Timeouts are shortened here (1 s headers, 2 s request) to keep it quick.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from '../helpers/database.js';
import { healthRequest, jsonErrorProblem, openSlowRequest, rawExchange, startLiveServer, xmlErrorProblem, type LiveServer, type RawAnswer } from '../helpers/live-server.js';

const HEADERS_MS = 1000;
const REQUEST_MS = 2000;
const MAX_CONNECTIONS = 30;

forEachDialect('slow clients', (dialect) => {
  let s: LiveServer;
  before(async () => {
    s = await startLiveServer(dialect, { httpHeadersTimeoutMs: HEADERS_MS, httpRequestTimeoutMs: REQUEST_MS, httpMaxConnections: MAX_CONNECTIONS });
  });
  after(async () => {
    await s?.close();
  });

  /** `Content-Length: 100`, 6 bytes sent. */
  const slowBody = (path: string, headers: string[]) =>
    openSlowRequest(s.port, `POST ${path} HTTP/1.1\r\nHost: x\r\n${headers.map((h) => `${h}\r\n`).join('')}Content-Length: 100\r\n\r\n`, 'key=ab');

  it('closes slow bodies on the sign-in, a legacy action and an authenticated API POST at the request timeout, answering others meanwhile', { timeout: 20_000 }, async () => {
    const form = 'Content-Type: application/x-www-form-urlencoded';
    const slow = [
      { path: '/sign-in', request: slowBody('/sign-in', [form]), problem: jsonErrorProblem },
      { path: '/webhooks/get', request: slowBody('/webhooks/get', [form]), problem: xmlErrorProblem },
      { path: '/api/v1/orders', request: slowBody('/api/v1/orders', [`Authorization: ${s.auth}`, 'Content-Type: application/json']), problem: jsonErrorProblem },
    ];
    // Meanwhile the server answers: /healthz and an API read, several times over the wait.
    const others: RawAnswer[] = [];
    for (let i = 0; i < 4; i++) {
      others.push(await rawExchange(s.port, healthRequest, 3000));
      others.push(await rawExchange(s.port, `GET /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: ${s.auth}\r\nConnection: close\r\n\r\n`, 3000));
      await new Promise((r) => setTimeout(r, 300));
    }
    for (const o of others) assert.equal(o.status, 200, o.raw.toString().slice(0, 200));
    for (const { path, request, problem } of slow) {
      const answer = await request.closed;
      assert.ok(answer.ms >= REQUEST_MS - 100 && answer.ms < REQUEST_MS + 2500, `${path}: closed after ${answer.ms.toFixed(0)} ms`);
      assert.equal(answer.status, 408, `${path}: ${answer.raw.toString().slice(0, 300)}`);
      assert.equal(answer.headers['connection'], 'close');
      assert.equal(problem(answer), null, path);
    }
  });

  it('closes a request whose headers trickle at the headers timeout', { timeout: 20_000 }, async () => {
    const slow = openSlowRequest(s.port, 'GET /api/v1/orders HTTP/1.1\r\nHost: x\r\nX-Slow: a');
    const answer = await slow.closed;
    assert.ok(answer.ms >= HEADERS_MS - 100 && answer.ms < HEADERS_MS + 2500, `closed after ${answer.ms.toFixed(0)} ms`);
    assert.equal(answer.status, 408);
    assert.equal(jsonErrorProblem(answer), null);
  });

  it('refuses connections past the cap, and answers again once they free up', { timeout: 20_000 }, async () => {
    const held = Array.from({ length: MAX_CONNECTIONS * 2 }, () => slowBody('/sign-in', ['Content-Type: application/x-www-form-urlencoded']));
    await new Promise((r) => setTimeout(r, 300));
    // Past the cap, connections are closed at once (the server does not run out of descriptors).
    const dropped = await Promise.all(held.map((h) => Promise.race([h.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 200))])));
    assert.ok(dropped.filter(Boolean).length >= MAX_CONNECTIONS - 2, `${dropped.filter(Boolean).length} of ${held.length} closed at once`);
    // The client lets the others go: the server answers again at once.
    for (const h of held) h.socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const health = await rawExchange(s.port, healthRequest, 3000);
    assert.equal(health.status, 200);
  });

  it('does not lock out new clients when slow connections fill the cap: the oldest slow one makes room', { timeout: 20_000 }, async () => {
    const held = Array.from({ length: MAX_CONNECTIONS + 10 }, () => slowBody('/api/v1/orders', [`Authorization: ${s.auth}`, 'Content-Type: application/json']));
    await new Promise((r) => setTimeout(r, 300));
    // Well before the request timeout would free anything.
    for (let i = 0; i < 5; i++) {
      const health = await rawExchange(s.port, healthRequest, 1000);
      assert.equal(health.status, 200, `/healthz attempt ${i}: ${health.raw.toString().slice(0, 200)}`);
      assert.ok(health.ms < 1000);
    }
    const api = await rawExchange(s.port, `GET /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: ${s.auth}\r\nConnection: close\r\n\r\n`, 1000);
    assert.equal(api.status, 200);
    // …because the cap holds: the oldest slow connections were closed to make room.
    const evicted = (await Promise.all(held.map((h) => Promise.race([h.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))])))).filter(Boolean).length;
    assert.ok(evicted >= 10, `${evicted} slow connections closed to make room`);
    for (const h of held) h.socket.destroy();
  });

  it('never closes a connection whose request is being answered to make room', { timeout: 20_000 }, async () => {
    // A live event stream is the oldest connection, its request answered for as long as it lasts.
    const stream = openSlowRequest(s.port, `GET /api/v1/webhooks/listen HTTP/1.1\r\nHost: x\r\nAuthorization: ${s.auth}\r\n\r\n`);
    let streamed = '';
    stream.socket.on('data', (d: Buffer) => (streamed += d.toString()));
    const deadline = Date.now() + 5000;
    while (!streamed.startsWith('HTTP/1.1 200') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.match(streamed, /^HTTP\/1\.1 200/);
    const held = Array.from({ length: MAX_CONNECTIONS * 2 }, () => slowBody('/sign-in', ['Content-Type: application/x-www-form-urlencoded']));
    await new Promise((r) => setTimeout(r, 500));
    const evicted = (await Promise.all(held.map((h) => Promise.race([h.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))])))).filter(Boolean).length;
    assert.ok(evicted >= MAX_CONNECTIONS, `${evicted} slow connections closed to make room`);
    assert.equal(stream.socket.destroyed, false, 'the stream being answered stays open');
    assert.equal(await Promise.race([stream.closed.then(() => 'closed'), new Promise<string>((r) => setTimeout(() => r('open'), 100))]), 'open');
    stream.socket.destroy();
    for (const h of held) h.socket.destroy();
  });
});
