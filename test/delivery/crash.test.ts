/**
 * Crash safety (SPEC §4 "nothing committed is ever lost, whatever process dies when"):
 * the real `storehook serve` process on SQLite is SIGKILLed while orders are being
 * created and deliveries to a slow receiver are in flight, and again while it is catching up
 * after the restart — then restarted on the same data directory. Every order
 * that committed reaches the receiver; a message arrives twice only if it was in flight at a
 * crash, and then always with the same webhook-id and the same bytes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { openDatabase } from '../../src/db/connection.js';
import { sleep, waitUntil } from '../helpers/engine.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/storehook.js');
const MAX_IN_FLIGHT = 8;

interface Server {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

let credentials: { email: string; apiKey: string } | null = null;

async function startServe(dataDir: string): Promise<Server> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(STOREHOOK_|DATABASE_URL$|TEST_DATABASE_URL$|PORT$|HOST$|LOG_LEVEL$)/.test(k)) delete env[k];
  Object.assign(env, {
    STOREHOOK_ALLOW_TARGETS: '127.0.0.0/8',
    STOREHOOK_RETRY_BASE_MS: '100',
    STOREHOOK_LEASE_MS: '2000',
    STOREHOOK_RATE_LIMIT_PER_SECOND: '0',
    STOREHOOK_MAX_IN_FLIGHT_PER_SUBSCRIPTION: String(MAX_IN_FLIGHT),
    LOG_LEVEL: 'warn',
  });
  const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--port', '0'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`storehook did not start within 30 s:\n${out}`)), 30_000);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      const email = /e-mail:\s+(\S+)/.exec(out);
      const key = /API key:\s+(\S+)/.exec(out);
      if (email && key) credentials = { email: email[1]!, apiKey: key[1]! };
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      resolveUrl(m[1]!);
    };
    // the banner is on stderr (stdout carries the JSON log)
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`storehook exited (${code}) before listening:\n${out}`)));
  });
  return { child, url, output: () => out, exited };
}

/**
 * SIGKILLs the server; returns the boundary between its life and the next: every request it
 * sent has been recorded by the receiver before that time (we let our own event loop catch up on
 * bytes already in the socket buffers), and the next process starts only after it.
 */
async function kill(server: Server): Promise<number> {
  server.child.kill('SIGKILL');
  await server.exited;
  await sleep(500);
  return Date.now();
}

async function call<T = any>(server: Server, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const auth = `Basic ${Buffer.from(`${credentials!.email}:${credentials!.apiKey}`).toString('base64')}`;
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

const ORDER = {
  customer_information: { first_name: 'Kaatuva', last_name: 'Palvelin', email: 'crash@example.com', country: 'FI' },
  products: [{ product_code: 'SKU-C', product_name: 'Crash dummy', quantity: 1, unit_price: 9.9 }],
};

/**
 * Creates orders with `parallel` clients until `stop()` says so; returns the ids answered 200
 * and how many requests got no answer (cut off by a kill: committed or not, we cannot tell).
 */
async function createOrders(server: Server, parallel: number, stop: () => boolean): Promise<{ ok: number[]; unanswered: number }> {
  const ok: number[] = [];
  let unanswered = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (!stop()) {
        try {
          const res = await call<{ data: { id: number } }>(server, 'POST', '/orders', ORDER);
          if (res.status !== 200) throw new Error(`create order: ${res.status} ${JSON.stringify(res.body)}`);
          ok.push(res.body.data.id);
        } catch (err) {
          if (err instanceof Error && err.message.startsWith('create order')) throw err;
          unanswered++;
          return;
        }
      }
    }),
  );
  return { ok, unanswered };
}

