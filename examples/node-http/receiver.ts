/**
 * A storehook webhook receiver on plain node:http.
 *
 *   STOREHOOK_SECRET=<subscription uuid or whsec_…> PORT=3000 npx tsx examples/node-http/receiver.ts
 *
 * 1. Read the raw body bytes: the signature covers them exactly, so never verify re-serialised JSON.
 * 2. Verify with storehook/verify (signature and timestamp); answer 400 if that fails.
 * 3. Process each message once: retries and resends repeat the same `webhook-id`, so remember the
 *    ids already processed (here in memory; in production a table with a unique key on the id,
 *    written in the same transaction as the work).
 * 4. Answer 2xx quickly (within 15 s); anything else makes storehook retry later.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookMessage } from 'storehook/client';
import { verify, WebhookVerificationError } from 'storehook/verify';

const secret = process.env.STOREHOOK_SECRET;
if (!secret) {
  console.error('Set STOREHOOK_SECRET to the subscription uuid (or the whsec_… secret `storehook listen` prints).');
  process.exit(2);
}

/** webhook-ids already processed (or being processed right now). */
const processed = new Set<string>();

async function handle(message: WebhookMessage): Promise<void> {
  // Your work goes here: update the ERP, print a packing slip, send a thank-you e-mail, …
  if (message.topic === 'webhook.test') return;
  const order = message.data;
  console.log(`  order ${order.id}: ${order.status}, ${order.total} ${order.currency}`);
}

function readRawBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 5 * 1024 * 1024) req.destroy(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const server = createServer(async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/hooks') return reply(res, 404, { error: 'POST /hooks' });
  let message: WebhookMessage;
  try {
    const raw = await readRawBody(req);
    message = verify(raw, req.headers, secret) as WebhookMessage;
  } catch (err) {
    if (err instanceof WebhookVerificationError) {
      console.log(`rejected: ${err.code}: ${err.message}`);
      return reply(res, 400, { error: err.code, message: err.message });
    }
    return reply(res, 400, { error: 'unreadable request' });
  }
  const id = String(req.headers['webhook-id']);
  if (processed.has(id)) {
    console.log(`duplicate ${id} ignored`);
    return reply(res, 200, { duplicate: true });
  }
  processed.add(id);
  try {
    await handle(message);
    console.log(`processed ${message.topic} ${id}`);
    reply(res, 200, { ok: true });
  } catch (err) {
    processed.delete(id); // not done: let storehook retry it
    console.error(`failed ${id}:`, err);
    reply(res, 500, { error: 'processing failed' });
  }
});

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(`listening on http://${address}:${port}/hooks`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
