// `storehook trigger <topic>` against a real server process: every topic is emitted for real
// (a subscription to it receives a signed message about the triggered order, product, stock item
// or customer), and bad input
// (unknown topic, refused change, bad credentials, wrong URL) ends with one line and its exit code.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StorehookClient } from '../../src/client/index.js';
import { ORDER_TOPICS, type OrderTopic } from '../../src/orders/events.js';
import { RESOURCE_TOPICS, type ResourceTopic } from '../../src/toolkit/trigger-resources.js';
import { TRIGGER_TOPICS } from '../../src/toolkit/trigger.js';
import { verify } from '../../src/sdk/verify.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { eventually, freePort, runCli, startStorehook, type CliResult, type StorehookServer } from '../helpers/toolkit-processes.js';

async function inBatches<T, R>(items: readonly T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(run))));
  return out;
}

describe('storehook trigger', () => {
  let server: StorehookServer;
  let receiver: Receiver;
  let api: StorehookClient;
  const uuids = new Map<string, string>();

  before(async () => {
    server = await startStorehook('sqlite');
    receiver = await startReceiver();
    api = new StorehookClient({ baseUrl: server.url, email: server.email, apiKey: server.apiKey });
    for (const topic of ORDER_TOPICS) {
      const sub = await api.webhooks.create({ topic, url: receiver.url, expands: ['shipments', 'payments', 'comments'] });
      uuids.set(topic, sub.uuid);
    }
    for (const topic of RESOURCE_TOPICS) uuids.set(topic, (await api.webhooks.create({ topic, url: receiver.url })).uuid);
  });
  after(async () => {
    await receiver?.close();
    await server?.cleanup();
  });

  it('emits every topic for real: its subscription receives a signed message about the triggered order', async () => {
    const results = await inBatches(ORDER_TOPICS, 4, async (topic) => ({ topic, run: await runCli(['trigger', topic, '--json'], server.cliEnv) }));
    for (const { topic, run } of results) {
      assert.equal(run.code, 0, `${topic}: ${run.stdout}${run.stderr}`);
      const result = JSON.parse(run.stdout) as { topic: OrderTopic; order_id: number; emitted: string[]; steps: { method: string; path: string }[] };
      assert.equal(result.topic, topic);
      assert.ok(result.emitted.includes(topic), `${topic} is among ${result.emitted}`);
      assert.equal(result.steps[0]!.path, '/orders');
      const message = await eventually(`a ${topic} message for order ${result.order_id}`, () =>
        receiver.requests.find((r) => r.headers['webhook-topic'] === topic && (JSON.parse(r.body) as { data: { id: number } }).data.id === result.order_id),
      );
      const body = verify(message.body, message.headers as Record<string, string>, uuids.get(topic)!) as { topic: string; data: Record<string, any> };
      assert.equal(body.topic, topic);
      const order = body.data;
      switch (topic) {
        case 'order.cancelled':
          assert.equal(order.status, 'CANCELLED');
          break;
        case 'order.completed':
          assert.equal(order.status, 'COMPLETED');
          assert.ok(order.archived_at, 'quick-processed orders are archived');
          break;
        case 'order.shipment_completed':
          assert.equal(order.shipments[0].tracking_code, 'JJFI64512300012345678');
          break;
        case 'order.payment_updated':
          assert.equal(order.payments[0].status, 'PAID');
          break;
        case 'order.comment_created':
          assert.equal(order.comments[0].visibility, 'PUBLIC');
          break;
        case 'order.updated':
          assert.deepEqual(order.custom_data, { gift_wrap: true });
          break;
        case 'order.created':
          assert.equal(order.customer_information.last_name, 'Meikäläinen');
          break;
      }
    }
  });

  it('emits the topics of products, stock and customers for real, each from a fresh sample made through the API', async () => {
    const results = await inBatches(RESOURCE_TOPICS, 4, async (topic) => ({ topic, run: await runCli(['trigger', topic, '--json'], server.cliEnv) }));
    for (const { topic, run } of results) {
      assert.equal(run.code, 0, `${topic}: ${run.stdout}${run.stderr}`);
      const result = JSON.parse(run.stdout) as { topic: ResourceTopic; resource: string; id: number; order_id?: number; emitted: string[] };
      assert.deepEqual([result.topic, result.order_id], [topic, undefined]);
      assert.equal(result.resource, topic.split('.')[0]);
      assert.ok(result.emitted.includes(topic), `${topic} is among ${result.emitted}`);
      // The sample product's creation sent a stock_item.updated too (quantity 10): wait for the change's.
      const theChange = (data: { id: number; quantity?: number }) => data.id === result.id && (topic !== 'stock_item.updated' || data.quantity !== 10);
      const message = await eventually(`a ${topic} message for ${result.resource} ${result.id}`, () =>
        receiver.requests.find((r) => r.headers['webhook-topic'] === topic && theChange((JSON.parse(r.body) as { data: { id: number } }).data)),
      );
      const data = (verify(message.body, message.headers as Record<string, string>, uuids.get(topic)!) as { data: Record<string, any> }).data;
      switch (topic) {
        case 'product.created':
          assert.match(data.product_code, /^TRIGGER-/);
          break;
        case 'product.updated':
          assert.equal(data.price, 19.9);
          break;
        case 'product.deleted':
          await assert.rejects(api.products.get(result.id), /404/, 'the product is gone');
          break;
        case 'stock_item.updated':
          assert.deepEqual([data.quantity, data.balance], [25, 25]);
          break;
        case 'stock_item.low':
          assert.ok(data.balance < data.balance_alert, `balance ${data.balance} below balance_alert ${data.balance_alert}`);
          break;
        case 'customer.created':
          assert.match(data.email, /^trigger-.*@example\.com$/);
          break;
        case 'customer.updated':
          assert.equal(data.city, 'Tampere');
          break;
      }
    }
    const people = await runCli(['trigger', 'stock_item.low'], server.cliEnv);
    assert.equal(people.code, 0, people.stdout + people.stderr);
    assert.match(people.stdout, /PATCH \/api\/v1\/stock\/TRIGGER-\w+  lowered the stock of TRIGGER-\w+: balance 3, balance_alert 5/);
    assert.match(people.stdout, /✔ stock_item\.low emitted for stock item \d+ \(the change also emitted product\.created, stock_item\.updated, stock_item\.updated\)/);
  });

  it('shows each step for people, and works on an existing order with --order', async () => {
    const order = await api.orders.create({ customer_information: { first_name: 'A' }, products: [{ product_code: 'X', product_name: 'X', quantity: 1, unit_price: 3 }] });
    const run = await runCli(['trigger', 'order.comment_created', '--order', String(order.id)], server.cliEnv);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`^Triggering order\\.comment_created on order ${order.id} at http://127\\.0\\.0\\.1:\\d+\\n`));
    assert.match(run.stdout, new RegExp(`GET   /api/v1/orders/${order.id}  loaded order ${order.id}: status OPEN`));
    assert.match(run.stdout, new RegExp(`POST  /api/v1/orders/${order.id}/comments  added comment \\d+ to order ${order.id}: PUBLIC comment`));
    assert.match(run.stdout, new RegExp(`✔ order\\.comment_created emitted for order ${order.id} \\(the change also emitted order\\.updated\\)`));
    const comments = await api.orders.comments(order.id);
    assert.equal(comments.length, 1);
  });

  it('ends bad input with one clear line and a documented exit code', async () => {
    const cancelled = await api.orders.create({ customer_information: { first_name: 'A' }, products: [{ product_code: 'X', product_name: 'X', quantity: 1, unit_price: 3 }] });
    await api.orders.cancel(cancelled.id);
    const closedPort = await freePort();
    const noCreds = { STOREHOOK_URL: server.url, STOREHOOK_EMAIL: '', STOREHOOK_API_KEY: '' };
    const runs: Record<string, CliResult> = Object.fromEntries(
      await inBatches(
        [
          ['unknown topic', ['trigger', 'order.shipped'], server.cliEnv],
          ['--order on a product topic', ['trigger', 'product.updated', '--order', '1'], server.cliEnv],
          ['refused change', ['trigger', 'order.cancelled', '--order', String(cancelled.id)], server.cliEnv],
          ['no credentials', ['trigger', 'order.created'], noCreds],
          ['wrong key', ['trigger', 'order.created'], { ...server.cliEnv, STOREHOOK_API_KEY: 'shk_wrong' }],
          ['nothing there', ['trigger', 'order.created', '--url', `http://127.0.0.1:${closedPort}`], server.cliEnv],
          ['not storehook', ['trigger', 'order.created', '--url', receiver.url.replace(/\/hook$/, '')], server.cliEnv],
        ] as const,
        3,
        async ([name, args, env]) => [name, await runCli([...args], env)] as const,
      ),
    );
    const expect = (name: string, code: number, line: RegExp) => {
      const r = runs[name]!;
      assert.equal(r.code, code, `${name}: ${r.stdout}${r.stderr}`);
      // Usage errors stop before anything happens; the others show the progress made before the failure.
      if (code === 2) assert.equal(r.stdout, '', `${name} prints nothing on stdout`);
      assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${name}: one line: ${r.stderr}`);
      assert.match(r.stderr, line, name);
    };
    expect('unknown topic', 2, new RegExp(`^storehook: unknown topic "order\\.shipped"; topics: ${TRIGGER_TOPICS.join(', ').replaceAll('.', '\\.')}$`, 'm'));
    assert.match(runs['unknown topic']!.stderr, /order\.comment_created, product\.created, .*customer\.updated$/m);
    expect('--order on a product topic', 2, /--order is for order topics; product\.updated makes a fresh sample product/);
    expect('refused change', 1, new RegExp(`POST /api/v1/orders/${cancelled.id}/cancel → 409: Order ${cancelled.id} is already CANCELLED`));
    expect('no credentials', 2, /no API credentials: pass --email \(STOREHOOK_EMAIL\) and --key \(STOREHOOK_API_KEY\)/);
    expect('wrong key', 3, /refused the credentials \(401\)/);
    expect('nothing there', 4, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${closedPort}: connection refused`));
    expect('not storehook', 4, /not JSON \(is http:\/\/127\.0\.0\.1:\d+ a storehook server\?\)/);
  });

  it('has --help with an example and the exit codes', async () => {
    const help = await runCli(['trigger', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Example:\n {2}storehook trigger order\.payment_updated/);
    assert.match(help.stdout, /Exit codes:/);
    for (const t of TRIGGER_TOPICS) assert.match(help.stdout, new RegExp(`  ${t.replace('.', '\\.')} +\\w`), `${t} and what trigger does`);
  });
});
