import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { checkConnectedSocket, classifyError, createSender, type Sender } from '../../src/delivery/http-sender.js';
import { GuardError, NetworkGuard, parseAllowList, type LookupFn } from '../../src/delivery/network-guard.js';

const LOOPBACK_OPEN = parseAllowList('127.0.0.0/8,::1/128');

interface Receiver {
  url: string;
  port: number;
  /** Requests that reached the handler. */
  hits: number;
  /** TCP connections accepted. */
  connections: number;
  /** Resolves when any accepted socket closes. */
  socketClosed: Promise<void>;
  last?: { method: string; headers: http.IncomingHttpHeaders; body: Buffer };
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const openServers: Array<{ close(): Promise<void> }> = [];
const openSenders: Sender[] = [];

after(async () => {
  await Promise.all(openSenders.map((s) => s.close()));
  await Promise.all(openServers.map((s) => s.close()));
});

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    (server as http.Server).closeAllConnections?.();
    server.close(() => resolve());
  });
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A real HTTP receiver on 127.0.0.1:0 that reads the request body before calling `handler`. */
async function receiver(handler: Handler): Promise<Receiver> {
  let markClosed: () => void = () => {};
  const r: Receiver = {
    url: '',
    port: 0,
    hits: 0,
    connections: 0,
    socketClosed: new Promise<void>((resolve) => (markClosed = resolve)),
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.hits++;
      r.last = { method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      handler(req, res);
    });
  });
  server.on('connection', (socket) => {
    r.connections++;
    socket.on('close', () => markClosed());
  });
  r.port = await listen(server);
  r.url = `http://127.0.0.1:${r.port}/hook`;
  r.close = () => closeServer(server);
  openServers.push(r);
  return r;
}

function sender(opts: Partial<Parameters<typeof createSender>[0]> = {}): Sender {
  const s = createSender({ guard: new NetworkGuard(LOOPBACK_OPEN), userAgent: 'storehook/test', ...opts });
  openSenders.push(s);
  return s;
}

const BODY = '{"id":"msg_1","topic":"order.created"}';
const post = (s: Sender, url: string, extra: { signal?: AbortSignal } = {}) =>
  s.send({ url, body: BODY, headers: { 'webhook-id': 'msg_1' }, ...extra });

describe('http-sender: status handling', () => {
  test('200 is ok; POST with our headers and the exact body bytes', async () => {
    const r = await receiver((_req, res) => res.end('fine'));
    const res = await post(sender(), r.url);
    assert.equal(res.ok, true);
    assert.equal(res.statusCode, 200);
    assert.equal(res.responseBody, 'fine');
    assert.equal(res.errorClass, undefined);
    assert.equal(typeof res.durationMs, 'number');
    assert.equal(r.last?.method, 'POST');
    assert.equal(r.last?.headers['user-agent'], 'storehook/test');
    assert.equal(r.last?.headers['content-type'], 'application/json');
    assert.equal(r.last?.headers['webhook-id'], 'msg_1');
    assert.equal(r.last?.body.toString(), BODY);
  });

  test('201 is ok', async () => {
    const r = await receiver((_req, res) => {
      res.statusCode = 201;
      res.end();
    });
    const res = await post(sender(), r.url);
    assert.equal(res.ok, true);
    assert.equal(res.statusCode, 201);
    assert.equal(res.responseBody, '');
  });

  test('301 is a failure and its Location is never followed', async () => {
    const target = await receiver((_req, res) => res.end('should not be reached'));
    const r = await receiver((_req, res) => {
      res.writeHead(301, { location: target.url });
      res.end('moved');
    });
    const res = await post(sender(), r.url);
    assert.equal(res.ok, false);
    assert.equal(res.statusCode, 301);
    assert.equal(res.errorClass, 'http_status');
    assert.equal(r.hits, 1);
    assert.equal(target.hits, 0);
    assert.equal(target.connections, 0);
  });

  for (const [status, text] of [
    [404, 'no such hook'],
    [500, 'boom: stack trace here'],
    [410, 'gone for good'],
  ] as const) {
    test(`${status} is http_status with a body excerpt`, async () => {
      const r = await receiver((_req, res) => {
        res.statusCode = status;
        res.end(text);
      });
      const res = await post(sender(), r.url);
      assert.equal(res.ok, false);
      assert.equal(res.statusCode, status);
      assert.equal(res.errorClass, 'http_status');
      assert.equal(res.responseBody, text);
      assert.equal(res.retryAfter, undefined);
    });
  }

  test('429 returns Retry-After in seconds, raw', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(429, { 'retry-after': '120' });
      res.end('slow down');
    });
    const res = await post(sender(), r.url);
    assert.equal(res.statusCode, 429);
    assert.equal(res.errorClass, 'http_status');
    assert.equal(res.retryAfter, '120');
  });

  test('503 returns Retry-After as an HTTP-date, raw', async () => {
    const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
    const r = await receiver((_req, res) => {
      res.writeHead(503, { 'retry-after': date });
      res.end();
    });
    const res = await post(sender(), r.url);
    assert.equal(res.statusCode, 503);
    assert.equal(res.ok, false);
    assert.equal(res.retryAfter, date);
  });
});

