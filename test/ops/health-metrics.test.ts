/** `/healthz` and `/metrics` on each role (API, worker, both), through real servers. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/waiting.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function server(role: 'serve' | 'worker', env: Record<string, string> = {}, dataDir?: string): Promise<RunningServer> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'storehook-ops-')));
  if (!dataDir) cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const config = { ...loadConfig({}, { STOREHOOK_ALLOW_TARGETS: '127.0.0.0/8', STOREHOOK_RETRY_BASE_MS: '60000', ...env }), port: 0, dataDir: dir, logLevel: 'silent' as const };
  const s = await startServer({ config, api: role === 'serve', dispatcher: true, seedDemo: role === 'serve' });
  cleanups.push(() => s.close());
  return s;
}

/** The value of one sample line, e.g. `storehook_messages{role="serve",state="failed"}`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

test('serve: healthz is ready, metrics count attempts, latency, claims and the queue', async () => {
  const s = await server('serve');
  const ok = await startReceiver();
  const failing = await startReceiver(() => ({ status: 500, body: 'down' }));
  cleanups.push(() => ok.close(), () => failing.close());
  const creds = s.demoCredentials!;
  const auth = `Basic ${Buffer.from(`${creds.email}:${creds.apiKey}`).toString('base64')}`;
  const post = (path: string, body: unknown) => fetch(`${s.url}${path}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const health = await fetch(`${s.url}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok', role: 'serve', version: (await import('../../src/version.js')).VERSION, database: 'sqlite' });

  for (const url of [ok.url, failing.url]) assert.equal((await post('/api/v1/webhooks', { topic: 'order.created', url })).status, 200);
  for (let i = 0; i < 3; i++) {
    assert.equal((await post('/api/v1/orders', { customer_information: { email: 'm@example.com' }, products: [{ product_code: 'A', product_name: 'A', quantity: 1, unit_price: 2 }] })).status, 200);
  }
  await ok.waitFor(3);
  await failing.waitFor(3);
  // Outcomes are written just after the answers: scrape until all six are recorded and nothing
  // is in flight (a fixed pause was too short on a loaded machine).
  const scrape = async () => {
    const res = await fetch(`${s.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    return res.text();
  };
  const text = await waitUntil('six attempts recorded, none in flight', async () => {
    const t = await scrape();
    const recorded = (sample(t, 'storehook_delivery_attempts_total', { outcome: 'delivered' }) ?? 0) + (sample(t, 'storehook_delivery_attempts_total', { outcome: 'http_status' }) ?? 0);
    // the queue gauges are cached for a few seconds: wait for a count taken after the outcomes
    return recorded === 6 && sample(t, 'storehook_messages_in_flight') === 0 && sample(t, 'storehook_messages', { state: 'scheduled' }) === 3 ? t : null;
  }, 20_000);
  assert.equal(sample(text, 'storehook_delivery_attempts_total', { outcome: 'delivered' }), 3);
  assert.equal(sample(text, 'storehook_delivery_attempts_total', { outcome: 'http_status' }), 3);
  assert.equal(sample(text, 'storehook_delivery_latency_seconds_count'), 3, 'latency observed per 2xx');
  assert.equal(sample(text, 'storehook_attempt_duration_seconds_count'), 6, 'every attempt timed');
  assert.ok((sample(text, 'storehook_claim_batch_size_count', { kind: 'first' }) ?? 0) >= 1, 'claims observed');
  // the three failed first attempts wait for their retry (a minute away): scheduled, not due
  assert.equal(sample(text, 'storehook_messages', { state: 'scheduled' }), 3);
  assert.equal(sample(text, 'storehook_messages', { state: 'due' }), 0);
  assert.equal(sample(text, 'storehook_messages', { state: 'failed' }), 0);
  assert.equal(sample(text, 'storehook_messages_in_flight'), 0);
  assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0, 'process metrics included');
});

test('worker: serves only healthz and metrics, with its role', async () => {
  const w = await server('worker');
  const health = await fetch(`${w.url}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { role: string }).role, 'worker');
  const metrics = await (await fetch(`${w.url}/metrics`)).text();
  assert.equal(sample(metrics, 'storehook_messages', { role: 'worker', state: 'due' }), 0);
  assert.equal(sample(metrics, 'storehook_http_request_duration_seconds_count', { role: 'worker', method: 'GET', route: '/healthz', status: '200' }), 1, 'the worker times its requests too');
  const api = await fetch(`${w.url}/api/v1/orders`);
  assert.equal(api.status, 404, 'a worker has no API');
  assert.equal(((await api.json()) as { code: number }).code, 404);
});

test('healthz answers 503 with the reason when the database does not answer', async () => {
  const s = await server('serve');
  await s.database.kysely.destroy(); // the database handle is gone: every query fails
  const res = await fetch(`${s.url}/healthz`);
  assert.equal(res.status, 503);
  const body = (await res.json()) as { status: string; error: string };
  assert.equal(body.status, 'unavailable');
  assert.match(body.error, /^database: /);
});
