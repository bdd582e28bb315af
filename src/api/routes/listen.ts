/**
 * `GET /api/v1/webhooks/listen`: the store's events as a live Server-Sent Events stream, for
 * `storehook listen` on a machine the server cannot reach (behind NAT). Authenticated like the
 * rest of /api/v1 and scoped to the caller's store.
 *
 *   id: 42
 *   data: {"id":"evt_42","topic":"order.created","created_at":"…","data":{<the order>}}
 *
 * - `id:` is the event id; a client that reconnects with `Last-Event-ID: 42` (or `?since_id=42`)
 *   gets every event after 42 that it has not seen, including those committed while it was away
 *   (events are kept 7 days). Without either, the stream starts with the next event.
 * - The order is rendered when the event is streamed (with `?expand=`), so it shows the order as
 *   it is now, which may be later than the change that emitted the event. Real subscriptions
 *   render at event time.
 * - In-process commits wake the stream at once; commits by other processes (PostgreSQL,
 *   several API processes) are found by polling every `pollMs` (500 ms).
 * - `event: ready` opens the stream, `: keep-alive` comments keep proxies from closing it, and
 *   `event: shutdown` ends it when the server stops.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { parseExpand } from '../query.js';
import { errorResponses } from '../schemas/common.js';
import { ORDER_EXPANDS, type OrderExpand } from '../../orders/expands.js';
import type { Database } from '../../db/connection.js';
import { DomainError, invalid } from '../../errors.js';
import { loadAggregates } from '../../orders/repository.js';
import { renderOrder } from '../../orders/render.js';
import { isoTime } from '../../time.js';
import type { Outbox } from '../../webhooks/outbox.js';
import { TOPICS } from '../../webhooks/topics.js';
import { EventFeed, oldestId, pruneStoreEvents, readEvents, STORE_EVENTS_RETENTION_MS, type StoreEventRow } from '../../store-events/reader.js';

export interface ListenRoutesOptions {
  database: Database;
  /** the outbox whose commits wake the streams (in-process). */
  outbox: Pick<Outbox, 'onEvents'>;
  /** how often a stream looks for events committed by other processes (default 500 ms). */
  pollMs?: number;
  /** how often an idle stream sends a keep-alive comment (default 15 s). */
  keepAliveMs?: number;
  /** open streams per store at most, per process (default 20). */
  maxStreamsPerStore?: number;
  /** how often old events are pruned (default 10 min; the first run is after 1 min). */
  pruneEveryMs?: number;
}

/** The events a batch reads at most; a longer backlog is streamed batch by batch. */
const BATCH = 100;

export const ListenQuery = Type.Object(
  {
    topic: Type.Optional(Type.String({ maxLength: 1000, description: `comma list of topics (default all): ${TOPICS.map((t) => t.name).join(', ')}` })),
    expand: Type.Optional(Type.String({ maxLength: 200, description: `comma list of ${ORDER_EXPANDS.join(', ')}` })),
    since_id: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'resume after this event id (as the Last-Event-ID header does)' })),
  },
  { additionalProperties: false },
);

/** The body of one streamed event (the same envelope as a webhook message). */
export interface StreamedEvent {
  id: string;
  topic: string;
  created_at: string;
  data: unknown;
}

export function parseTopics(raw: string | undefined): string[] | null {
  if (raw === undefined || raw.trim() === '' || raw.trim() === '*') return null;
  const names = [...new Set(raw.split(',').map((t) => t.trim()).filter(Boolean))];
  const known = TOPICS.map((t) => t.name as string);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) throw invalid('topic', `unknown topic ${unknown.map((u) => JSON.stringify(u)).join(', ')}; topics: ${known.join(', ')}`);
  return names;
}

function parseResumeId(headers: IncomingHttpHeaders, sinceId: string | undefined): number | null {
  const header = headers['last-event-id'];
  const raw = (Array.isArray(header) ? header[0] : header)?.trim() || sinceId;
  if (raw === undefined || raw === '') return null;
  if (!/^[0-9]{1,15}$/.test(raw)) throw invalid('Last-Event-ID', `must be an event id (digits), got ${JSON.stringify(raw.slice(0, 40))}`);
  return Number(raw);
}

/** Renders a batch of events with their orders as they are now (one query per needed table). */
async function renderBatch(database: Database, storeId: number, rows: StoreEventRow[], expands: OrderExpand[]): Promise<{ row: StoreEventRow; body: StreamedEvent | null }[]> {
  const ids = [...new Set(rows.map((r) => r.order_id))];
  const orders = await database.kysely.selectFrom('orders').selectAll().where('store_id', '=', storeId).where('id', 'in', ids).execute();
  const aggs = await loadAggregates(database.kysely, storeId, orders, expands);
  const byId = new Map(aggs.map((a) => [a.order.id, renderOrder(a, expands)]));
  return rows.map((row) => {
    const order = byId.get(row.order_id);
    return { row, body: order ? { id: `evt_${row.id}`, topic: row.topic, created_at: isoTime(row.created_at), data: order } : null };
  });
}

interface OpenStream {
  storeId: number;
  /** ends the response; `shutdown` first tells the client why. */
  end(reason: 'shutdown' | 'error'): void;
}