describe('http-sender: timeouts and bodies', () => {
  test('headers slower than the total timeout → timeout, returned within ~the timeout', async () => {
    const r = await receiver(() => {
      /* never answer */
    });
    const t0 = Date.now();
    const res = await post(sender({ connectTimeoutMs: 500, totalTimeoutMs: 1000 }), r.url);
    const took = Date.now() - t0;
    assert.equal(res.ok, false);
    assert.equal(res.errorClass, 'timeout');
    assert.equal(res.statusCode, undefined);
    assert.ok(took >= 950 && took < 1800, `took ${took} ms`);
    assert.ok(res.durationMs >= 950 && res.durationMs < 1800, `durationMs ${res.durationMs}`);
  });

  test('2xx whose body trickles past the total timeout → timeout (the deadline covers the body)', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('a');
      const iv = setInterval(() => res.write('a'), 100);
      res.on('close', () => clearInterval(iv));
    });
    const t0 = Date.now();
    const res = await post(sender({ connectTimeoutMs: 500, totalTimeoutMs: 1000 }), r.url);
    const took = Date.now() - t0;
    assert.equal(res.ok, false);
    assert.equal(res.statusCode, 200);
    assert.equal(res.errorClass, 'timeout');
    assert.ok(res.responseBody.startsWith('a'), 'partial excerpt kept');
    assert.ok(took < 1800, `took ${took} ms`);
  });

  test('endless chunked body: exactly maxResponseBytes captured, connection destroyed, no hang', async () => {
    let written = 0;
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(4096, 'x');
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
      };
      res.on('drain', pump);
      pump();
    });
    const t0 = Date.now();
    // Default cap (16384) and a long total timeout: returning quickly proves we stopped reading.
    const res = await post(sender({ totalTimeoutMs: 10_000 }), r.url);
    assert.equal(res.ok, true);
    assert.equal(res.statusCode, 200);
    assert.equal(Buffer.byteLength(res.responseBody), 16384);
    assert.equal(res.responseBody, 'x'.repeat(16384));
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    await Promise.race([
      r.socketClosed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('receiver socket was not closed')), 2000)),
    ]);
    assert.ok(written > 16384);
  });

  test('2xx with a 10 MB body is ok with a truncated excerpt', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 'b');
    const r = await receiver((_req, res) => res.end(big));
    const res = await post(sender({ maxResponseBytes: 1000 }), r.url);
    assert.equal(res.ok, true);
    assert.equal(res.errorClass, undefined);
    assert.equal(res.responseBody, 'b'.repeat(1000));
  });

  test('excerpt cut inside a multi-byte character drops the partial character', async () => {
    const r = await receiver((_req, res) => res.end('ab€€€')); // € is 3 bytes
    const res = await post(sender({ maxResponseBytes: 4 }), r.url);
    assert.equal(res.responseBody, 'ab');
  });

  test('caller abort ends the attempt early (not a timeout)', async () => {
    const r = await receiver(() => {
      /* never answer */
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('shutdown')), 200);
    const t0 = Date.now();
    const res = await post(sender({ totalTimeoutMs: 5000 }), r.url, { signal: ac.signal });
    assert.equal(res.ok, false);
    assert.equal(res.errorClass, 'network_error');
    assert.match(res.errorMessage ?? '', /aborted by caller/);
    assert.ok(Date.now() - t0 < 1500);
  });
});

