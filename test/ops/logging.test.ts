/**
 * Secrets never reach a log line: API keys, Authorization headers, signatures, and subscription
 * uuids (they are the signing keys) — even at debug level, through a real server.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { redactUrl, uuidFingerprint } from '../../src/log.js';
import { startServer } from '../../src/server.js';
import { captureLogs } from '../helpers/log-capture.js';
import { startReceiver } from '../helpers/receiver.js';

test('redactUrl masks legacy keys and subscription uuids, keeping a stable fingerprint', () => {
  const uuid = '6f1c2d9e-8a47-4c1b-9f0e-2b7d5a3c4e81';
  const masked = redactUrl(`/api/v1/webhooks/${uuid}/deliveries?status=failed`);
  assert.ok(!masked.includes(uuid) && !masked.includes('6f1c2d9e'), masked);
  assert.equal(masked, `/api/v1/webhooks/${uuidFingerprint(uuid)}/deliveries?status=failed`);
  assert.equal(uuidFingerprint(uuid.toUpperCase()), uuidFingerprint(uuid), 'case does not change the tag');
  assert.equal(redactUrl('/webhooks/get?order=1&key=abcdef0123'), '/webhooks/get?order=1&key=***');
});

test('a real server logs no key, Authorization header, signature or subscription uuid', async () => {
  const logs = captureLogs('debug');
  const dir = await mkdtemp(join(tmpdir(), 'storehook-log-'));
  const receiver = await startReceiver(() => ({ status: 500, body: 'nope' }));
  const config = { ...loadConfig({}, { STOREHOOK_ALLOW_TARGETS: '127.0.0.0/8', STOREHOOK_RETRY_BASE_MS: '60000' }), port: 0, dataDir: dir, logLevel: 'debug' as const };
  const server = await startServer({ config, api: true, dispatcher: true, seedDemo: true, logger: logs.logger });
  try {
    const creds = server.demoCredentials!;
    const auth = `Basic ${Buffer.from(`${creds.email}:${creds.apiKey}`).toString('base64')}`;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: (await res.json().catch(() => null)) as { data: Record<string, unknown> } | null };
    };
    const sub = await call('POST', '/api/v1/webhooks', { topic: 'order.created', url: receiver.url });
    assert.equal(sub.status, 200);
    const uuid = String(sub.body!.data['uuid']);
    await call('POST', '/api/v1/orders', { customer_information: { email: 'a@example.com' }, products: [{ product_code: 'A', product_name: 'A', quantity: 1, unit_price: 1 }] });
    await receiver.waitFor(1);
    await call('PATCH', `/api/v1/webhooks/${uuid}`, { status: 'disabled' });
    await call('GET', `/api/v1/webhooks/${uuid}/deliveries`);
    // a failed login logs too
    await fetch(`${server.url}/api/v1/orders`, { headers: { authorization: `Basic ${Buffer.from(`${creds.email}:shk_wrong`).toString('base64')}` } });
    const signature = String(receiver.requests[0]!.headers['webhook-signature']);

    assert.ok(logs.text().includes('/api/v1/webhooks/sub#'), 'requests to a subscription are logged, by fingerprint');
    for (const [what, secret] of [['API key', creds.apiKey], ['Authorization header', auth.slice(6)], ['subscription uuid', uuid], ['signature', signature.slice(3)]] as const) {
      assert.ok(!logs.text().includes(secret), `the log contains the ${what}`);
    }
  } finally {
    await server.close();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  }
});
