/**
 * Delivery knows no topics (issue #14 §4): a message carries its content type and its attempt
 * limit, set by whoever produced it, and src/delivery/ decides nothing by topic name.
 *
 * - Source: no file of src/delivery/ names a topic (catalogue, test, legacy). dependency-cruiser's
 *   `delivery-knows-no-topics` rule keeps the imports out; this keeps the literals out.
 * - Behaviour: an ordinary `order.created` message stored one-shot and as text is sent once, as
 *   text, then failed; the engine read both from the row, not from its topic.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it, test } from 'node:test';
import { enqueueMessage } from '../../src/delivery/queue.js';
import { LEGACY_ORDER_XML_TOPIC, TEST_TOPIC, TOPICS } from '../../src/webhooks/topics.js';
import { dialects, type Dialect } from '../helpers/database.js';
import { sleep, startEngine, waitUntil } from '../helpers/engine.js';
import { startReceiver } from '../helpers/receiver.js';

const DELIVERY = join(process.cwd(), 'src', 'delivery');

it('no module of src/delivery/ names a topic', async () => {
  const names = [...TOPICS.map((t) => t.name), TEST_TOPIC, LEGACY_ORDER_XML_TOPIC, 'TEST_TOPIC', 'LEGACY_ORDER_XML_TOPIC'];
  const found: string[] = [];
  for (const file of (await readdir(DELIVERY, { recursive: true })).filter((f) => f.endsWith('.ts'))) {
    const text = await readFile(join(DELIVERY, file), 'utf8');
    for (const name of names) if (text.includes(name)) found.push(`src/delivery/${file}: ${name}`);
  }
  assert.deepEqual(found, [], 'delivery decides by the message row (content_type, max_attempts), never by its topic');
});

async function oneShotAsText(dialect: Dialect): Promise<void> {
  const receiver = await startReceiver(() => ({ status: 500, body: 'down' }));
  const e = await startEngine(dialect, { config: { retryBaseMs: 1 } });
  try {
    const sub = await e.subscribe(receiver.url);
    const now = Date.now();
    await enqueueMessage(e.database.kysely, {
      messageId: 'msg_oneShotAsText',
      storeId: e.storeId,
      subscriptionUuid: sub.uuid,
      topic: 'order.created',
      orderId: null,
      body: 'plain words',
      createdAt: now,
      dueAt: now,
      contentType: 'text/plain; charset=utf-8',
      maxAttempts: 1,
    });
    const [m] = await waitUntil(`[${dialect}] the message to fail`, async () => {
      const rows = await e.messages(sub.uuid);
      return rows[0]?.status === 'failed' ? rows : null;
    });
    // With a 1 ms retry base a second attempt would already have been sent.
    await sleep(300);
    assert.equal(receiver.requests.length, 1, `[${dialect}] one attempt, no retry`);
    assert.equal(receiver.requests[0]!.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(receiver.requests[0]!.headers['webhook-topic'], 'order.created');
    assert.equal(m!.attempt_count, 1);
    assert.equal(m!.next_attempt_at, null);
  } finally {
    await e.close();
    await receiver.close();
  }
}

test('a message stored one-shot and as text is sent once, as text, whatever its topic', async () => {
  for (const dialect of dialects()) await oneShotAsText(dialect);
});
