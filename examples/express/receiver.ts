/**
 * A storehook webhook receiver on Express (4 or 5).
 *
 *   STOREHOOK_SECRET=<subscription uuid or whsec_…> PORT=3000 npx tsx examples/express/receiver.ts
 *
 * The one thing to get right: `express.raw()` on the webhook route, so `req.body` is the exact
 * bytes that were signed. `express.json()` would hand you re-serialisable objects, and the
 * signature cannot be checked on those. (Mount express.json() on your other routes only.)
 * Each message is processed once: retries and resends repeat its `webhook-id`.
 */
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
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

const app = express();

app.post('/hooks', express.raw({ type: 'application/json', limit: '5mb' }), async (req: Request, res: Response) => {
  if (!Buffer.isBuffer(req.body)) {
    res.status(415).json({ error: 'expected Content-Type: application/json' });
    return;
  }
  let message: WebhookMessage;
  try {
    message = verify(req.body, req.headers, secret) as WebhookMessage;
  } catch (err) {
    if (!(err instanceof WebhookVerificationError)) throw err;
    console.log(`rejected: ${err.code}: ${err.message}`);
    res.status(400).json({ error: err.code, message: err.message });
    return;
  }
  const id = String(req.headers['webhook-id']);
  if (processed.has(id)) {
    console.log(`duplicate ${id} ignored`);
    res.status(200).json({ duplicate: true });
    return;
  }
  processed.add(id);
  try {
    await handle(message);
    console.log(`processed ${message.topic} ${id}`);
    res.status(200).json({ ok: true });
  } catch (err) {
    processed.delete(id); // not done: let storehook retry it
    console.error(`failed ${id}:`, err);
    res.status(500).json({ error: 'processing failed' });
  }
});

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(`listening on http://${address}:${port}/hooks`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
