/**
 * Scale-out proof, PostgreSQL only: 2 API processes and 3 workers share one database;
 * 2,000 orders (SCALE_TEST_ORDERS) are created concurrently through both APIs, and 3 subscriptions must each receive
 * every order.created message — with no duplicates when nothing crashes, every message still
 * arriving when a worker is SIGKILLed or PostgreSQL restarts mid-run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApiUser, createStore } from '../../src/admin/stores.js';
import { freshDatabase, type FreshDatabase } from '../helpers/database.js';
import { spawnStorehook, type StorehookProcess } from '../helpers/processes.js';

// 2,000 keeps the suite short while a quarter of a run (the kill point) is still ~1,500 messages in;
// SCALE_TEST_ORDERS raises it for a soak run.
const ORDERS = Number(process.env['SCALE_TEST_ORDERS'] ?? 2000);
const SUBSCRIPTIONS = 3;
const enabled = Boolean(process.env['TEST_DATABASE_URL']);

/** Records every delivery by (subscription path, webhook-id). */
class CountingReceiver {
  readonly seen = new Map<string, number>();
  total = 0;
  private server: Server | null = null;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const key = `${req.url} ${String(req.headers['webhook-id'])}`;
        this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
        this.total++;
        res.writeHead(200).end('ok');
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  get distinct(): number {
    return this.seen.size;
  }

  get duplicates(): number {
    return this.total - this.seen.size;
  }

  reset(): void {
    this.seen.clear();
    this.total = 0;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

interface Cluster {
  apis: StorehookProcess[];
  workers: StorehookProcess[];
  auth: string;
}

const sampleOrder = (i: number) =>
  JSON.stringify({
    customer_information: { first_name: `Scale${i}`, email: `scale${i}@example.com` },
    products: [{ product_code: `P${i % 17}`, product_name: 'Load test item', quantity: 1 + (i % 3), unit_price: 9.9 }],
  });

/** POSTs `count` orders spread over the APIs; retries 503s and connection errors like an integrator would. */
async function createOrders(cluster: Cluster, count: number, concurrency = 24): Promise<void> {
  let next = 0;
  const worker = async (lane: number) => {
    while (next < count) {
      const i = next++;
      const api = cluster.apis[(i + lane) % cluster.apis.length]!;
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await fetch(`${api.url}/api/v1/orders`, { method: 'POST', headers: { authorization: cluster.auth, 'content-type': 'application/json' }, body: sampleOrder(i), signal: AbortSignal.timeout(30_000) });
          await res.arrayBuffer();
          if (res.status === 200) break;
          if (res.status !== 503 && res.status !== 500) throw new Error(`order ${i}: HTTP ${res.status}`);
        } catch (err) {
          if (api.proc.exitCode !== null || api.proc.signalCode !== null) throw new Error(`API process ${api.url} died:\n${api.output()}`);
          if (attempt > 60) throw err;
        }
        await sleep(250);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, lane) => worker(lane)));
}

async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await sleep(100);
  }
}

