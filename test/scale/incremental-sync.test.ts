/**
 * Incremental sync against real server processes, as MyCashflow integrations run it: while 6
 * writers create and update orders over HTTP through every API process, a client pages
 * `sort=updated_at-asc&updated_at-from=<last updated_at it saw>` (no safety margin) until
 * `meta.next` is absent, saves its checkpoint and starts again; a second client does the same by
 * `created_at`. After the writes each runs once more. The checks: no order missing, and every
 * order held in its final version (its `updated_at` and the `details` the writers change).
 *
 * PostgreSQL: 2 API processes (`serve --no-dispatcher`). SQLite: the one serving process it allows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApiUser, createStore } from '../../src/admin/stores.js';
import { dialects, freshDatabase, type Dialect, type FreshDatabase } from '../helpers/database.js';
import { spawnStorehook, type StorehookProcess } from '../helpers/processes.js';

const WRITE_SECONDS = Number(process.env['SYNC_TEST_SECONDS'] ?? 5);
const WRITERS = 6;
const PAGE_SIZE = 100;

interface SeenOrder {
  id: number;
  created_at: string;
  updated_at: string;
  details: string | null;
}

interface ListBody {
  data: SeenOrder[];
  meta: { next?: string };
}

/** One integration's state: what it holds per order and where its next run starts. */
class SyncClient {
  readonly held = new Map<number, SeenOrder>();
  checkpoint = '2000-01-01T00:00:00.000Z';
  runs = 0;
  pages = 0;

  constructor(
    private readonly field: 'updated_at' | 'created_at',
    private readonly baseUrls: () => string[],
    private readonly auth: string,
  ) {}

  /** Pages from the checkpoint until `meta.next` is absent, then saves the last stamp seen. */
  async run(): Promise<void> {
    const bases = this.baseUrls();
    const base = bases[this.runs % bases.length]!;
    this.runs += 1;
    let url: string | undefined = `${base}/api/v1/orders?sort=${this.field}-asc&${this.field}-from=${encodeURIComponent(this.checkpoint)}&page_size=${PAGE_SIZE}`;
    let last = this.checkpoint;
    while (url) {
      const res = await fetch(url, { headers: { authorization: this.auth }, signal: AbortSignal.timeout(30_000) });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const body = JSON.parse(text) as ListBody;
      this.pages += 1;
      for (const order of body.data) {
        this.held.set(order.id, order);
        last = order[this.field];
      }
      url = body.meta.next;
    }
    this.checkpoint = last;
  }
}

const orderBody = (i: number) =>
  JSON.stringify({
    customer_information: { first_name: `Sync${i}`, email: `sync${i}@example.com` },
    products: [{ product_code: `S${i % 11}`, product_name: 'Sync test item', quantity: 1, unit_price: 5 }],
    details: 'v0',
  });

for (const dialect of dialects()) {
  describeSync(dialect);
}