test('SIGKILL while creating, while delivering and while catching up loses no committed message', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'storehook-crash-'));
  let receiverDelayMs = 0;
  const receiver: Receiver = await startReceiver(async () => {
    if (receiverDelayMs) await sleep(receiverDelayMs);
    return { status: 200 };
  });
  const killedAt: number[] = [];
  try {
    // 1. First run: subscribe; a slow receiver; die while orders are being created and
    //    deliveries are in flight at the same time.
    receiverDelayMs = 200;
    let server = await startServe(dataDir);
    assert.ok(credentials, `first run prints the demo credentials:\n${server.output()}`);
    const sub = await call<{ data: { uuid: string } }>(server, 'POST', '/webhooks', { topic: 'order.created', url: receiver.url });
    assert.equal(sub.status, 200);
    let stopCreating = false;
    const creating = createOrders(server, 4, () => stopCreating);
    await waitUntil('deliveries in flight while orders are being created', () => receiver.requests.length >= 24, 20_000);
    killedAt.push(await kill(server));
    stopCreating = true;
    const phase1 = await creating;
    assert.ok(phase1.ok.length >= 24);
    assert.ok(phase1.unanswered > 0, 'the kill cut off creations in progress');

    // 2. Restart and die again as soon as it starts catching up.
    server = await startServe(dataDir);
    assert.doesNotMatch(server.output(), /API key:/, 'credentials are shown on the first run only');
    const before2 = receiver.requests.length;
    await waitUntil('catching up after the restart', () => receiver.requests.length > before2, 20_000);
    killedAt.push(await kill(server));

    // 3. Restart for good; a fast receiver; everything committed must arrive.
    receiverDelayMs = 0;
    server = await startServe(dataDir);
    const orders = await call<{ data: { id: number }[]; meta: { item_count: number } }>(server, 'GET', '/orders?page_size=1000');
    assert.equal(orders.status, 200);
    const committed = new Set(orders.body.data.map((o) => o.id));
    assert.equal(committed.size, orders.body.meta.item_count);
    for (const id of phase1.ok) assert.ok(committed.has(id), `order ${id} was answered 200 but is not stored`);

    const orderOf = (body: string) => (JSON.parse(body) as { data: { id: number } }).data.id;
    await waitUntil(
      'every committed order delivered',
      () => {
        const got = new Set(receiver.requests.map((r) => orderOf(r.body)));
        return [...committed].every((id) => got.has(id));
      },
      30_000,
      50,
    );

    // Exactly one message id per order, the same bytes every time it came.
    const byWebhookId = new Map<string, { order: number; body: string; arrivals: number[] }>();
    const webhookIdOfOrder = new Map<number, string>();
    for (const r of receiver.requests) {
      const id = String(r.headers['webhook-id']);
      const order = orderOf(r.body);
      assert.ok(committed.has(order), `order ${order} was delivered but never committed`);
      const seen = byWebhookId.get(id);
      if (seen) {
        assert.equal(seen.order, order);
        assert.equal(r.body, seen.body, 'a duplicate carries the same bytes');
        seen.arrivals.push(r.receivedAt);
      } else {
        byWebhookId.set(id, { order, body: r.body, arrivals: [r.receivedAt] });
      }
      const known = webhookIdOfOrder.get(order);
      assert.ok(known === undefined || known === id, `order ${order} arrived under two webhook-ids: ${known} and ${id}`);
      webhookIdOfOrder.set(order, id);
    }
    assert.equal(webhookIdOfOrder.size, committed.size);

    // Duplicates: only for messages in flight at a crash: sent before it and again after it,
    // never twice within one process's life, and at most the in-flight cap per crash.
    const duplicated = [...byWebhookId.values()].filter((v) => v.arrivals.length > 1);
    const lives = [0, ...killedAt, Infinity];
    const lifeOf = (t: number) => lives.findIndex((end, i) => i > 0 && t <= end);
    for (const d of duplicated) {
      const perLife = d.arrivals.map(lifeOf);
      assert.equal(new Set(perLife).size, perLife.length, `order ${d.order} was sent twice by one process (arrivals ${d.arrivals.join(', ')})`);
    }
    for (const [i, k] of killedAt.entries()) {
      const resent = duplicated.filter((d) => d.arrivals.some((t) => lifeOf(t) === i + 1) && d.arrivals.some((t) => t > k));
      assert.ok(resent.length <= MAX_IN_FLIGHT, `${resent.length} messages re-sent after crash ${i + 1}; at most ${MAX_IN_FLIGHT} can be in flight`);
    }

    // A clean stop; the database agrees: every message delivered, none locked.
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.output());
    const database = await openDatabase({ dataDir });
    try {
      const rows = await database.kysely.selectFrom('webhook_messages').select(['status', 'locked_by', 'order_id']).execute();
      assert.equal(rows.length, committed.size);
      assert.deepEqual(rows.filter((r) => r.status !== 'delivered' || r.locked_by !== null), []);
    } finally {
      await database.close();
    }
    process.stdout.write(
      `# crash: ${committed.size} orders (${phase1.unanswered} creations cut off), ${receiver.requests.length} requests, ${duplicated.length} duplicates over ${killedAt.length} kills\n`,
    );
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
