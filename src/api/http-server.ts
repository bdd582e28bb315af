/**
 * The HTTP server's own limits (docs/deploy.md, "Limits and timeouts"): how long a client may take
 * to send its headers and its whole request, how long an idle keep-alive connection stays, and how
 * many connections are open at once. Without them one client that trickles a body (slowloris)
 * holds a socket for minutes, and a thousand such clients use up the process's file descriptors.
 *
 * Errors Node finds before Fastify sees a request (headers too large, a timed-out body, bytes that
 * are not HTTP) are answered here with a raw response in the documented error shape, in the
 * path's format (JSON, or XML for the legacy bridge), with `Connection: close`; never a body to HEAD.
 */
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config } from '../config.js';
import { pathOf, renderForSurface } from './error-surfaces.js';
import { frameworkError } from './errors.js';

type HttpLimits = Pick<Config, 'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs' | 'httpKeepAliveTimeoutMs' | 'httpMaxConnections'>;

interface OpenRequest {
  method: string;
  url: string;
  response: ServerResponse;
}

/** The request each socket is on, so a timeout can be answered in that path's format. */
const current = new WeakMap<Socket, OpenRequest>();

export interface HttpServerOptions {
  requestTimeout: number;
  keepAliveTimeout: number;
  http: ServerOptions;
  clientErrorHandler: (error: Error, socket: Socket) => void;
  frameworkErrors: FastifyServerOptions['frameworkErrors'];
}

/** Fastify server options carrying the limits; spread them into `Fastify({...})`. */
export function httpServerOptions(limits: HttpLimits): HttpServerOptions {
  return {
    requestTimeout: limits.httpRequestTimeoutMs,
    keepAliveTimeout: limits.httpKeepAliveTimeoutMs,
    http: {
      // Node checks the two timeouts every connectionsCheckingInterval (30 s by default): check
      // often enough that a trickling body is cut close to its limit, not up to 30 s later.
      headersTimeout: limits.httpHeadersTimeoutMs,
      requestTimeout: limits.httpRequestTimeoutMs,
      connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(limits.httpHeadersTimeoutMs / 4))),
    },
    clientErrorHandler: answerClientError,
    frameworkErrors: frameworkError as FastifyServerOptions['frameworkErrors'],
  };
}

/** Call once the Fastify instance exists: the connection cap and the per-socket request record. */
export function applyConnectionLimits(app: FastifyInstance, limits: HttpLimits): void {
  const server = app.server;
  // Every open connection, oldest first (a Map keeps insertion order), and whether a request on it
  // has arrived in full and is being answered.
  const open = new Map<Socket, { answering: boolean }>();
  server.on('connection', (socket: Socket) => {
    if (open.size >= limits.httpMaxConnections) {
      // At the cap, make room by closing the oldest connection that is not being answered: an idle
      // keep-alive one, or one still sending its request (a slowloris client is such a one). A
      // flood of slow connections then cannot lock out new clients, /healthz included, until the
      // request timeout. When every connection is being answered, the newcomer is refused instead.
      let victim: Socket | undefined;
      for (const [candidate, state] of open) {
        if (!state.answering) {
          victim = candidate;
          break;
        }
      }
      if (!victim) {
        socket.destroy();
        return;
      }
      open.delete(victim);
      victim.destroy();
    }
    const state = { answering: false };
    open.set(socket, state);
    socket.once('close', () => open.delete(socket));
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    current.set(request.socket, { method: request.method ?? 'GET', url: request.url ?? '/', response });
    const state = open.get(request.socket);
    if (state) response.once('close', () => (state.answering = false));
  });
  // Fastify runs preValidation once the body has arrived in full (at once for a request without one).
  app.addHook('preValidation', async (request) => {
    const state = open.get(request.raw.socket);
    if (state) state.answering = true;
  });
}

interface ClientError extends Error {
  code?: string;
  rawPacket?: Buffer;
}

function statusOf(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

function messageOf(status: number, code: string | undefined, limits: { headersMs: number; requestMs: number }): string {
  switch (status) {
    case 431:
      return 'The request headers are too large (16 KiB at most, all headers together); send fewer or shorter headers.';
    case 408:
      return `The request did not arrive in time: the headers must arrive within ${limits.headersMs / 1000} s and the whole request, body included, within ${limits.requestMs / 1000} s. Send it again, in one go.`;
    default:
      return `The request is not valid HTTP/1.1 (${code ?? 'unreadable'}): check the request line, the headers and the body's length or chunking.`;
  }
}

/** Method and path of the request that failed: the one in progress, or the raw bytes' request line. */
function requestLine(socket: Socket, err: ClientError): { method: string; path: string } {
  const open = current.get(socket);
  if (open && !open.response.writableEnded) return { method: open.method, path: pathOf(open.url) };
  const raw = err.rawPacket?.subarray(0, 8192).toString('latin1') ?? '';
  const m = /^([A-Z]{1,20}) (\S{1,8000})/.exec(raw);
  return m ? { method: m[1]!, path: pathOf(m[2]) } : { method: 'GET', path: '' };
}

function answerClientError(this: FastifyInstance, error: Error, socket: Socket): void {
  const err = error as ClientError;
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || socket.destroyed) return;
  const open = current.get(socket);
  if (!socket.writable || (open && open.response.headersSent && !open.response.writableEnded)) {
    socket.destroy();
    return;
  }
  const status = statusOf(err.code);
  const { method, path } = requestLine(socket, err);
  const requestTimeout = this.server.requestTimeout;
  const message = messageOf(status, err.code, { headersMs: this.server.headersTimeout, requestMs: requestTimeout });
  const { contentType, body } = renderForSurface(this.server, path, status, message);
  const length = Buffer.byteLength(body);
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n`;
  this.log.debug({ err, status }, 'client error');
  socket.end(method === 'HEAD' ? head : head + body, () => socket.destroy());
  // A client that does not read the answer must not keep the socket either.
  setTimeout(() => socket.destroy(), 5000).unref();
}
