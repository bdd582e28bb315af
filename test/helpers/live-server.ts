/**
 * A real, listening storehook (src/server.ts: API, dashboard, legacy bridge, health) on a fresh
 * database and 127.0.0.1:0, plus raw-socket helpers for requests no HTTP client would send.
 *
 *   const s = await startLiveServer(dialect, { httpRequestTimeoutMs: 2000 });
 *   const r = await rawExchange(s.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
 *   await s.close();
 */
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { freshDatabase, type Dialect, type FreshDatabase } from './database.js';
import { basicAuth } from './app.js';

/**
 * A real server on an already-made fresh database (the caller keeps and cleans it up), for tests
 * that break the database under it (faults): the server's own migrations and demo seeding run.
 */
export async function serveOn(fresh: FreshDatabase, overrides: Partial<Config> = {}, logger = pino({ level: 'silent' })): Promise<RunningServer> {
  const config: Config = {
    ...loadConfig({}, {}),
    port: 0,
    dataDir: fresh.dataDir,
    databaseUrl: fresh.databaseUrl,
    ...overrides,
  };
  return startServer({ config, api: true, dispatcher: false, seedDemo: true, logger });
}

export interface LiveServer {
  server: RunningServer;
  port: number;
  /** `Authorization` of the demo store's API user. */
  auth: string;
  close(): Promise<void>;
}

export async function startLiveServer(dialect: Dialect, overrides: Partial<Config> = {}): Promise<LiveServer> {
  // Migrations run in startServer; the fresh database only provides the empty place.
  const fresh = await freshDatabase(dialect, { migrate: false, poolSize: 1 });
  const config: Config = {
    ...loadConfig({}, {}),
    port: 0,
    host: '127.0.0.1',
    dataDir: fresh.dataDir,
    databaseUrl: fresh.databaseUrl,
    rateLimitPerSecond: 0,
    ...overrides,
  };
  let server: RunningServer;
  try {
    server = await startServer({ config, api: true, dispatcher: false, seedDemo: true, logger: pino({ level: 'silent' }) });
  } catch (err) {
    await fresh.cleanup();
    throw err;
  }
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const creds = server.demoCredentials!;
  return {
    server,
    port,
    auth: basicAuth(creds.email, creds.apiKey),
    async close() {
      try {
        await server.close();
      } finally {
        await fresh.cleanup();
      }
    },
  };
}

export interface RawAnswer {
  /** 0 when the server closed without answering. */
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** everything the server sent. */
  raw: Buffer;
  /** from the first byte written to the socket's close. */
  ms: number;
}

function parseAnswer(raw: Buffer, ms: number): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  const head = (end < 0 ? raw : raw.subarray(0, end)).toString('latin1');
  const lines = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers, body: end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4), raw, ms };
}

/** Writes `request` on a new socket and collects the answer until the server closes (or `timeoutMs`). */
export function rawExchange(port: number, request: string | Buffer, timeoutMs = 10_000): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(chunks), performance.now() - started));
    });
    socket.write(request);
  });
}

export interface SlowRequest {
  socket: Socket;
  /** resolves when the server (or the test) closes the socket. */
  closed: Promise<RawAnswer>;
}

/** Sends `head` (request line and headers, ending in a blank line) and `partialBody`, then nothing more. */
export function openSlowRequest(port: number, head: string, partialBody = ''): SlowRequest {
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => undefined);
  const closed = new Promise<RawAnswer>((resolve) => socket.on('close', () => resolve(parseAnswer(Buffer.concat(chunks), performance.now() - started))));
  socket.write(head + partialBody);
  return { socket, closed };
}

export const healthRequest = 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

/** A JSON error body in the SPEC §1 shape, or an assertion message saying why not. */
export function jsonErrorProblem(answer: RawAnswer): string | null {
  const type = answer.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) return `content-type ${type || '(none)'}, body ${answer.body.toString('utf8').slice(0, 200)}`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return `not JSON: ${answer.body.toString('utf8').slice(0, 200)}`;
  }
  if (body.code !== answer.status || typeof body.error !== 'string' || typeof body.message !== 'string') return `not {code,error,message}: ${answer.body.toString('utf8').slice(0, 200)}`;
  const extra = Object.keys(body).filter((k) => !['code', 'error', 'message', 'errors'].includes(k));
  return extra.length ? `unexpected keys ${extra.join(', ')}` : null;
}

/** An XML `<error>` document of the legacy bridge, or why not. */
export function xmlErrorProblem(answer: RawAnswer): string | null {
  const type = answer.headers['content-type'] ?? '';
  const text = answer.body.toString('utf8');
  if (!type.startsWith('application/xml')) return `content-type ${type || '(none)'}, body ${text.slice(0, 200)}`;
  if (!/^<\?xml[^>]*\?>\s*<error>[^<]+<\/error>\s*$/.test(text)) return `not an <error> document: ${text.slice(0, 200)}`;
  return null;
}
