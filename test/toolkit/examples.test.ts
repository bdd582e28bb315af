// The example receivers (examples/*/receiver.ts), each run as its own process the way the docs
// say, against a running storehook server: they verify real deliveries with storehook/verify,
// process each webhook-id once (a resend is a duplicate), and refuse a tampered request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StorehookClient } from '../../src/client/index.js';
import { deliveryHeaders, sign, signingKeyFromUuid } from '../../src/delivery/signer.js';
import { eventually, freePort, startExample, startStorehook, type StorehookServer } from '../helpers/toolkit-processes.js';

describe('example receivers against a running server', () => {
  let server: StorehookServer;
  let api: StorehookClient;

  before(async () => {
    server = await startStorehook('sqlite');
    api = new StorehookClient({ baseUrl: server.url, email: server.email, apiKey: server.apiKey });
  });
  after(async () => {
    await server?.cleanup();
  });

  for (const name of ['node-http', 'express', 'fastify'] as const) {
    it(`${name}: verifies deliveries, processes each webhook-id once, refuses tampering`, async () => {
      const port = await freePort();
      const sub = await api.webhooks.create({ topic: 'order.created', url: `http://127.0.0.1:${port}/hooks` });
      const receiver = await startExample(name, sub.uuid, port);
      try {
        const order = await api.orders.create({ customer_information: { first_name: 'Maija' }, products: [{ product_code: 'X', product_name: 'X', quantity: 2, unit_price: 4.5 }] });
        const processed = await receiver.waitFor(/processed order\.created (msg_\S+)/);
        const messageId = processed[1]!;
        assert.match(receiver.stdout(), new RegExp(`order ${order.id}: OPEN, 9 EUR`));
        const delivery = await eventually('the delivery is recorded as delivered', async () => {
          const d = await api.webhooks.delivery(sub.uuid, messageId);
          return d.status === 'delivered' ? d : null;
        });
        assert.equal(delivery.attempts[0]!.status_code, 200);

        // A resend carries the same webhook-id: acknowledged, not processed again.
        const resent = await api.webhooks.resend(sub.uuid, messageId);
        assert.equal(resent.attempt.status_code, 200);
        await receiver.waitFor(new RegExp(`duplicate ${messageId} ignored`));
        assert.equal(receiver.stdout().match(/processed order\.created/g)?.length, 1);

        // The test message from the API is fine too.
        const test = await api.webhooks.test(sub.uuid);
        assert.equal(test.attempt.status_code, 200);
        await receiver.waitFor(/processed webhook\.test msg_/);

        // The same bytes with one character changed: refused with the verification error.
        const ts = Math.floor(Date.now() / 1000);
        const headers = deliveryHeaders({ messageId: 'msg_forged', timestampSec: ts, signature: sign(signingKeyFromUuid(sub.uuid), 'msg_forged', ts, delivery.body), topic: 'order.created', attempt: 1, version: 'test' });
        const tampered = await fetch(receiver.url, { method: 'POST', headers, body: delivery.body.replace('"total":9', '"total":0.01') });
        assert.equal(tampered.status, 400);
        assert.equal(((await tampered.json()) as { error: string }).error, 'no_matching_signature');
        await receiver.waitFor(/rejected: no_matching_signature/);
        const stale = deliveryHeaders({ messageId: 'msg_stale', timestampSec: ts - 3600, signature: sign(signingKeyFromUuid(sub.uuid), 'msg_stale', ts - 3600, delivery.body), topic: 'order.created', attempt: 1, version: 'test' });
        const replayed = await fetch(receiver.url, { method: 'POST', headers: stale, body: delivery.body });
        assert.equal(replayed.status, 400);
        assert.equal(((await replayed.json()) as { error: string }).error, 'timestamp_too_old');
        assert.doesNotMatch(receiver.stdout(), /msg_forged|processed order\.created msg_stale/);
      } finally {
        await receiver.stop();
        await api.webhooks.delete(sub.uuid);
      }
    });
  }
});
