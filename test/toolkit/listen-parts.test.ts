// The parts of `storehook listen`, in-process: the SSE parser, the forwarder's keep-and-retry
// rules, the one-line summaries, the session secret, and a stream that goes silent (idle timeout).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { verify } from '../../src/sdk/verify.js';
import { Forwarder, type ForwardResult } from '../../src/toolkit/listen/forwarder.js';
import { ListenSession, sessionSecret } from '../../src/toolkit/listen/session.js';
import { SseParser, type SseEvent } from '../../src/toolkit/listen/sse.js';
import { summarize } from '../../src/toolkit/listen/summary.js';
import { EXAMPLE_ORDER } from '../../src/webhooks/topics.js';
import { decodeSecret } from '../../src/sdk/verify.js';
import { eventually, freePort } from '../helpers/toolkit-processes.js';

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('SSE parser', () => {
  it('parses events split anywhere, with CRLF, LF or CR line ends, comments and id-only events', () => {
    const text = 'retry: 2000\r\nevent: ready\r\ndata: {"a":1}\r\n\r\n: keep-alive\n\nid: 7\ndata: line one\ndata: line two\n\nid: 8\n: gone\n\rdata:x\r\r\n';
    for (const size of [1, 2, 3, 7, text.length]) {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      const p = new SseParser((e) => events.push(e), (c) => comments.push(c));
      for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
      assert.deepEqual(events, [
        { event: 'ready', data: '{"a":1}', id: undefined, retry: 2000 },
        { event: 'message', data: 'line one\nline two', id: '7', retry: undefined },
        { event: 'message', data: null, id: '8', retry: undefined },
        { event: 'message', data: 'x', id: undefined, retry: undefined },
      ], `chunks of ${size}`);
      assert.deepEqual(comments, ['keep-alive', 'gone']);
    }
  });
});