describe('http-sender: connection failures', () => {
  test('socket destroyed on request → connection_reset', async () => {
    const server = http.createServer((req) => req.socket.destroy());
    const port = await listen(server);
    openServers.push({ close: () => closeServer(server) });
    const res = await post(sender(), `http://127.0.0.1:${port}/`);
    assert.equal(res.ok, false);
    assert.equal(res.errorClass, 'connection_reset');
    assert.equal(res.statusCode, undefined);
  });

  test('TCP RST after the request arrives → connection_reset', async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const port = await listen(server);
    openServers.push({ close: () => closeServer(server) });
    const res = await post(sender(), `http://127.0.0.1:${port}/`);
    assert.equal(res.errorClass, 'connection_reset');
  });

  test('nothing listening → connection_refused', async () => {
    const server = net.createServer();
    const port = await listen(server);
    await closeServer(server);
    const res = await post(sender(), `http://127.0.0.1:${port}/`);
    assert.equal(res.ok, false);
    assert.equal(res.errorClass, 'connection_refused');
    assert.match(res.errorMessage ?? '', /ECONNREFUSED/);
  });

  test('unresolvable name → dns_error', async () => {
    const res = await post(sender(), 'http://nonexistent.invalid/hook');
    assert.equal(res.ok, false);
    assert.equal(res.errorClass, 'dns_error');
  });

  test('DNS slower than the connect timeout → timeout', async () => {
    const hang: LookupFn = () => new Promise(() => {});
    const s = sender({
      guard: new NetworkGuard(LOOPBACK_OPEN, { lookup: hang }),
      connectTimeoutMs: 300,
      totalTimeoutMs: 5000,
    });
    const t0 = Date.now();
    const res = await post(s, 'http://slow-dns.example/hook');
    assert.equal(res.errorClass, 'timeout');
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
  });

  test('maxConnectionsPerOrigin caps concurrent connections', async () => {
    const r = await receiver((_req, res) => setTimeout(() => res.end('ok'), 50));
    const s = sender({ maxConnectionsPerOrigin: 1 });
    const results = await Promise.all([post(s, r.url), post(s, r.url), post(s, r.url)]);
    assert.deepEqual(
      results.map((x) => x.ok),
      [true, true, true],
    );
    assert.equal(r.connections, 1);
    assert.equal(r.hits, 3);
  });
});

