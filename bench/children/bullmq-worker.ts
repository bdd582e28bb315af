/**
 * The alternative a team would build: a BullMQ Worker (Redis) that POSTs each job with undici,
 * signed like storehook signs (Standard Webhooks HMAC), retried with the same policy (16 attempts,
 * 15 s × 2^(k−1): BullMQ's built-in exponential backoff is exactly that formula).
 */
import { createHmac } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import { Agent, request } from 'undici';
import { serveIpc } from '../lib/ipc.js';

interface JobData {
  url: string;
  body: string;
  id: string;
  /** the HMAC key (a subscription uuid) */
  key: string;
}

const agent = new Agent({ headersTimeout: 15_000, bodyTimeout: 15_000 });
let worker: Worker<JobData> | null = null;

async function deliver(job: Job<JobData>): Promise<void> {
  const { url, body, id, key } = job.data;
  const ts = Math.floor(Date.now() / 1000);
  const signature = `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
  const res = await request(url, {
    dispatcher: agent,
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'bullmq-bench',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signature,
      'webhook-topic': 'order.created',
      'webhook-attempt': String(job.attemptsMade + 1),
    },
  });
  await res.body.dump();
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
}

serveIpc(
  {
    start: async (p) => {
      const { queue, concurrency } = p as { queue: string; concurrency: number };
      await worker?.close();
      worker = new Worker<JobData>(queue, deliver, {
        connection: { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null },
        concurrency,
        autorun: false,
      });
      worker.on('error', () => undefined);
      await worker.waitUntilReady();
      return true;
    },
    run: () => {
      void worker?.run();
      return true;
    },
    close: async () => {
      await worker?.close();
      worker = null;
      return true;
    },
  },
  () => {
    void (worker?.close() ?? Promise.resolve()).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  },
);
