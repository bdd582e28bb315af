/**
 * A subscription's own signing keys reach the dispatcher as an operator runs it: `storehook serve`
 * on SQLite sends from its dispatcher thread (src/dispatcher-worker.ts), which has its own database
 * connection and its own key lookup. A real process, a real receiver, and the official
 * `standardwebhooks` library as the verifier.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { spawnStorehook, type StorehookProcess } from '../helpers/processes.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/waiting.js';

let dir: string;
let server: StorehookProcess;
let receiver: Receiver;
let auth: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storehook-signing-serve-'));
  receiver = await startReceiver();
  server = await spawnStorehook(['serve', '--port', '0', '--data-dir', dir], { STOREHOOK_ALLOW_TARGETS: '127.0.0.0/8' });
  await waitUntil('the demo credentials in the banner', () => server.output().includes('API key:'), 10_000);
  const email = /e-mail:\s+(\S+)/.exec(server.output())![1]!;
  const key = /API key: (\S+)/.exec(server.output())![1]!;
  auth = `Basic ${Buffer.from(`${email}:${key}`).toString('base64')}`;
});

after(async () => {
  await server?.kill();
  await receiver?.close();
  await rm(dir, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: { data: Record<string, unknown> } }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as { data: Record<string, unknown> } };
}

test('serve (SQLite, dispatcher thread) signs with a subscription’s own whsec_ secret and its ed25519 key', { timeout: 60_000 }, async () => {
  const created = await call('POST', '/api/v1/webhooks', { topic: 'order.created', url: receiver.url, signing: { hmac: 'secret', ed25519: true } });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const secret = created.body.data['secret'];
  assert.equal(typeof secret, 'string');
  assert.match(secret as string, /^whsec_/);

  const order = await call('POST', '/api/v1/orders', { customer_information: { first_name: 'Sig', email: 'sig@example.com' }, products: [{ product_code: 'X-1', product_name: 'Thing', quantity: 1, unit_price: 5 }] });
  assert.equal(order.status, 200, JSON.stringify(order.body));
  await receiver.waitFor(1, 20_000);

  const delivered = receiver.requests[0]!;
  const headers = {
    'webhook-id': String(delivered.headers['webhook-id']),
    'webhook-timestamp': String(delivered.headers['webhook-timestamp']),
    'webhook-signature': String(delivered.headers['webhook-signature']),
  };
  // The message is signed by the subscription's own secret, not (only) by its uuid.
  const verified = new Webhook(secret as string).verify(delivered.body, headers) as { data: { id: number } };
  assert.equal(verified.data.id, order.body.data['id']);
  // And carries an ed25519 signature beside it (the v1a entry).
  assert.match(headers['webhook-signature'], /(^| )v1a,/);
});