describe('forwarder', () => {
  const key = decodeSecret(sessionSecret({ url: 'http://x', email: 'a@b.c', apiKey: 'k' }));

  it('signs like a real delivery, keeps an event while the receiver is unreachable, and keeps order', async () => {
    const port = await freePort();
    const results: ForwardResult[] = [];
    const f = new Forwarder({ url: `http://127.0.0.1:${port}/hooks`, key, timeoutMs: 2000, maxAttempts: 2, initialDelayMs: 50, maxDelayMs: 200, onResult: (r) => results.push(r) });
    f.enqueue({ eventId: 1, messageId: 'evt_1', topic: 'order.created', body: '{"id":"evt_1"}' });
    f.enqueue({ eventId: 2, messageId: 'evt_2', topic: 'order.updated', body: '{"id":"evt_2"}' });
    await eventually('more failures than maxAttempts', () => results.length >= 4);
    assert.ok(results.every((r) => !r.ok && r.kind === 'unreachable' && !r.dropped && r.item.messageId === 'evt_1'), 'an unreachable receiver is retried without limit');
    assert.equal(results[0]!.waiting, 1);
    const got: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        got.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
    try {
      await f.idle();
      assert.deepEqual(got.map((g) => g.headers['webhook-id']), ['evt_1', 'evt_2']);
      for (const g of got) verify(g.body, g.headers, Buffer.from(key).toString('base64'));
      assert.equal(got[0]!.headers['webhook-topic'], 'order.created');
      assert.ok(Number(got[0]!.headers['webhook-attempt']) > 2, 'the attempt number counts the retries');
      assert.equal(got[1]!.headers['webhook-attempt'], '1');
      assert.deepEqual(f.pending(), []);
    } finally {
      f.stop();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('gives up on an event the receiver keeps refusing (or is too slow for) after maxAttempts, and goes on', async () => {
    let calls = 0;
    const s = await serve((req, res) => {
      calls++;
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (body.includes('evt_1')) res.writeHead(500).end('boom');
        else if (body.includes('evt_2')) setTimeout(() => res.end('late'), 500);
        else res.end('ok');
      });
    });
    try {
      const results: ForwardResult[] = [];
      const f = new Forwarder({ url: `${s.url}/hooks`, key, timeoutMs: 200, maxAttempts: 3, initialDelayMs: 10, onResult: (r) => results.push(r) });
      for (const n of [1, 2, 3]) f.enqueue({ eventId: n, messageId: `evt_${n}`, topic: 'order.created', body: JSON.stringify({ id: `evt_${n}` }) });
      await f.idle();
      const summary = results.map((r) => `${r.item.messageId}:${r.kind}:${r.status ?? '-'}${r.dropped ? ':dropped' : ''}`);
      assert.deepEqual(summary, [
        'evt_1:refused:500',
        'evt_1:refused:500',
        'evt_1:refused:500:dropped',
        'evt_2:timeout:-',
        'evt_2:timeout:-',
        'evt_2:timeout:-:dropped',
        'evt_3:ok:200',
      ]);
      assert.match(results[0]!.error!, /answered "boom"/);
      assert.match(results[3]!.error!, /no answer within 200 ms/);
      assert.equal(calls, 7);
    } finally {
      await s.close();
    }
  });
});

describe('summaries and the session secret', () => {
  it('summarises an order in one line, with what the topic changed when it is expanded', () => {
    assert.equal(summarize('order.created', { ...EXAMPLE_ORDER, products: [] }), 'order 1234 · OPEN · 55.80 EUR · Maija Meikäläinen · 0 products');
    assert.match(summarize('order.payment_updated', EXAMPLE_ORDER), /payment 91 PAID$/);
    assert.match(summarize('order.shipment_completed', { ...EXAMPLE_ORDER, shipments: [{ ...EXAMPLE_ORDER.shipments![0]!, status: 'COMPLETED', tracking_code: 'JJFI1' }] }), /shipment 77 completed \(tracking JJFI1\)$/);
    assert.equal(summarize('order.updated', null), '(no order in the message)');
  });

  it('derives a session secret that is stable per server and user, and differs otherwise', () => {
    const a = sessionSecret({ url: 'http://127.0.0.1:8080', email: 'demo@storehook.local', apiKey: 'shk_1' });
    assert.equal(a, sessionSecret({ url: 'http://127.0.0.1:8080', email: 'DEMO@storehook.local', apiKey: 'shk_1' }));
    assert.notEqual(a, sessionSecret({ url: 'http://127.0.0.1:8080', email: 'demo@storehook.local', apiKey: 'shk_2' }));
    assert.notEqual(a, sessionSecret({ url: 'http://127.0.0.1:8081', email: 'demo@storehook.local', apiKey: 'shk_1' }));
    assert.equal(decodeSecret(a).length, 32);
    assert.ok(!a.includes('shk_1'));
  });
});

describe('listen session', () => {
  it('reconnects when the stream goes silent (no keep-alive), resuming after the last id', async () => {
    const requests: (string | undefined)[] = [];
    const s = await serve((req, res) => {
      requests.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: ready\ndata: ${JSON.stringify({ store: 'demo', topics: ['order.created'], last_event_id: 4, resumed: requests.length > 1 })}\n\n`);
      if (requests.length === 1) res.write(`id: 5\ndata: ${JSON.stringify({ id: 'evt_5', topic: 'order.created', created_at: 'x', data: EXAMPLE_ORDER })}\n\n`);
      // …and then silence: no keep-alive.
    });
    const lines: string[] = [];
    const stop = new AbortController();
    const session = new ListenSession({ server: { url: s.url, email: 'a@b.c', apiKey: 'k' }, topics: null, expands: [], json: true, idleTimeoutMs: 300, reconnectInitialMs: 50, out: (l) => lines.push(l) });
    const run = session.run(stop.signal);
    try {
      await eventually('a second connection', () => requests.length >= 2, 5000);
      assert.deepEqual(requests.slice(0, 2), [undefined, '5']);
      const drop = lines.map((l) => JSON.parse(l)).find((l) => l.type === 'disconnected');
      assert.equal(drop.reason, 'no data for 0.3 s');
      assert.equal(session.lastId, 5);
    } finally {
      stop.abort();
      await run;
      await s.close();
    }
  });
});
