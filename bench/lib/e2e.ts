/**
 * End-to-end latency: orders created through the API at a fixed open-loop rate; for each, the time
 * from the API's answer (the client has it: the order is committed) to the receiver's receipt of
 * the order's message. Used by the latency, backlog and noisy-neighbour scenarios.
 */
import { openLoopOrders } from './load.js';
import { status } from './progress.js';
import { fmtNum, now, sleep, summarize, type Summary } from './stats.js';
import type { Receiver } from './types.js';

export interface LatencyRun {
  rate: number;
  durationMs: number;
  achievedRate: number;
  orders: number;
  apiErrors: number;
  apiErrorKinds: Record<string, number>;
  /** messages expected: orders × subscriptions that match `pathPrefix` */
  expected: number;
  received: number;
  missing: number;
  /** receipt before the API answer reached the client (delivery raced the HTTP response) */
  beforeAnswer: number;
  /** answer → receipt, ms */
  e2e: Summary;
  /** scheduled send → answer, ms (includes client-side queueing: open loop) */
  api: Summary;
}

export async function measureLatency(o: {
  receiver: Receiver;
  apiUrl: string;
  auth: string;
  rate: number;
  durationMs: number;
  /** messages per order that count (the subscriptions at paths starting with pathPrefix) */
  perOrder: number;
  /** only receipts at paths starting with this count, e.g. `/ok/h` (healthy half) */
  pathPrefix?: string;
  label: string;
  /** give up waiting for the last messages after this long without progress */
  stallMs?: number;
  /** how long to wait for the last API answers (default 30 s) */
  drainMs?: number;
}): Promise<LatencyRun> {
  await o.receiver.reset(true);
  const run = await openLoopOrders({
    baseUrl: o.apiUrl,
    auth: o.auth,
    rate: o.rate,
    durationMs: o.durationMs,
    drainMs: o.drainMs ?? 30_000,
    onTick: (sent, answered) => status(`${o.label}: ${fmtNum(sent)} orders sent, ${fmtNum(answered)} answered`),
  });
  if (run.sent.length === 0) {
    throw new Error(`${o.label}: the API answered none of ${run.errors + run.abandoned} orders: ${JSON.stringify({ ...run.errorKinds, ...(run.abandoned ? { unanswered: run.abandoned } : {}) })}`);
  }
  const expected = run.sent.length * o.perOrder;
  const prefix = o.pathPrefix ?? '/ok/';
  // Wait for the messages: until all arrived, or nothing new for stallMs, or 60 s.
  const deadline = now() + 60_000;
  let last = -1;
  let lastChange = now();
  let got = 0;
  while (now() < deadline) {
    const st = await o.receiver.stats();
    got = Object.entries(st.okPerPath).reduce((a, [p, n]) => (p.startsWith(prefix) ? a + n : a), 0);
    if (got >= expected) break;
    if (got !== last) {
      last = got;
      lastChange = now();
    } else if (now() - lastChange > (o.stallMs ?? 5000)) break;
    status(`${o.label}: waiting for messages, ${fmtNum(got)}/${fmtNum(expected)}`);
    await sleep(50);
  }
  const { receipts, paths } = await o.receiver.receipts();
  const answered = new Map<number, number>();
  for (const s of run.sent) answered.set(s.orderId, s.answeredAt);
  const e2e: number[] = [];
  let beforeAnswer = 0;
  for (let i = 0; i < receipts.length; i += 3) {
    const path = paths[receipts[i + 2]!]!;
    if (!path.startsWith(prefix)) continue;
    const at = answered.get(receipts[i]!);
    if (at === undefined) continue;
    const d = receipts[i + 1]! - at;
    if (d < 0) beforeAnswer++;
    e2e.push(d);
  }
  return {
    rate: o.rate,
    durationMs: o.durationMs,
    achievedRate: run.achievedRate,
    orders: run.sent.length,
    apiErrors: run.errors + run.abandoned,
    apiErrorKinds: { ...run.errorKinds, ...(run.abandoned ? { 'unanswered after 30 s': run.abandoned } : {}) },
    expected,
    received: e2e.length,
    missing: Math.max(0, expected - e2e.length),
    beforeAnswer,
    e2e: summarize(e2e),
    api: summarize(run.sent.map((s) => s.answeredAt - s.scheduledAt)),
  };
}
