/**
 * A real HTTP endpoint on 127.0.0.1:<random port> for delivery tests. It records every request
 * (headers, exact body, arrival time) and answers with what the handler returns, or misbehaves:
 * 'hang' never answers (the socket stays open until `close()`), 'reset' drops the connection
 * with a TCP RST, so the client sees ECONNRESET.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceiverReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export type ReceiverHandler = (
  req: IncomingMessage,
  rawBody: Buffer,
) => ReceiverReply | 'hang' | 'reset' | Promise<ReceiverReply | 'hang' | 'reset'>;

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the whole body had arrived. */
  receivedAt: number;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>/hook` */
  url: string;
  port: number;
  /** every request so far, in arrival order. */
  requests: ReceivedRequest[];
  /** resolves once at least `n` requests have fully arrived (before they are answered); rejects after `timeoutMs` (default 5000). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** stops listening and destroys every open socket, including hung ones. */
  close(): Promise<void>;
}

const defaultHandler: ReceiverHandler = () => ({ status: 200, body: 'ok' });

export async function startReceiver(handler: ReceiverHandler = defaultHandler): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let waiters: { n: number; resolve: () => void }[] = [];

  const notify = (): void => {
    const ready = waiters.filter((w) => requests.length >= w.n);
    waiters = waiters.filter((w) => requests.length < w.n);
    for (const w of ready) w.resolve();
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined);
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: rawBody.toString('utf8'),
        receivedAt: Date.now(),
      });
      // Before the handler runs: a handler may wait on something the test does after waitFor().
      notify();
      void (async () => {
        let reply: ReceiverReply | 'hang' | 'reset';
        try {
          reply = await handler(req, rawBody);
        } catch (error) {
          reply = { status: 500, body: `receiver handler threw: ${String(error)}` };
        }
        if (reply === 'hang') return;
        if (reply === 'reset') {
          req.socket.resetAndDestroy();
          return;
        }
        if (res.destroyed) return;
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body ?? '');
      })().catch(() => req.socket.destroy());
    });
  });

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A client giving up (timeout, reset) must not crash the test process.
    socket.on('error', () => undefined);
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    requests,
    waitFor(n: number, timeoutMs = 5000): Promise<void> {
      if (requests.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(new Error(`receiver: waited ${timeoutMs} ms for ${n} request(s), got ${requests.length}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
