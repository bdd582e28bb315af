/**
 * Open-loop load: orders are sent at fixed times (t0 + i/rate) whatever the server does, so a slow
 * server shows up as latency, not as a politely lower rate (no coordinated omission). API latency
 * counts from the scheduled time; the answer time is what end-to-end latency starts from.
 */
import { Pool } from 'undici';
import { sampleOrder } from './seed.js';
import { now, sleep } from './stats.js';

export interface SentOrder {
  scheduledAt: number;
  answeredAt: number;
  orderId: number;
  status: number;
}

export interface OpenLoopResult {
  sent: SentOrder[];
  errors: number;
  /** error kinds and how often: `HTTP 500`, `UND_ERR_SOCKET`, … */
  errorKinds: Record<string, number>;
  /** requests still unanswered when the time ran out (not counted in sent) */
  abandoned: number;
  startedAt: number;
  endedAt: number;
  achievedRate: number;
}

export async function openLoopOrders(o: {
  baseUrl: string;
  auth: string;
  rate: number;
  durationMs: number;
  /** how long to wait for the last answers */
  drainMs?: number;
  onTick?: (sent: number, answered: number) => void;
}): Promise<OpenLoopResult> {
  const pool = new Pool(o.baseUrl, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
  const total = Math.max(1, Math.round((o.rate * o.durationMs) / 1000));
  const interval = 1000 / o.rate;
  const sent: SentOrder[] = [];
  let errors = 0;
  const errorKinds: Record<string, number> = {};
  const fail = (kind: string): void => {
    errors++;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };
  let inFlight = 0;
  let issued = 0;
  /** set when the pool is torn down: the aborts that follow are the `abandoned` ones, not errors */
  let tornDown = false;
  const bodies = Array.from({ length: 16 }, (_, i) => JSON.stringify(sampleOrder(i)));
  const fire = (scheduledAt: number, i: number): void => {
    inFlight++;
    pool
      .request({
        path: '/api/v1/orders',
        method: 'POST',
        headers: { authorization: o.auth, 'content-type': 'application/json' },
        body: bodies[i % bodies.length]!,
      })
      .then(async (res) => {
        const text = await res.body.text();
        const answeredAt = now();
        if (res.statusCode !== 200) {
          fail(`HTTP ${res.statusCode}: ${text.slice(0, 120)}`);
          return;
        }
        const m = /"data":\{"id":(\d+)/.exec(text);
        sent.push({ scheduledAt, answeredAt, orderId: m ? Number(m[1]) : -1, status: res.statusCode });
      })
      .catch((err: unknown) => {
        if (tornDown) return;
        fail((err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err)));
      })
      .finally(() => {
        inFlight--;
      });
  };
  const startedAt = now();
  let lastTick = 0;
  while (issued < total) {
    const t = now();
    const due = Math.min(total, Math.floor((t - startedAt) / interval) + 1);
    while (issued < due) {
      fire(startedAt + issued * interval, issued);
      issued++;
    }
    if (o.onTick && t - lastTick > 250) {
      lastTick = t;
      o.onTick(issued, sent.length);
    }
    const nextAt = startedAt + issued * interval;
    const wait = nextAt - now();
    // setTimeout has ~1 ms granularity: sleep when there is time, otherwise yield.
    if (wait > 2) await sleep(Math.min(wait - 1, 50));
    else await new Promise((r) => setImmediate(r));
  }
  const issuedAt = now();
  const drainUntil = issuedAt + (o.drainMs ?? 30_000);
  while (inFlight > 0 && now() < drainUntil) await sleep(10);
  const abandoned = inFlight;
  tornDown = true;
  await pool.destroy().catch(() => undefined);
  return { sent, errors, errorKinds, abandoned, startedAt, endedAt: issuedAt, achievedRate: (issued / (issuedAt - startedAt)) * 1000 };
}