function describeSync(dialect: Dialect): void {
  const apiCount = dialect === 'postgres' ? 2 : 1;
  describe(`incremental sync under concurrent writes [${dialect}]: ${apiCount} API process(es), ${WRITERS} writers`, { timeout: 300_000 }, () => {
    let fresh: FreshDatabase;
    let apis: StorehookProcess[] = [];
    let auth = '';

    before(async () => {
      fresh = await freshDatabase(dialect);
      await createStore(fresh.database.kysely, { name: 'sync', plan: 'enterprise' });
      const user = await createApiUser(fresh.database.kysely, 'sync', 'sync@example.com');
      auth = `Basic ${Buffer.from(`${user.email}:${user.apiKey}`).toString('base64')}`;
      const env: Record<string, string> = {
        STOREHOOK_RATE_LIMIT_PER_SECOND: '0',
        ...(dialect === 'postgres' ? { DATABASE_URL: fresh.databaseUrl! } : { DATABASE_URL: '', STOREHOOK_DATA_DIR: fresh.dataDir }),
      };
      apis = await Promise.all(Array.from({ length: apiCount }, () => spawnStorehook(['serve', '--no-dispatcher', '--port', '0'], env)));
    });

    after(async () => {
      await Promise.all(apis.map((p) => p.kill('SIGKILL')));
      await fresh?.cleanup();
    });

    test('a client with no safety margin misses no order and holds every order in its final version', async () => {
      const bases = () => apis.map((a) => a.url);
      const byUpdated = new SyncClient('updated_at', bases, auth);
      const byCreated = new SyncClient('created_at', bases, auth);
      const created: number[] = [];
      let creates = 0;
      let updates = 0;
      let stop = false;

      const send = async (api: StorehookProcess, method: string, path: string, body: string): Promise<{ id: number }> => {
        const res = await fetch(`${api.url}/api/v1${path}`, { method, headers: { authorization: auth, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(30_000) });
        const text = await res.text();
        assert.equal(res.status, 200, `${method} ${path}: ${text}`);
        return (JSON.parse(text) as { data: { id: number } }).data;
      };
      const writer = async (lane: number) => {
        for (let n = 0; !stop; n++) {
          const api = apis[(lane + n) % apis.length]!;
          // Creates and updates mixed: an update moves an order already synced to the end.
          if (created.length < 10 || n % 5 < 2) {
            const order = await send(api, 'POST', '/orders', orderBody(creates++));
            created.push(order.id);
          } else {
            const id = created[(lane * 7919 + n * 104_729) % created.length]!;
            await send(api, 'PATCH', `/orders/${id}`, JSON.stringify({ details: `w${lane}-${n}` }));
            updates += 1;
          }
        }
      };
      const syncLoop = async (client: SyncClient) => {
        while (!stop) {
          await client.run();
          await sleep(5);
        }
      };

      const writing = Promise.all(Array.from({ length: WRITERS }, (_, lane) => writer(lane)));
      const syncing = Promise.all([syncLoop(byUpdated), syncLoop(byCreated)]);
      // At least WRITE_SECONDS, and on a busy machine until the writes have mixed in updates and
      // the clients have synced several times while they ran (what the test is about).
      const started = Date.now();
      while (Date.now() - started < WRITE_SECONDS * 1000 || ((updates < 30 || byUpdated.runs < 3) && Date.now() - started < 120_000)) await sleep(100);
      stop = true;
      await Promise.all([writing, syncing]);
      // Once after the writes, as the next scheduled run would.
      await byUpdated.run();
      await byCreated.run();

      const final = await fresh.database.kysely.selectFrom('orders').select(['id', 'updated_at', 'details']).execute();
      const missing = final.filter((o) => !byUpdated.held.has(o.id)).map((o) => o.id);
      const stale = final
        .filter((o) => {
          const held = byUpdated.held.get(o.id);
          return held !== undefined && (Date.parse(held.updated_at) !== o.updated_at || held.details !== o.details);
        })
        .map((o) => o.id);
      const missingByCreated = final.filter((o) => !byCreated.held.has(o.id)).map((o) => o.id);
      console.log(
        `# incremental sync [${dialect}]: ${final.length} orders (${creates} created, ${updates} updates) by ${WRITERS} writers through ${apiCount} API process(es) in ${WRITE_SECONDS} s; ` +
          `updated_at client: ${byUpdated.runs} syncs, ${byUpdated.pages} pages, ${missing.length} missing, ${stale.length} stale; ` +
          `created_at client: ${byCreated.runs} syncs, ${missingByCreated.length} missing`,
      );

      assert.equal(final.length, created.length, 'every create answered 200 is in the database');
      assert.ok(updates > 0 && byUpdated.runs > 2, `the sync ran during the writes (${byUpdated.runs} syncs, ${updates} updates)`);
      assert.deepEqual(missing, [], 'updated_at client: orders never seen');
      assert.deepEqual(stale, [], 'updated_at client: orders held in an old version');
      assert.deepEqual(missingByCreated, [], 'created_at client: orders never seen');
    });
  });
}
