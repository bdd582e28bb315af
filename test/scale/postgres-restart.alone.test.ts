/**
 * Scale-out proof, PostgreSQL only: the server restarts while 2 APIs take orders and 2 workers
 * deliver them. Nothing committed is lost and no process has to be restarted by hand. Runs alone
 * (`.alone.test.ts`, see scripts/test.sh): a restart would break every other test's connections.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createOrders, SCALE_ORDERS as ORDERS, startCluster, waitFor, type Cluster } from '../helpers/scale-cluster.js';

const enabled = Boolean(process.env['TEST_DATABASE_URL']);

describe('scale-out on PostgreSQL: the server restarts mid-run', { skip: enabled ? false : 'set TEST_DATABASE_URL to run the PostgreSQL scale-out proof', timeout: 900_000 }, () => {
  let cluster: Cluster;

  before(async () => {
    cluster = await startCluster(2, 2);
  });

  after(async () => {
    await cluster?.stop();
  });

  test('PostgreSQL restarted mid-run: nothing lost, no process restarted by hand', async () => {
    const { receiver } = cluster;
    const started = Date.now();
    const creating = createOrders(cluster, ORDERS);
    await waitFor(() => receiver.distinct > (ORDERS * cluster.subscriptions) / 4, 300_000, () => 'a quarter of the messages');
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
        return await cluster.allDelivered();
      } catch {
        return false; // the test's own pool reconnects too
      }
    }, 300_000, () => `${receiver.distinct} messages after the restart`);
    const created = await cluster.orderCount();
    assert.ok(created >= ORDERS, `${created} orders committed`);
    assert.equal(receiver.distinct, created * cluster.subscriptions, 'every committed order reached every subscription');
    for (const p of [...cluster.apis, ...cluster.workers]) {
      assert.equal(p.proc.exitCode, null, `a process died during the restart:\n${p.output()}`);
      const health = await fetch(`${p.url}/healthz`);
      assert.equal(health.status, 200, `${p.url} healthy again`);
    }
    console.log(`# postgres restart: ${created} orders, ${receiver.distinct} messages, ${receiver.duplicates} duplicates, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
