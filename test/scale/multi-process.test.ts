/**
 * Scale-out proof, PostgreSQL only: 2 API processes and 3 workers share one database;
 * 500 orders (SCALE_TEST_ORDERS) are created concurrently through both APIs, and 3 subscriptions must each receive
 * every order.created message — with no duplicates when nothing crashes, and every message still
 * arriving when a worker is SIGKILLed mid-run. (PostgreSQL restarting mid-run is
 * postgres-restart.alone.test.ts: it must run with no other test using the server.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnStorehook } from '../helpers/processes.js';
import { createOrders, SCALE_ORDERS as ORDERS, startCluster, waitFor, type Cluster } from '../helpers/scale-cluster.js';

const enabled = Boolean(process.env['TEST_DATABASE_URL']);

describe('scale-out on PostgreSQL: 2 APIs, 3 workers', { skip: enabled ? false : 'set TEST_DATABASE_URL to run the PostgreSQL scale-out proof', timeout: 900_000 }, () => {
  let cluster: Cluster;

  before(async () => {
    cluster = await startCluster(2, 3);
  });

  after(async () => {
    await cluster?.stop();
  });

  test(`${ORDERS} orders through both APIs: every message arrives once`, async () => {
    const { receiver } = cluster;
    const started = Date.now();
    await createOrders(cluster, ORDERS);
    await waitFor(cluster.allDelivered, 300_000, () => `${receiver.distinct} of ${ORDERS * cluster.subscriptions} messages`);
    await sleep(500); // late duplicates would show up now
    assert.equal(await cluster.orderCount(), ORDERS);
    assert.equal(receiver.distinct, ORDERS * cluster.subscriptions);
    const leaseLost = cluster.workers.map((w) => (w.output().match(/lease lost/g) ?? []).length).reduce((a, b) => a + b, 0);
    assert.equal(receiver.duplicates, 0, `no crash, so no duplicates (workers reported ${leaseLost} lost leases)`);
    console.log(`# scale: ${ORDERS} orders, ${receiver.distinct} messages, 0 duplicates, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test('a worker SIGKILLed mid-run: every message still arrives', async () => {
    const { receiver } = cluster;
    receiver.reset();
    const before = await cluster.orderCount();
    const started = Date.now();
    const creating = createOrders(cluster, ORDERS);
    await waitFor(() => receiver.distinct > (ORDERS * cluster.subscriptions) / 4, 300_000, () => 'a quarter of the messages');
    const victim = cluster.workers.shift()!;
    await victim.kill('SIGKILL');
    await creating;
    await waitFor(async () => receiver.distinct >= ((await cluster.orderCount()) - before) * cluster.subscriptions, 300_000, () => `${receiver.distinct} messages after the kill`);
    // The killed worker's last requests reached the receiver but were never recorded: they are sent
    // again once its leases run out. Wait for that, so those re-sends count here (as duplicates).
    await waitFor(async () => (await cluster.unfinishedCount()) === 0, 120_000, () => 'every message recorded as delivered after the kill');
    assert.equal(receiver.distinct, ORDERS * cluster.subscriptions);
    // Only deliveries in progress at the kill can repeat: requests open (at most the worker's
    // concurrency, 64) and answers received but not yet recorded (at most as many again).
    assert.ok(receiver.duplicates <= 128, `${receiver.duplicates} duplicates`);
    console.log(`# worker kill: ${receiver.distinct} messages, ${receiver.duplicates} duplicates (same webhook-id), ${((Date.now() - started) / 1000).toFixed(1)} s`);
    cluster.workers.push(await spawnStorehook(['worker', '--port', '0'], cluster.env));
  });
});
