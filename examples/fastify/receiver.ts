/**
 * A storehook webhook receiver on Fastify (4 or 5).
 *
 *   STOREHOOK_SECRET=<subscription uuid or whsec_…> PORT=3000 npx tsx examples/fastify/receiver.ts
 *
 * Fastify parses JSON bodies by default, and the signature cannot be checked on parsed JSON. The
 * webhook route lives in its own plugin (an encapsulated scope) whose JSON parser hands over the
 * raw Buffer instead; the rest of the app keeps the normal parser.
 * Each message is processed once: retries and resends repeat its `webhook-id`.
 */
import Fastify from 'fastify';
import type { WebhookMessage } from 'storehook/client';
import { verify, WebhookVerificationError } from 'storehook/verify';

const secret = process.env.STOREHOOK_SECRET;
if (!secret) {
  console.error('Set STOREHOOK_SECRET to the subscription uuid (or the whsec_… secret `storehook listen` prints).');
  process.exit(2);
}

/** webhook-ids already processed (in production: a table with a unique key on the id). */
const processed = new Set<string>();

async function handle(message: WebhookMessage): Promise<void> {
  if (message.topic === 'webhook.test') return;
  const order = message.data;
  console.log(`  order ${order.id}: ${order.status}, ${order.total} ${order.currency}`);
}

const app = Fastify({ logger: false });

await app.register(async (hooks) => {
  // Only in this scope: application/json bodies arrive as the raw bytes.
  hooks.removeContentTypeParser('application/json');
  hooks.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 5 * 1024 * 1024 }, (_request, body, done) => done(null, body));

  hooks.post('/hooks', async (request, reply) => {
    let message: WebhookMessage;
    try {
      message = verify(request.body as Buffer, request.headers, secret) as WebhookMessage;
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      console.log(`rejected: ${err.code}: ${err.message}`);
      return reply.code(400).send({ error: err.code, message: err.message });
    }
    const id = String(request.headers['webhook-id']);
    if (processed.has(id)) {
      console.log(`duplicate ${id} ignored`);
      return { duplicate: true };
    }
    processed.add(id);
    try {
      await handle(message);
    } catch (err) {
      processed.delete(id); // not done: let storehook retry it
      console.error(`failed ${id}:`, err);
      return reply.code(500).send({ error: 'processing failed' });
    }
    console.log(`processed ${message.topic} ${id}`);
    return { ok: true };
  });
});

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
console.log(`listening on ${address}/hooks`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void app.close().then(() => process.exit(0)));