describe('http-sender: TLS', () => {
  let dir = '';
  let key = Buffer.alloc(0);
  let cert = Buffer.alloc(0);

  before(() => {
    // Self-signed cert for "localhost" made at test time (openssl CLI; EC for speed).
    dir = mkdtempSync(join(tmpdir(), 'storehook-tls-'));
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function httpsReceiver(): Promise<{ port: number; servernames: Array<string | false | null> }> {
    const servernames: Array<string | false | null> = [];
    const server = https.createServer({ key, cert }, (req, res) => {
      servernames.push((req.socket as TLSSocket).servername);
      res.end('tls ok');
    });
    const port = await listen(server);
    openServers.push({ close: () => closeServer(server) });
    return { port, servernames };
  }

  test('untrusted self-signed certificate → tls_error', async () => {
    const { port, servernames } = await httpsReceiver();
    const res = await post(sender(), `https://127.0.0.1:${port}/hook`);
    assert.equal(res.ok, false);
    assert.equal(res.errorClass, 'tls_error');
    assert.equal(servernames.length, 0);
  });

  test('speaking TLS to a plain-HTTP port → tls_error', async () => {
    const r = await receiver((_req, res) => res.end('plain'));
    const res = await post(sender(), `https://127.0.0.1:${r.port}/hook`);
    assert.equal(res.ok, false);
    assert.equal(res.errorClass, 'tls_error');
  });

  test('name target dialled by checked IP keeps SNI and certificate name (trusted CA)', async () => {
    const { port, servernames } = await httpsReceiver();
    const res = await post(sender({ tlsCa: cert }), `https://localhost:${port}/hook`);
    assert.equal(res.ok, true, res.errorMessage);
    assert.equal(res.responseBody, 'tls ok');
    assert.deepEqual(servernames, ['localhost']);
  });

  test('certificate name mismatch → tls_error', async () => {
    const { port } = await httpsReceiver();
    // Cert is for DNS:localhost only; an IP-literal URL must not validate against it.
    const res = await post(sender({ tlsCa: cert }), `https://127.0.0.1:${port}/hook`);
    assert.equal(res.errorClass, 'tls_error');
  });
});

describe('http-sender: network guard', () => {
  test('without an allow-list, a loopback literal is blocked and the receiver sees no connection', async () => {
    const r = await receiver((_req, res) => res.end('reached'));
    const s = sender({ guard: new NetworkGuard() });
    const res = await post(s, r.url);
    assert.equal(res.ok, false);
    assert.equal(res.errorClass, 'blocked_target');
    assert.match(res.errorMessage ?? '', /127\.0\.0\.1/);
    assert.match(res.errorMessage ?? '', /loopback/);
    assert.equal(r.connections, 0);
    assert.equal(r.hits, 0);
  });

  test('without an allow-list, decimal and bracketed-mapped loopback forms are blocked too', async () => {
    const r = await receiver((_req, res) => res.end('reached'));
    const s = sender({ guard: new NetworkGuard() });
    for (const url of [`http://2130706433:${r.port}/`, `http://0x7f.1:${r.port}/`, `http://[::ffff:127.0.0.1]:${r.port}/`]) {
      const res = await post(s, url);
      assert.equal(res.errorClass, 'blocked_target', url);
    }
    assert.equal(r.connections, 0);
  });

  test('without an allow-list, a name resolving to loopback (localhost via /etc/hosts) is blocked', async () => {
    const r = await receiver((_req, res) => res.end('reached'));
    const res = await post(sender({ guard: new NetworkGuard() }), `http://localhost:${r.port}/hook`);
    assert.equal(res.errorClass, 'blocked_target');
    assert.equal(r.connections, 0);
  });

  test('a name with any refused address is blocked even if the first is public', async () => {
    const lookup: LookupFn = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const r = await receiver((_req, res) => res.end('reached'));
    const res = await post(sender({ guard: new NetworkGuard(parseAllowList(''), { lookup }) }), `http://mixed.example:${r.port}/`);
    assert.equal(res.errorClass, 'blocked_target');
    assert.equal(r.connections, 0);
  });

  test('a name is dialled at the address the guard checked', async () => {
    const r = await receiver((_req, res) => res.end('via checked address'));
    const lookup: LookupFn = async () => [{ address: '127.0.0.1', family: 4 }];
    const res = await post(
      sender({ guard: new NetworkGuard(LOOPBACK_OPEN, { lookup }) }),
      `http://hooks.example:${r.port}/hook`,
    );
    assert.equal(res.ok, true, res.errorMessage);
    assert.equal(r.last?.headers.host, `hooks.example:${r.port}`);
  });

  test('an unreachable first address falls back to the next checked one', async () => {
    const r = await receiver((_req, res) => res.end('second address'));
    // The receiver listens on 127.0.0.1 only, so 127.0.0.2 refuses the connection.
    const lookup: LookupFn = async () => [
      { address: '127.0.0.2', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const res = await post(sender({ guard: new NetworkGuard(LOOPBACK_OPEN, { lookup }) }), `http://two.example:${r.port}/`);
    assert.equal(res.ok, true, res.errorMessage);
    assert.equal(res.responseBody, 'second address');
  });

  test('post-connect re-check: a peer refused after connecting is dropped before any request', async () => {
    // A guard that accepts the pre-dial check but refuses the peer address afterwards, as a
    // DNS-rebinding race would: only the post-connect check can catch it.
    class FlipGuard extends NetworkGuard {
      calls = 0;
      override classify(ip: string) {
        this.calls++;
        return this.calls === 1 ? { allowed: true } : { allowed: false, reason: `rebound ${ip}` };
      }
    }
    const r = await receiver((_req, res) => res.end('reached'));
    const guard = new FlipGuard();
    const res = await post(sender({ guard }), r.url);
    assert.equal(res.errorClass, 'blocked_target');
    assert.match(res.errorMessage ?? '', /rebound 127\.0\.0\.1/);
    assert.equal(r.hits, 0);
    assert.equal(guard.calls, 2);
  });
});

describe('checkConnectedSocket', () => {
  const guard = new NetworkGuard();
  const fake = (remoteAddress: string | undefined) => {
    const s = { remoteAddress, destroyed: false, destroy: () => (s.destroyed = true) };
    return s;
  };

  test('refused peer: returns GuardError and destroys the socket', () => {
    for (const addr of ['10.0.0.7', '::ffff:127.0.0.1', '169.254.169.254', 'fe80::1']) {
      const s = fake(addr);
      const err = checkConnectedSocket(s, guard);
      assert.ok(err instanceof GuardError, addr);
      assert.ok(err.message.includes(addr));
      assert.equal(s.destroyed, true);
    }
  });
  test('public peer: kept', () => {
    const s = fake('93.184.216.34');
    assert.equal(checkConnectedSocket(s, guard), undefined);
    assert.equal(s.destroyed, false);
  });
  test('no remote address (socket already gone): refused and destroyed', () => {
    const s = fake(undefined);
    assert.ok(checkConnectedSocket(s, guard) instanceof GuardError);
    assert.equal(s.destroyed, true);
  });
});

describe('classifyError', () => {
  const withCode = (code: string, cause?: unknown) => Object.assign(new Error(code), { code }, cause ? { cause } : {});
  test('maps codes, including nested causes and AggregateError members', () => {
    assert.equal(classifyError(withCode('ECONNREFUSED')), 'connection_refused');
    assert.equal(classifyError(new AggregateError([withCode('ECONNREFUSED')], 'x')), 'connection_refused');
    assert.equal(classifyError(withCode('UND_ERR_SOCKET', withCode('ECONNRESET'))), 'connection_reset');
    assert.equal(classifyError(withCode('UND_ERR_HEADERS_TIMEOUT')), 'timeout');
    assert.equal(classifyError(withCode('EAI_AGAIN')), 'dns_error');
    assert.equal(classifyError(withCode('DEPTH_ZERO_SELF_SIGNED_CERT')), 'tls_error');
    assert.equal(classifyError(withCode('ERR_SSL_WRONG_VERSION_NUMBER')), 'tls_error');
    assert.equal(classifyError(new GuardError('10.0.0.1', 'private')), 'blocked_target');
    assert.equal(classifyError(new Error('something odd')), 'network_error');
  });
});
