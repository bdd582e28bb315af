/**
 * Bad receivers: every way an endpoint can misbehave is a real server on 127.0.0.x,
 * all subscribed to the same topic beside one healthy receiver. Each misbehaviour is recorded
 * as a failed attempt with its error class (SPEC §4), memory stays bounded (the response
 * excerpt is capped, endless bodies are cut off), and the healthy subscription gets every
 * message promptly, as if the others were not there.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { parseAllowList } from '../../src/delivery/network-guard.js';
import { forEachDialect } from '../helpers/database.js';
import { startEngine, waitUntil, sleep, type Engine } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const REQUEST_TIMEOUT_MS = 2000;
const EXCERPT_CAP = 16 * 1024;
const ORDERS = 3;

interface RawServer {
  url: string;
  port: number;
  /** requests whose headers arrived. */
  hits: number;
  /** TCP connections accepted. */
  connections: number;
  /** bytes of response body written before the client went away. */
  bytesWritten: number;
  /** ms from a response's start until storehook closed the connection, per request. */
  closedAfterMs: number[];
  close(): Promise<void>;
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close().catch(() => undefined);
});

let tlsDir = '';
let tlsKey = Buffer.alloc(0);
let tlsCert = Buffer.alloc(0);
before(() => {
  tlsDir = mkdtempSync(join(tmpdir(), 'storehook-bad-tls-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(tlsDir, 'key.pem'), '-out', join(tlsDir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  tlsKey = readFileSync(join(tlsDir, 'key.pem'));
  tlsCert = readFileSync(join(tlsDir, 'cert.pem'));
});
after(() => rmSync(tlsDir, { recursive: true, force: true }));

/** A raw server whose handler writes the response itself (endless bodies, redirects, TLS). */
async function rawServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, s: RawServer) => void,
  opts: { host?: string; tls?: boolean } = {},
): Promise<RawServer> {
  const host = opts.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  const s: RawServer = { url: '', port: 0, hits: 0, connections: 0, bytesWritten: 0, closedAfterMs: [], close: async () => {} };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    req.on('end', () => {
      s.hits++;
      const started = Date.now();
      res.on('close', () => s.closedAfterMs.push(Date.now() - started));
      handler(req, res, s);
    });
  };
  const server = opts.tls ? https.createServer({ key: tlsKey, cert: tlsCert }, onRequest) : http.createServer(onRequest);
  server.on('connection', (socket: net.Socket) => {
    s.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  s.port = (server.address() as net.AddressInfo).port;
  s.url = `${opts.tls ? 'https' : 'http'}://${host}:${s.port}/hook`;
  s.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  open.push(s);
  return s;
}

/** Writes `chunk` as fast as the client reads, until it goes away (or `limit` bytes). */
function pour(res: http.ServerResponse, s: RawServer, chunk: Buffer, limit = Infinity): void {
  const write = (): void => {
    while (!res.destroyed && s.bytesWritten < limit) {
      s.bytesWritten += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', write);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  res.on('error', () => undefined);
  write();
}

async function receiver(handler?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(handler);
  open.push(r);
  return r;
}

async function insertSubscription(e: Engine, url: string): Promise<string> {
  const uuid = randomUUID();
  const now = Date.now();
  const user = await e.database.kysely.selectFrom('api_users').select('id').executeTakeFirstOrThrow();
  await e.database.kysely
    .insertInto('webhook_subscriptions')
    .values({ uuid, store_id: e.storeId, user_id: user.id, topic: 'order.created', expands: '[]', url, status: 'active', disabled_reason: null, created_at: now, updated_at: now })
    .execute();
  return uuid;
}

interface Case {
  name: string;
  uuid: string;
  /** expected error class of every first attempt, or null for delivered. */
  errorClass: string | null;
  statusCode: number | null;
  check?: () => void | Promise<void>;
}

forEachDialect('bad receivers', (dialect) => {
  test('each misbehaving receiver is recorded with its error class and does not delay a healthy one', async () => {
    const e = await startEngine(dialect, {
      config: {
        // Only 127.0.0.1 is opened: 127.0.0.2 stays a refused (loopback) target.
        allowTargets: parseAllowList('127.0.0.1/32'),
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        connectTimeoutMs: 1000,
        // No retry during the test: every attempt seen is a first attempt.
        retryBaseMs: 600_000,
      },
    });
    open.push(e);
    const cases: Case[] = [];
    const add = async (name: string, url: string, errorClass: string | null, statusCode: number | null, check?: () => void | Promise<void>) => {
      const uuid = url.includes('.invalid') || url.includes('127.0.0.2') ? await insertSubscription(e, url) : (await e.subscribe(url)).uuid;
      cases.push({ name, uuid, errorClass, statusCode, ...(check ? { check } : {}) });
    };

    const healthy = await receiver();
    const healthySub = await e.subscribe(healthy.url);

    const hang = await receiver(() => 'hang');
    await add('hangs', hang.url, 'timeout', null);

    const slow = await receiver(async () => {
      await sleep(REQUEST_TIMEOUT_MS * 2);
      return { status: 200 };
    });
    await add('answers after the timeout', slow.url, 'timeout', null);

    const trickle = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write('.')), 100);
      res.on('close', () => clearInterval(t));
    });
    await add('200 whose body trickles past the timeout', trickle.url, 'timeout', 200);

    const endless500 = await rawServer((_req, res, s) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      pour(res, s, Buffer.alloc(64 * 1024, 'x'));
    });
    await add('500 with an endless body', endless500.url, 'http_status', 500, () => {
      // Cut off long before the timeout, and far from "everything": the read is capped.
      assert.ok(endless500.closedAfterMs.length >= ORDERS, 'connections were closed by storehook');
      assert.ok(Math.max(...endless500.closedAfterMs) < REQUEST_TIMEOUT_MS, `closed after ${endless500.closedAfterMs.join(', ')} ms`);
    });

    const huge200 = await rawServer((_req, res, s) => {
      const size = 256 * 1024 * 1024;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
      pour(res, s, Buffer.alloc(64 * 1024, 'y'), size);
    });
    await add('200 with a 256 MiB body', huge200.url, null, 200, () => {
      assert.ok(huge200.bytesWritten < 64 * 1024 * 1024, `storehook let ${huge200.bytesWritten} bytes through`);
    });

    const reset = await receiver(() => 'reset');
    await add('resets the connection', reset.url, 'connection_reset', null);

    const target = await receiver();
    for (const code of [301, 302, 307, 308]) {
      const redirect = await receiver(() => ({ status: code, headers: { location: target.url } }));
      await add(`redirects with ${code}`, redirect.url, 'http_status', code);
    }
    for (const code of [400, 404, 500, 502]) {
      const r = await receiver(() => ({ status: code, body: `status ${code} from the receiver` }));
      await add(`answers ${code}`, r.url, 'http_status', code, async () => {
        const m = (await e.messages(cases.find((c) => c.name === `answers ${code}`)!.uuid))[0]!;
        assert.equal((await e.attempts(m.id))[0]!.response_body, `status ${code} from the receiver`);
      });
    }

    const selfSigned = await rawServer((_req, res) => res.end('should never be reached'), { tls: true });
    await add('TLS with an untrusted certificate', selfSigned.url, 'tls_error', null, () => assert.equal(selfSigned.hits, 0));
    const plainAsTls = await receiver();
    await add('https to a plain-HTTP port', plainAsTls.url.replace('http:', 'https:'), 'tls_error', null, () => assert.equal(plainAsTls.requests.length, 0));

    await add('a name that does not resolve', `http://hook-${Date.now()}.storehook-test.invalid/hook`, 'dns_error', null);

    const refusedPort = await receiver();
    const deadUrl = refusedPort.url;
    await refusedPort.close();
    await add('nothing listening', deadUrl, 'connection_refused', null);

    const forbidden = await rawServer((_req, res) => res.end('should never be reached'), { host: '127.0.0.2' });
    await add('a target the network guard refuses', forbidden.url, 'blocked_target', null, () => {
      assert.equal(forbidden.connections, 0, 'a refused address is never dialled');
    });

    // The API refuses what the guard refuses (that is why those two rows were inserted directly).
    assert.equal((await e.api('POST', '/webhooks', { topic: 'order.created', url: forbidden.url.replace('/hook', '/other') })).status, 400);

    const latencies: number[] = [];
    for (let i = 0; i < ORDERS; i++) {
      const t0 = Date.now();
      await e.createOrder(`bad receivers ${i}`);
      await healthy.waitFor(i + 1, 10_000);
      latencies.push(healthy.requests[i]!.receivedAt - t0);
      await sleep(50);
    }
    assert.ok(Math.max(...latencies) < REQUEST_TIMEOUT_MS / 2, `healthy latencies ${latencies.join(', ')} ms (timeout ${REQUEST_TIMEOUT_MS})`);

    // Every bad subscription has its first attempt of every message recorded.
    await waitUntil(
      'every first attempt recorded',
      async () => {
        for (const c of cases) {
          const ms = await e.messages(c.uuid);
          if (ms.length !== ORDERS || ms.some((m) => m.attempt_count < 1)) return false;
        }
        return true;
      },
      REQUEST_TIMEOUT_MS * 4 + 10_000,
    );

    const problems: string[] = [];
    for (const c of cases) {
      for (const m of await e.messages(c.uuid)) {
        const attempts = await e.attempts(m.id);
        const a = attempts[0]!;
        const got = `${c.name}: ${m.status} class=${a.error_class} status=${a.status_code} (${a.error_message})`;
        if (attempts.length !== 1) problems.push(`${got}: ${attempts.length} attempts`);
        if (a.error_class !== c.errorClass) problems.push(`${got}: expected class ${c.errorClass}`);
        if (a.status_code !== c.statusCode) problems.push(`${got}: expected status ${c.statusCode}`);
        if (c.errorClass === null) {
          if (m.status !== 'delivered') problems.push(`${got}: expected delivered`);
        } else {
          if (m.status !== 'pending' || m.next_attempt_at === null) problems.push(`${got}: expected pending with a retry scheduled`);
          if (!a.error_message) problems.push(`${got}: no error message`);
        }
        if ((a.response_body ?? '').length > EXCERPT_CAP) problems.push(`${got}: excerpt of ${a.response_body!.length} bytes`);
        if (c.errorClass === 'timeout' && a.duration_ms > REQUEST_TIMEOUT_MS + 1500) problems.push(`${got}: took ${a.duration_ms} ms`);
      }
      await c.check?.();
    }
    assert.deepEqual(problems, []);

    // Capped excerpts really are capped at 16 KiB (and are the first bytes).
    const endless = (await e.messages(cases.find((c) => c.name === '500 with an endless body')!.uuid))[0]!;
    assert.equal((await e.attempts(endless.id))[0]!.response_body, 'x'.repeat(EXCERPT_CAP));
    // A redirect is an answer, never followed: its target saw nothing.
    assert.equal(target.requests.length, 0);

    const healthyMessages = await e.messages(healthySub.uuid);
    assert.equal(healthyMessages.length, ORDERS);
    assert.ok(healthyMessages.every((m) => m.status === 'delivered' && m.attempt_count === 1));
    assert.equal(healthy.requests.length, ORDERS);
  });

  test('with no allow-list at all, a loopback target is refused at connect time and never dialled', async () => {
    const e = await startEngine(dialect, { config: { allowTargets: parseAllowList(''), retryBaseMs: 600_000 } });
    open.push(e);
    const r = await rawServer((_req, res) => res.end('should never be reached'));
    assert.equal((await e.api('POST', '/webhooks', { topic: 'order.created', url: r.url })).status, 400, 'the API refuses it');
    const uuid = await insertSubscription(e, r.url);
    await e.createOrder('to a refused target');
    const [m] = await waitUntil('the attempt recorded', async () => {
      const rows = await e.messages(uuid);
      return rows[0] && rows[0].attempt_count > 0 ? rows : null;
    });
    const [a] = await e.attempts(m!.id);
    assert.equal(a!.error_class, 'blocked_target');
    assert.match(a!.error_message ?? '', /127\.0\.0\.1/);
    assert.equal(m!.status, 'pending');
    assert.equal(r.connections, 0, 'never dialled');
    assert.equal(r.hits, 0);
  });
});
