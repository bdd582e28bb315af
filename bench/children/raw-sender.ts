/**
 * The delivery ceiling: plain undici POSTs of the same bodies to the same receiver at the same
 * concurrency, no database, no signing, no bookkeeping. One shared Agent, like the engine's sender.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { serveIpc } from '../lib/ipc.js';

const now = (): number => performance.timeOrigin + performance.now();

interface RunInput {
  /** target URLs; message i goes to urls[i % urls.length] */
  urls: string[];
  count: number;
  concurrency: number;
  /** the `data` of the message body (an order), rendered per message like the outbox does */
  data: unknown;
  topic: string;
}

const agent = new Agent({ headersTimeout: 15_000, bodyTimeout: 15_000 });

async function run(input: RunInput): Promise<{ startedAt: number; endedAt: number; ok: number; failed: number; bodyBytes: number }> {
  const createdAt = new Date().toISOString().replace('Z', '+00:00');
  const bodies: string[] = [];
  for (let i = 0; i < input.count; i++) {
    const id = `msg_${randomBytes(20).toString('base64url')}`;
    bodies.push(JSON.stringify({ id, topic: input.topic, created_at: createdAt, data: input.data }));
  }
  const ts = String(Math.floor(Date.now() / 1000));
  const fakeSig = `v1,${randomBytes(32).toString('base64')}`;
  let next = 0;
  let ok = 0;
  let failed = 0;
  const startedAt = now();
  const lane = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= input.count) return;
      const body = bodies[i]!;
      try {
        const res = await request(input.urls[i % input.urls.length]!, {
          dispatcher: agent,
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'raw-undici',
            'webhook-id': body.slice(7, 38),
            'webhook-timestamp': ts,
            'webhook-signature': fakeSig,
            'webhook-topic': input.topic,
            'webhook-attempt': '1',
          },
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: input.concurrency }, lane));
  return { startedAt, endedAt: now(), ok, failed, bodyBytes: Buffer.byteLength(bodies[0] ?? '') };
}

serveIpc({ run: (p) => run(p as RunInput) });
