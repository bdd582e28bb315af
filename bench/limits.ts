/**
 * `node --import tsx bench/limits.ts` — what one hostile client costs a real `storehook serve`
 * (docs/deploy.md, "Limits and timeouts"). Not a bench/run.ts scenario: it measures bounds, not
 * throughput, and takes a minute or two. Starts its own server on SQLite in a temp folder, under
 * `ulimit -n 1024` (the usual default), and prints a table:
 *
 *  1. huge validation errors: `{"products":[{}, …]}` of 300 KB and 1 MiB to POST /api/v1/orders,
 *     alone and three at once: status, response size, time, server RSS growth, and the slowest
 *     /healthz answer meanwhile (a blocked event loop shows there);
 *  2. slow bodies: `Content-Length: 100` with 6 bytes sent, to the dashboard sign-in, a legacy
 *     action and an authenticated API POST: how long the server keeps each open;
 *  3. many slow sockets: 1,100 of them at once; does /healthz answer meanwhile, and after?
 *
 *   --slow-cap-ms N   stop waiting for a slow body after N ms (default 60000)
 *   --sockets N       sockets in part 3 (default 1100)
 *   --json            print the figures as JSON too
 *   any other --flag=value is passed to `storehook serve`
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/storehook.js', import.meta.url));

interface Args {
  slowCapMs: number;
  sockets: number;
  json: boolean;
  serveFlags: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { slowCapMs: 60_000, sockets: 1100, json: false, serveFlags: [] };
  for (const arg of argv) {
    const [name, value] = arg.split('=', 2) as [string, string | undefined];
    if (name === '--slow-cap-ms') a.slowCapMs = Number(value);
    else if (name === '--sockets') a.sockets = Number(value);
    else if (name === '--json') a.json = true;
    else a.serveFlags.push(arg);
  }
  return a;
}

interface Server {
  pid: number;
  host: string;
  port: number;
  auth: string;
  stop(): Promise<void>;
}

async function startServer(flags: string[]): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'storehook-limits-'));
  const command = `ulimit -n 1024 && exec "${process.execPath}" "${BIN}" serve --port 0 --data-dir "${dir}" ${flags.map((f) => `'${f}'`).join(' ')}`;
  const proc = spawn('sh', ['-c', command], { env: { ...process.env, LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    const check = () => {
      if (/API key: \S+/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout.on('data', check);
    void exited.then(() => reject(new Error(`server exited:\n${out}`)));
  });
  const url = new URL(/ on (http:\/\/\S+)/.exec(out)![1]!);
  const email = /e-mail: +(\S+)/.exec(out)![1]!;
  const key = /API key: +(\S+)/.exec(out)![1]!;
  return {
    pid: proc.pid!,
    host: url.hostname,
    port: Number(url.port),
    auth: `Basic ${Buffer.from(`${email}:${key}`).toString('base64')}`,
    async stop() {
      proc.kill('SIGTERM');
      const force = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** One HTTP/1.1 request over its own socket; resolves with the status and the body's size. */
function rawRequest(server: Server, head: string, body: Buffer | string = '', timeoutMs = 120_000): Promise<{ status: number; bytes: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(server.port, server.host);
    let bytes = 0;
    let first = '';
    const finish = () => {
      clearTimeout(timer);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(first)?.[1] ?? 0);
      const headerEnd = first.indexOf('\r\n\r\n');
      resolve({ status, bytes: headerEnd < 0 ? 0 : bytes - headerEnd - 4, ms: performance.now() - started });
    };
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (d: Buffer) => {
      if (first.length < 4096) first += d.toString('latin1');
      bytes += d.length;
    });
    socket.on('close', finish);
    socket.on('error', () => undefined);
    socket.write(head);
    socket.end(body);
  });
}

async function healthz(server: Server, timeoutMs = 5000): Promise<string> {
  const r = await rawRequest(server, `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, '', timeoutMs);
  return r.status ? `${r.status} in ${r.ms.toFixed(0)} ms` : `no answer (${r.ms.toFixed(0)} ms)`;
}

/** Polls /healthz every 50 ms until stopped; reports the slowest answer. */
function watchHealth(server: Server): () => Promise<number> {
  let worst = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await rawRequest(server, `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, '', 60_000);
      worst = Math.max(worst, r.ms);
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return worst;
  };
}

function hugeProducts(bytes: number): Buffer {
  const items = Math.floor((bytes - 16) / 3);
  return Buffer.from(`{"products":[${Array.from({ length: items }, () => '{}').join(',')}]}`);
}

async function postOrders(server: Server, body: Buffer) {
  return rawRequest(server, `POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: ${server.auth}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`, body);
}

type Row = Record<string, string>;

