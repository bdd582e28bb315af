// Every error in the documented shape, whatever the request looks like: malformed requests over raw
// sockets (bad URLs, over-long path parameters, thousands of headers, oversized headers, bytes that
// are not HTTP, bad encodings, HEAD) to a real server. JSON {code, error, message} on API and
// dashboard paths, an XML <error> document on the legacy /webhooks/… paths, no body for HEAD, and
// the server still answers afterwards.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { forEachDialect } from '../helpers/database.js';
import { healthRequest, jsonErrorProblem, rawExchange, startLiveServer, xmlErrorProblem, type LiveServer, type RawAnswer } from '../helpers/live-server.js';

const PATHS = ['/api/v1/orders', '/api/v0/orders', '/api/v1/webhooks', '/webhooks/get', '/webhooks/changes', '/webhooks', '/sign-in', '/subscriptions', '/healthz', '/nowhere'];
const isLegacy = (path: string) => path === '/webhooks' || path.startsWith('/webhooks/');

interface Malformed {
  kind: string;
  method: string;
  /** the path as sent (before any query string). */
  path: string;
  bytes: Buffer;
}

/** A case that fast-check prints as one line, not as its (possibly 40 KB) bytes. */
function mk(kind: string, method: string, path: string, bytes: Buffer): Malformed {
  return { kind, method, path, bytes, [fc.toStringMethod]: () => `${kind} ${method} ${path.slice(0, 80)} (${bytes.length} bytes)` } as Malformed;
}