export const listenRoutes: FastifyPluginAsyncTypebox<ListenRoutesOptions> = async (app, options) => {
  const { database } = options;
  const pollMs = options.pollMs ?? 500;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const maxPerStore = options.maxStreamsPerStore ?? 20;
  const feed = new EventFeed(database);
  options.outbox.onEvents((storeId) => feed.notify(storeId));
  const open = new Set<OpenStream>();

  // Pruning is cheap (indexed, small batches) and runs in every API process; concurrent runs are harmless.
  const prune = async () => {
    try {
      const n = await pruneStoreEvents(database.kysely, Date.now() - STORE_EVENTS_RETENTION_MS);
      if (n > 0) app.log.info({ deleted: n }, 'pruned old store events');
    } catch (err) {
      app.log.warn({ err }, 'pruning store events failed; will retry');
    }
  };
  const pruneEvery = options.pruneEveryMs ?? 600_000;
  const firstPrune = setTimeout(() => void prune(), Math.min(60_000, pruneEvery));
  const pruneTimer = setInterval(() => void prune(), pruneEvery);
  firstPrune.unref();
  pruneTimer.unref();

  // Streams never finish on their own: end them before the server waits for in-flight requests.
  app.addHook('preClose', async () => {
    for (const s of [...open]) s.end('shutdown');
  });
  app.addHook('onClose', async () => {
    clearTimeout(firstPrune);
    clearInterval(pruneTimer);
  });

  app.get('/webhooks/listen', {
    schema: {
      tags: ['webhooks'],
      operationId: 'listenEvents',
      summary: "Stream the store's events live (Server-Sent Events; used by `storehook listen`)",
      description:
        'text/event-stream. Each event: `id: <event id>` and `data: {"id","topic","created_at","data"}` with the order rendered now, with `expand`. ' +
        'Send `Last-Event-ID` (or `since_id`) to resume after an event; without it the stream starts with the next event. Events are kept 7 days.',
      querystring: ListenQuery,
      response: {
        // Documentation only: the handler writes the stream itself (reply.hijack), nothing is serialised.
        200: { description: 'the event stream, until the client closes it', content: { 'text/event-stream': { schema: Type.String() } } },
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const storeId = request.auth.storeId;
    const topics = parseTopics(request.query.topic);
    const expands = parseExpand(request.query.expand, ORDER_EXPANDS);
    const resumeId = parseResumeId(request.headers, request.query.since_id);
    if ([...open].filter((s) => s.storeId === storeId).length >= maxPerStore) {
      reply.header('Retry-After', '10');
      throw new DomainError(429, `Store "${request.auth.storeName}" already has ${maxPerStore} live streams open on this server; close one (Ctrl-C an old \`storehook listen\`) and try again.`);
    }

    const latest = await feed.watermark();
    let cursor = resumeId ?? latest;
    let warning: string | null = null;
    if (resumeId !== null && resumeId > latest) {
      warning = `Resume id ${resumeId} is newer than this server's newest event (${latest}): was the database reset? Streaming from now on.`;
      cursor = latest;
    } else if (resumeId !== null) {
      const oldest = await oldestId(database.kysely);
      if (oldest !== null && oldest > resumeId + 1) warning = `Events are kept 7 days; some after id ${resumeId} may have been pruned already.`;
    }

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id),
    });

    let closed = false;
    let dirty = false;
    let wakeWaiter: (() => void) | null = null;
    const wake = () => {
      dirty = true;
      wakeWaiter?.();
    };
    const unsubscribe = feed.onStore(storeId, wake);
    const write = (chunk: string): Promise<void> | void => {
      if (closed) return;
      if (!res.write(chunk)) return new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    };
    const stream: OpenStream = {
      storeId,
      end(reason) {
        if (closed) return;
        if (reason === 'shutdown') res.write(`event: shutdown\ndata: ${JSON.stringify({ message: 'The server is shutting down; reconnect to resume.' })}\n\n`);
        finish();
        res.end();
      },
    };
    const keepAlive = setInterval(() => void write(': keep-alive\n\n'), keepAliveMs);
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(keepAlive);
      unsubscribe();
      open.delete(stream);
      wake();
    };
    res.on('close', finish);
    open.add(stream);

    // The client reconnects after 2 s by default (EventSource); `storehook listen` has its own backoff.
    await write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ store: request.auth.storeName, topics: topics ?? TOPICS.map((t) => t.name), expands, last_event_id: cursor, resumed: resumeId !== null })}\n\n`);
    if (warning) await write(`event: warning\ndata: ${JSON.stringify({ message: warning })}\n\n`);
    request.log.info({ store: storeId, topics, resumeId }, 'listen stream opened');

    let failures = 0;
    while (!closed) {
      dirty = false;
      try {
        const upTo = await feed.watermark();
        while (!closed && upTo > cursor) {
          const rows = await readEvents(database.kysely, storeId, cursor, upTo, topics, BATCH);
          if (rows.length === 0) {
            cursor = upTo;
            break;
          }
          for (const { row, body } of await renderBatch(database, storeId, rows, expands)) {
            if (closed) break;
            // An order that no longer exists is skipped, but its id still moves the client's cursor.
            await write(body ? `id: ${row.id}\ndata: ${JSON.stringify(body)}\n\n` : `id: ${row.id}\n: order ${row.order_id} no longer exists\n\n`);
            cursor = row.id;
          }
          if (rows.length < BATCH) cursor = Math.max(cursor, upTo);
        }
        failures = 0;
      } catch (err) {
        failures += 1;
        request.log.warn({ err, failures }, 'listen stream: reading events failed; retrying');
        if (failures >= 20) {
          await write(`event: error\ndata: ${JSON.stringify({ message: 'The server cannot read events right now (database unavailable?); reconnect to resume.' })}\n\n`);
          stream.end('error');
          break;
        }
      }
      if (closed || dirty) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done() {
          clearTimeout(timer);
          wakeWaiter = null;
          resolve();
        }
        wakeWaiter = done;
      });
    }
    request.log.info({ store: storeId, cursor }, 'listen stream closed');
  });
};