async function validationCost(server: Server): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [label, size, parallel] of [
    ['300 KB', 300_000, 1],
    ['1 MiB', 1024 * 1024 - 64, 1],
    ['3 × 1 MiB at once', 1024 * 1024 - 64, 3],
  ] as const) {
    const body = hugeProducts(size);
    await new Promise((res) => setTimeout(res, 500));
    const before = rssMb(server.pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.pid))), 20);
    const stopWatch = watchHealth(server);
    const results = await Promise.all(Array.from({ length: parallel }, () => postOrders(server, body)));
    const worstHealth = await stopWatch();
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(server.pid));
    rows.push({
      case: `${label} (${(body.length / 1024).toFixed(0)} KiB body)`,
      status: results.map((r) => r.status).join(','),
      'response size': results.map((r) => `${(r.bytes / 1024).toFixed(1)} KiB`).join(', '),
      time: `${Math.max(...results.map((r) => r.ms)).toFixed(0)} ms`,
      'RSS growth': `${(peak - before).toFixed(0)} MB (${before.toFixed(0)} → ${peak.toFixed(0)})`,
      'slowest /healthz meanwhile': `${worstHealth.toFixed(0)} ms`,
    });
  }
  return rows;
}

/** Opens a request that announces 100 bytes of body and sends 6; resolves when the server closes it. */
function slowBody(server: Server, method: string, path: string, headers: string[], capMs: number): { socket: Socket; closed: Promise<{ ms: number; status: string }> } {
  const started = performance.now();
  const socket = connect(server.port, server.host);
  let answer = '';
  socket.on('error', () => undefined);
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\n${headers.map((h) => `${h}\r\n`).join('')}Content-Length: 100\r\n\r\nkey=ab`);
  const timer = setTimeout(() => socket.destroy(), capMs);
  const closed = new Promise<{ ms: number; status: string }>((resolve) =>
    socket.on('close', () => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      resolve({ ms, status: /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? (ms >= capMs - 50 ? 'still open' : 'closed, no answer') });
    }),
  );
  return { socket, closed };
}

async function slowBodies(server: Server, capMs: number): Promise<Row[]> {
  const form = 'Content-Type: application/x-www-form-urlencoded';
  const cases = [
    ['dashboard POST /sign-in', 'POST', '/sign-in', [form]],
    ['legacy POST /webhooks/get', 'POST', '/webhooks/get', [form]],
    ['API POST /api/v1/orders (authenticated)', 'POST', '/api/v1/orders', [`Authorization: ${server.auth}`, 'Content-Type: application/json']],
  ] as const;
  const opened = cases.map(([label, method, path, headers]) => ({ label, ...slowBody(server, method, path, [...headers], capMs) }));
  await new Promise((res) => setTimeout(res, 1000));
  const during = await healthz(server);
  const rows: Row[] = [];
  for (const o of opened) {
    const r = await o.closed;
    rows.push({ case: o.label, 'kept open': r.ms >= capMs - 50 ? `> ${(capMs / 1000).toFixed(0)} s (gave up)` : `${(r.ms / 1000).toFixed(1)} s`, answer: r.status, '/healthz meanwhile': during });
  }
  return rows;
}

async function manySockets(server: Server, count: number, capMs: number): Promise<Row[]> {
  const opened = Array.from({ length: count }, () => slowBody(server, 'POST', '/sign-in', ['Content-Type: application/x-www-form-urlencoded'], capMs));
  await new Promise((res) => setTimeout(res, 3000));
  const t0 = performance.now();
  const during = await healthz(server, 5000);
  const api = await rawRequest(server, `GET /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: ${server.auth}\r\nConnection: close\r\n\r\n`, '', 5000);
  // How soon does /healthz answer again, the slow sockets still open on the client side?
  let recovered = 'not within the cap';
  while (performance.now() - t0 < capMs) {
    const r = await rawRequest(server, `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, '', 2000);
    if (r.status === 200) {
      recovered = `after ${((performance.now() - t0) / 1000).toFixed(1)} s`;
      break;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  for (const o of opened) o.socket.destroy();
  const closedByServer = (await Promise.all(opened.map((o) => o.closed))).filter((r) => r.status !== 'still open' && r.ms < capMs - 50).length;
  await new Promise((res) => setTimeout(res, 1000));
  return [
    {
      sockets: String(count),
      '/healthz with them open': during,
      'GET /api/v1/orders with them open': api.status ? `${api.status} in ${api.ms.toFixed(0)} ms` : 'no answer',
      '/healthz answers again': recovered,
      'closed by the server': String(closedByServer),
      '/healthz once the client let go': await healthz(server),
    },
  ];
}

function print(title: string, rows: Row[]): void {
  const cols = Object.keys(rows[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(width[i]!)).join(' | ')} |`;
  process.stdout.write(`\n${title}\n${line(cols)}\n${line(width.map((w) => '-'.repeat(w)))}\n${rows.map((r) => line(cols.map((c) => r[c] ?? ''))).join('\n')}\n`);
}

const args = parseArgs(process.argv.slice(2));
const server = await startServer(args.serveFlags);
try {
  const a = await validationCost(server);
  print('1. {"products":[{}, …]} to POST /api/v1/orders', a);
  const b = await slowBodies(server, args.slowCapMs);
  print('2. slow bodies (Content-Length: 100, 6 bytes sent)', b);
  const c = await manySockets(server, args.sockets, args.slowCapMs);
  print(`3. ${args.sockets} slow sockets, server under ulimit -n 1024`, c);
  if (args.json) process.stdout.write(`${JSON.stringify({ validation: a, slowBodies: b, manySockets: c }, null, 2)}\n`);
} finally {
  await server.stop();
}
