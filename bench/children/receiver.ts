/**
 * The webhook receiver every scenario delivers to: 127.0.0.1, node:http, keep-alive.
 *   /ok/<name>    answers 200 at once
 *   /fail/<name>  answers 503 at once (a broken endpoint: its messages become retries)
 *   /hang/<name>  never answers (the sender's timeout ends it)
 * It counts requests and distinct `webhook-id`s (duplicates = requests − distinct), remembers the
 * first and last arrival, and, when tracking is on, when each order's message arrived (the order
 * id read from the body). Times are `performance.timeOrigin + performance.now()`: epoch ms with
 * sub-millisecond precision, comparable across processes on this machine.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { serveIpc } from '../lib/ipc.js';

const now = (): number => performance.timeOrigin + performance.now();

interface Counters {
  requests: number;
  byKind: Record<string, number>;
  firstAt: number | null;
  lastAt: number | null;
  ids: Set<string>;
}

const fresh = (): Counters => ({ requests: 0, byKind: { ok: 0, fail: 0, hang: 0, other: 0 }, firstAt: null, lastAt: null, ids: new Set() });
let c = fresh();
/** okCount per path, e.g. how many arrived for /ok/h3. */
let perPath = new Map<string, number>();
let tracking = false;
/** [orderId, arrival, pathIndex] flattened; paths interned. */
let receipts: number[] = [];
let paths: string[] = [];
const pathIndex = new Map<string, number>();
const hung = new Set<ServerResponse>();
const sockets = new Set<Socket>();
const ORDER_ID = /"data":\{"id":(\d+)/;

function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
  const t = now();
  const url = req.url ?? '/';
  const kind = url.startsWith('/ok/') ? 'ok' : url.startsWith('/fail/') ? 'fail' : url.startsWith('/hang/') ? 'hang' : 'other';
  c.requests++;
  c.byKind[kind] = (c.byKind[kind] ?? 0) + 1;
  c.firstAt ??= t;
  c.lastAt = t;
  const id = req.headers['webhook-id'];
  if (typeof id === 'string' && kind === 'ok') c.ids.add(id);
  if (kind === 'ok') perPath.set(url, (perPath.get(url) ?? 0) + 1);
  if (tracking && kind === 'ok') {
    const m = ORDER_ID.exec(body);
    if (m) {
      let p = pathIndex.get(url);
      if (p === undefined) {
        p = paths.length;
        paths.push(url);
        pathIndex.set(url, p);
      }
      receipts.push(Number(m[1]), t, p);
    }
  }
  if (kind === 'hang') {
    hung.add(res);
    res.once('close', () => hung.delete(res));
    return;
  }
  res.writeHead(kind === 'fail' ? 503 : kind === 'ok' ? 200 : 404, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end(kind === 'ok' ? 'ok' : 'no');
}

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  // Read the body only when it is needed (tracking); otherwise just drain it.
  if (tracking) {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (body.length < 256) body += chunk;
    });
    req.on('end', () => handle(req, res, body));
  } else {
    req.on('data', () => undefined);
    req.on('end', () => handle(req, res, ''));
  }
  req.on('error', () => undefined);
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 70_000;
server.requestTimeout = 0;
server.on('connection', (s: Socket) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
  s.on('error', () => undefined);
});
server.on('clientError', (_e, s) => s.destroy());

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveIpc({
    address: () => ({ url: `http://127.0.0.1:${port}` }),
    reset: (p) => {
      c = fresh();
      perPath = new Map();
      receipts = [];
      paths = [];
      pathIndex.clear();
      tracking = Boolean((p as { track?: boolean } | undefined)?.track);
      return true;
    },
    stats: () => ({
      requests: c.requests,
      byKind: c.byKind,
      distinct: c.ids.size,
      // 2xx answers beyond one per webhook-id: a message delivered twice.
      duplicates: c.byKind['ok']! - c.ids.size,
      firstAt: c.firstAt,
      lastAt: c.lastAt,
      okPerPath: Object.fromEntries(perPath),
      hanging: hung.size,
      sockets: sockets.size,
      rss: process.memoryUsage.rss(),
    }),
    receipts: () => ({ receipts, paths }),
    /** ends every hanging request (between scenarios). */
    release: () => {
      for (const r of hung) r.destroy();
      hung.clear();
      return true;
    },
  });
});