/** A request line and headers; `extra` headers are inserted before the blank line. */
function request(method: string, target: string, extra: string[] = [], body = ''): Buffer {
  return Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${extra.map((h) => `${h}\r\n`).join('')}\r\n${body}`, 'latin1');
}

const method = fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS');
const base = fc.constantFrom(...PATHS);

const malformed: fc.Arbitrary<Malformed> = fc.oneof(
  // A "%" not followed by two hex digits, or percent-encoded bytes that are not UTF-8.
  fc.tuple(method, base, fc.constantFrom('%', '%zz', '%E0%A4%A', '%ff', '%C0%AF', '%00', '%%30')).map(([m, p, bad]) => {
    const path = `${p}/${bad}x`;
    return mk('bad url', m, path, request(m, path));
  }),
  // A path parameter past the router's 200-character limit.
  fc.tuple(method, fc.constantFrom('/api/v1/orders/', '/webhooks/', '/subscriptions/', '/api/v1/webhooks/'), fc.integer({ min: 201, max: 3000 })).map(([m, p, n]) => {
    const path = `${p}${'a'.repeat(n)}`;
    return mk('long param', m, path, request(m, path));
  }),
  // Thousands of headers, or one header past the 16 KiB header limit.
  fc.tuple(method, base, fc.integer({ min: 1500, max: 3500 })).map(([m, p, n]) => mk('many headers', m, p, request(m, p, Array.from({ length: n }, (_, i) => `X-H${i}: ${i}`)))),
  fc.tuple(method, base, fc.integer({ min: 17_000, max: 40_000 })).map(([m, p, n]) => mk('huge header', m, p, request(m, p, [`X-Big: ${'b'.repeat(n)}`]))),
  // Framing the parser refuses: a bad Content-Length, both Content-Length and chunked, bad chunks,
  // control bytes in a header, a space in a header name, a bad HTTP version.
  fc.tuple(fc.constantFrom('POST', 'PUT', 'HEAD'), base, fc.constantFrom('content-length', 'both', 'bad chunk', 'control byte', 'header name', 'version')).map(([m, p, how]) => {
    let bytes: Buffer;
    switch (how) {
      case 'content-length':
        bytes = request(m, p, ['Content-Length: 12abc'], 'x');
        break;
      case 'both':
        bytes = request(m, p, ['Content-Length: 5', 'Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n');
        break;
      case 'bad chunk':
        bytes = request(m, p, ['Transfer-Encoding: chunked'], 'zz\r\nhello\r\n0\r\n\r\n');
        break;
      case 'control byte':
        bytes = request(m, p, ['X-Ctl: a\u0001b']);
        break;
      case 'header name':
        bytes = request(m, p, ['Bad Name: 1']);
        break;
      default:
        bytes = Buffer.from(`${m} ${p} HTTP/9.x\r\nHost: x\r\n\r\n`, 'latin1');
    }
    return mk(how, m, p, bytes);
  }),
  // Bytes in the request target that HTTP does not allow (raw UTF-8, Latin-1, control bytes).
  fc.tuple(method, base, fc.constantFrom('\u00e4', '\u00ff\u00fe', '\u0001', '\u007f')).map(([m, p, raw]) => {
    const path = `${p}/${raw}`;
    return mk('raw bytes in path', m, path, request(m, path));
  }),
  // Bodies that are not what the route takes: wrong charset, invalid UTF-8, not JSON.
  fc.tuple(fc.constantFrom('POST', 'PATCH'), base, fc.constantFrom('application/json; charset=utf-16', 'application/json', 'text/xml', 'application/x-www-form-urlencoded; charset=nope'), fc.constantFrom('{"a":', '\u00ff\u00fe{}', '<x/>', 'a=%zz')).map(
    ([m, p, type, body]) => mk('bad body', m, p, request(m, p, [`Content-Type: ${type}`, `Content-Length: ${Buffer.byteLength(body, 'latin1')}`], body)),
  ),
);

function problemWith(req: Malformed, answer: RawAnswer): string | null {
  if (answer.status === 0) return 'no answer at all';
  if (req.method === 'HEAD') return answer.body.length === 0 ? null : `HEAD answer has a ${answer.body.length}-byte body`;
  if (answer.status < 400) return null;
  if (isLegacy(req.path)) return xmlErrorProblem(answer);
  // The dashboard answers errors inside its pages as HTML pages (docs/dashboard.md); everything
  // that fails before a page is reached is JSON.
  if ((answer.headers['content-type'] ?? '').startsWith('text/html') && !req.path.startsWith('/api/') && answer.body.includes('<h1>')) return null;
  return jsonErrorProblem(answer);
}

forEachDialect('malformed requests', (dialect) => {
  let s: LiveServer;
  before(async () => {
    s = await startLiveServer(dialect);
  });
  after(async () => {
    await s?.close();
  });

  it('answers each named case in the documented shape', { timeout: 60_000 }, async () => {
    const cases: [Malformed, number][] = [
      [{ kind: 'bad url', method: 'GET', path: '/api/v1/orders/%zz', bytes: request('GET', '/api/v1/orders/%zz') }, 400],
      [{ kind: 'bad url', method: 'GET', path: '/webhooks/%zz', bytes: request('GET', '/webhooks/%zz') }, 400],
      [{ kind: 'long param', method: 'GET', path: `/webhooks/${'a'.repeat(300)}`, bytes: request('GET', `/webhooks/${'a'.repeat(300)}`) }, 414],
      [{ kind: 'long param', method: 'GET', path: `/api/v1/orders/${'1'.repeat(300)}`, bytes: request('GET', `/api/v1/orders/${'1'.repeat(300)}`) }, 414],
      [{ kind: 'many headers', method: 'GET', path: '/api/v1/orders', bytes: request('GET', '/api/v1/orders', Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${i}`)) }, 431],
      [{ kind: 'many headers', method: 'POST', path: '/webhooks/get', bytes: request('POST', '/webhooks/get', Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${i}`)) }, 431],
      [{ kind: 'many headers', method: 'HEAD', path: '/webhooks/get', bytes: request('HEAD', '/webhooks/get', Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${i}`)) }, 431],
      [{ kind: 'bad chunk', method: 'POST', path: '/webhooks/get', bytes: request('POST', '/webhooks/get', ['Transfer-Encoding: chunked'], 'zz\r\n') }, 400],
      [{ kind: 'not found', method: 'GET', path: '/webhooks', bytes: request('GET', '/webhooks') }, 404],
      [{ kind: 'method', method: 'DELETE', path: '/webhooks/get', bytes: request('DELETE', '/webhooks/get') }, 405],
      [{ kind: 'media type', method: 'POST', path: '/webhooks/get', bytes: request('POST', '/webhooks/get', ['Content-Type: image/png', 'Content-Length: 3'], 'abc') }, 415],
      [{ kind: 'too large', method: 'POST', path: '/webhooks/get', bytes: request('POST', '/webhooks/get', [`Content-Length: ${2 * 1024 * 1024}`], 'a') }, 413],
    ];
    for (const [req, status] of cases) {
      const answer = await rawExchange(s.port, req.bytes, 5000);
      assert.equal(answer.status, status, `${req.kind} ${req.method} ${req.path.slice(0, 60)}: ${answer.raw.toString('latin1').slice(0, 300)}`);
      assert.equal(problemWith(req, answer), null, `${req.kind} ${req.method} ${req.path.slice(0, 60)}`);
    }
  });

  it('answers arbitrary malformed requests in the documented shape, and keeps answering', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(malformed, async (req) => {
        const answer = await rawExchange(s.port, req.bytes, 5000);
        const problem = problemWith(req, answer);
        assert.equal(problem, null, `${req.kind} ${req.method} ${req.path.slice(0, 80)} → ${answer.status}: ${problem}`);
      }),
      { numRuns: 150 },
    );
    const health = await rawExchange(s.port, healthRequest, 3000);
    assert.equal(health.status, 200);
  });
});
