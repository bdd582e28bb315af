/**
 * A storehook cluster on one PostgreSQL database, for the scale-out proofs: API processes and
 * workers spawned from bin/storehook.js, subscriptions of `order.created` to a receiver that
 * counts every delivery by (subscription path, webhook-id), and an order load spread over the APIs.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApiUser, createStore } from '../../src/admin/stores.js';
import { freshDatabase, type FreshDatabase } from './database.js';
import { spawnStorehook, type StorehookProcess } from './processes.js';

/** Records every delivery by (subscription path, webhook-id). */
export class CountingReceiver {
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

export interface Cluster {
  fresh: FreshDatabase;
  receiver: CountingReceiver;
  apis: StorehookProcess[];
  workers: StorehookProcess[];
  /** the environment every process of the cluster started with (to start another worker). */
  env: Record<string, string>;
  auth: string;
  subscriptions: number;
  orderCount(): Promise<number>;
  /** Messages not yet recorded as delivered (pending, possibly under a dead worker's lease). */
  unfinishedCount(): Promise<number>;
  /** Every order in the database has reached every subscription. */
  allDelivered(): Promise<boolean>;
  stop(): Promise<void>;
}

const SUBSCRIPTION_PATHS = ['/a', '/b', '/c'];

/** A fresh PostgreSQL database, `apis` API processes without dispatchers, `workers` workers, 3 subscriptions. */
export async function startCluster(apiCount: number, workerCount: number): Promise<Cluster> {
  const fresh = await freshDatabase('postgres');
  await createStore(fresh.database.kysely, { name: 'scale', plan: 'enterprise' });
  const user = await createApiUser(fresh.database.kysely, 'scale', 'scale@example.com');
  const receiver = new CountingReceiver();
  await receiver.start();
  const env = {
    DATABASE_URL: fresh.databaseUrl!,
    STOREHOOK_ALLOW_TARGETS: '127.0.0.0/8',
    STOREHOOK_RATE_LIMIT_PER_SECOND: '0',
    STOREHOOK_RETRY_BASE_MS: '200',
    STOREHOOK_LEASE_MS: '10000',
    STOREHOOK_POLL_INTERVAL_MS: '200',
  };
  const db = fresh.database.kysely;
  const orderCount = async (): Promise<number> => Number((await db.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const unfinishedCount = async (): Promise<number> =>
    Number((await db.selectFrom('webhook_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '<>', 'delivered').executeTakeFirstOrThrow()).n);
  const cluster: Cluster = {
    fresh,
    receiver,
    apis: await Promise.all(Array.from({ length: apiCount }, () => spawnStorehook(['serve', '--no-dispatcher', '--port', '0'], env))),
    workers: await Promise.all(Array.from({ length: workerCount }, () => spawnStorehook(['worker', '--port', '0'], env))),
    env,
    auth: `Basic ${Buffer.from(`${user.email}:${user.apiKey}`).toString('base64')}`,
    subscriptions: SUBSCRIPTION_PATHS.length,
    orderCount,
    unfinishedCount,
    allDelivered: async () => receiver.distinct >= (await orderCount()) * SUBSCRIPTION_PATHS.length,
    async stop() {
      await Promise.all([...cluster.apis, ...cluster.workers].map((p) => p.kill('SIGKILL')));
      await receiver.stop();
      await fresh.cleanup();
    },
  };
  for (const path of SUBSCRIPTION_PATHS) {
    const res = await fetch(`${cluster.apis[0]!.url}/api/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: cluster.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'order.created', url: `${receiver.url}${path}`, expands: ['products'] }),
    });
    assert.equal(res.status, 200, await res.text());
  }
  return cluster;
}

const sampleOrder = (i: number) =>
  JSON.stringify({
    customer_information: { first_name: `Scale${i}`, email: `scale${i}@example.com` },
    products: [{ product_code: `P${i % 17}`, product_name: 'Load test item', quantity: 1 + (i % 3), unit_price: 9.9 }],
  });

/** POSTs `count` orders spread over the APIs; retries 503s and connection errors like an integrator would. */
export async function createOrders(cluster: Cluster, count: number, concurrency = 24): Promise<void> {
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

export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await sleep(100);
  }
}

/** 500 by default (the suite runs on two shared cores): a quarter of a run (the kill point) is ~375 messages in, with ~1,100 to come; SCALE_TEST_ORDERS raises it for a soak run. */
export const SCALE_ORDERS = Number(process.env['SCALE_TEST_ORDERS'] ?? 500);