describe('scale-out on PostgreSQL: 2 APIs, 3 workers', { skip: enabled ? false : 'set TEST_DATABASE_URL to run the PostgreSQL scale-out proof', timeout: 900_000 }, () => {
  let fresh: FreshDatabase;
  let receiver: CountingReceiver;
  let cluster: Cluster;
  let env: Record<string, string>;

  const orderCount = async (): Promise<number> => {
    const row = await fresh.database.kysely.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  };

  /** Messages not yet recorded as delivered (pending, possibly under a dead worker's lease). */
  const unfinishedCount = async (): Promise<number> => {
    const row = await fresh.database.kysely.selectFrom('webhook_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '<>', 'delivered').executeTakeFirstOrThrow();
    return Number(row.n);
  };

  /** Every order in the database has reached every subscription. */
  const allDelivered = async (): Promise<boolean> => receiver.distinct >= (await orderCount()) * SUBSCRIPTIONS;

  before(async () => {
    fresh = await freshDatabase('postgres');
    await createStore(fresh.database.kysely, { name: 'scale', plan: 'enterprise' });
    const user = await createApiUser(fresh.database.kysely, 'scale', 'scale@example.com');
    receiver = new CountingReceiver();
    await receiver.start();
    env = {
      DATABASE_URL: fresh.databaseUrl!,
      STOREHOOK_ALLOW_TARGETS: '127.0.0.0/8',
      STOREHOOK_RATE_LIMIT_PER_SECOND: '0',
      STOREHOOK_RETRY_BASE_MS: '200',
      STOREHOOK_LEASE_MS: '10000',
      STOREHOOK_POLL_INTERVAL_MS: '200',
    };
    const apis = await Promise.all([0, 1].map(() => spawnStorehook(['serve', '--no-dispatcher', '--port', '0'], env)));
    const workers = await Promise.all([0, 1, 2].map(() => spawnStorehook(['worker', '--port', '0'], env)));
    cluster = { apis, workers, auth: `Basic ${Buffer.from(`${user.email}:${user.apiKey}`).toString('base64')}` };
    for (const path of ['/a', '/b', '/c']) {
      const res = await fetch(`${apis[0]!.url}/api/v1/webhooks`, {
        method: 'POST',
        headers: { authorization: cluster.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ topic: 'order.created', url: `${receiver.url}${path}`, expands: ['products'] }),
      });
      assert.equal(res.status, 200, await res.text());
    }
  });

  after(async () => {
    await Promise.all([...(cluster?.apis ?? []), ...(cluster?.workers ?? [])].map((p) => p.kill('SIGKILL')));
    await receiver?.stop();
    await fresh?.cleanup();
  });

  test(`${ORDERS} orders through both APIs: every message arrives once`, async () => {
    const started = Date.now();
    await createOrders(cluster, ORDERS);
    await waitFor(allDelivered, 300_000, () => `${receiver.distinct} of ${ORDERS * SUBSCRIPTIONS} messages`);
    await sleep(500); // late duplicates would show up now
    assert.equal(await orderCount(), ORDERS);
    assert.equal(receiver.distinct, ORDERS * SUBSCRIPTIONS);
    const leaseLost = cluster.workers.map((w) => (w.output().match(/lease lost/g) ?? []).length).reduce((a, b) => a + b, 0);
    assert.equal(receiver.duplicates, 0, `no crash, so no duplicates (workers reported ${leaseLost} lost leases)`);
    console.log(`# scale: ${ORDERS} orders, ${receiver.distinct} messages, 0 duplicates, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test('a worker SIGKILLed mid-run: every message still arrives', async () => {
    receiver.reset();
    const before = await orderCount();
    const started = Date.now();
    const creating = createOrders(cluster, ORDERS);
    await waitFor(() => receiver.distinct > (ORDERS * SUBSCRIPTIONS) / 4, 300_000, () => 'a quarter of the messages');
    const victim = cluster.workers.shift()!;
    await victim.kill('SIGKILL');
    await creating;
    await waitFor(async () => receiver.distinct >= ((await orderCount()) - before) * SUBSCRIPTIONS, 300_000, () => `${receiver.distinct} messages after the kill`);
    // The killed worker's last requests reached the receiver but were never recorded: they are sent
    // again once its leases run out. Wait for that, so those re-sends count here (as duplicates)
    // and cannot arrive during the next test as if they were its messages.
    await waitFor(async () => (await unfinishedCount()) === 0, 120_000, () => 'every message recorded as delivered after the kill');
    assert.equal(receiver.distinct, ORDERS * SUBSCRIPTIONS);
    // Only deliveries in progress at the kill can repeat: requests open (at most the worker's
    // concurrency, 64) and answers received but not yet recorded (at most as many again).
    assert.ok(receiver.duplicates <= 128, `${receiver.duplicates} duplicates`);
    console.log(`# worker kill: ${receiver.distinct} messages, ${receiver.duplicates} duplicates (same webhook-id), ${((Date.now() - started) / 1000).toFixed(1)} s`);
    cluster.workers.push(await spawnStorehook(['worker', '--port', '0'], env));
  });

  test('PostgreSQL restarted mid-run: nothing lost, no process restarted by hand', async () => {
    receiver.reset();
    const before = await orderCount();
    const started = Date.now();
    const creating = createOrders(cluster, ORDERS);
    await waitFor(() => receiver.distinct > (ORDERS * SUBSCRIPTIONS) / 4, 300_000, () => 'a quarter of the messages');
    const version = readdirSync('/etc/postgresql')[0]!;
    const restart = promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart']);
    // While the database is down, health says so (503, JSON), and answers instead of hanging.
    const healthSeen = new Set<number>();
    let restarted = false;
    void restart.finally(() => (restarted = true));
    while (!restarted) {
      const res = await fetch(`${cluster.workers[0]!.url}/healthz`, { signal: AbortSignal.timeout(5000) });
      healthSeen.add(res.status);
      if (res.status === 503) assert.equal(((await res.json()) as { status: string }).status, 'unavailable');
      else await res.arrayBuffer();
      await sleep(20);
    }
    await restart;
    assert.ok(healthSeen.has(503), `health reported the outage (saw ${[...healthSeen].join(', ')})`);
    await creating;
    await waitFor(async () => {
      try {
        return receiver.distinct >= ((await orderCount()) - before) * SUBSCRIPTIONS;
      } catch {
        return false; // the test's own pool reconnects too
      }
    }, 300_000, () => `${receiver.distinct} messages after the restart`);
    const created = (await orderCount()) - before;
    assert.ok(created >= ORDERS, `${created} orders committed`);
    assert.equal(receiver.distinct, created * SUBSCRIPTIONS, 'every committed order reached every subscription');
    for (const p of [...cluster.apis, ...cluster.workers]) {
      assert.equal(p.proc.exitCode, null, `a process died during the restart:\n${p.output()}`);
      const health = await fetch(`${p.url}/healthz`);
      assert.equal(health.status, 200, `${p.url} healthy again`);
    }
    console.log(`# postgres restart: ${created} orders, ${receiver.distinct} messages, ${receiver.duplicates} duplicates, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
