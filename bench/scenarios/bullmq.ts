/**
 * 6. The alternative: BullMQ on the machine's Redis plus undici, delivering the same messages
 * (same bodies, same receiver, same signing, same retry policy: 16 attempts, exponential from
 * 15 s) at the same concurrency as one storehook worker. Throughput is measured like storehook's:
 * first receipt → the poll (25 ms) that sees every job `completed` in Redis. Jobs are enqueued
 * with addBulk before the worker starts (enqueue rate shown apart).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { note, status } from '../lib/progress.js';
import { spawnNode, type Child } from '../lib/procs.js';
import { TOPIC } from '../lib/seed.js';
import { fmtNum, fmtRatio, now, round, sig, sleep } from '../lib/stats.js';
import { barChart, COLORS } from '../lib/svg.js';
import type { Ctx, Goal, ScenarioResult } from '../lib/types.js';
import { backendColor, CASES, effectiveConcurrency, runBackend, type CaseResult } from './throughput.js';

const CONNECTION = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

export interface BullCase {
  subs: number;
  concurrency: number;
  messages: number;
  enqueuePerSecond: number;
  perSecond: number | null;
  seconds: number | null;
  duplicates: number;
  error?: string;
}

/** The chart, from the raw figures (also used to redraw it from a results file). */
export function bullmqChart(cases: BullCase[], storehook: CaseResult[], count: number): string {
  return barChart({
    title: 'storehook vs BullMQ + undici: deliveries per second',
    subtitle: `${fmtNum(count)} messages, same bodies, receiver, signing and retry policy, same in-flight limit per worker; higher is better`,
    unit: 'deliveries per second',
    groups: cases.map((c) => ({
      label: `${c.subs} subscription${c.subs > 1 ? 's' : ''} (${c.concurrency} in flight)`,
      bars: [
        { label: 'BullMQ + undici (Redis)', value: c.perSecond, color: COLORS.bullmq },
        ...storehook
          .filter((s) => s.subs === c.subs)
          .map((s) => ({
            label: `storehook, ${s.backend}`,
            value: s.perSecond,
            color: backendColor(s.backend),
            note: s.perSecond && c.perSecond ? `${fmtRatio(s.perSecond / c.perSecond)} BullMQ${s.partial ? ', did not finish' : ''}` : '',
          })),
      ],
    })),
  });
}

export const bullmq = {
  id: 'bullmq',
  title: 'BullMQ + undici (the alternative)',
  async run(ctx: Ctx): Promise<ScenarioResult> {
    if (!ctx.redis) throw new Error('Redis does not answer on 127.0.0.1:6379');
    const count = ctx.quick ? 300 : 20_000;
    const cases: BullCase[] = [];
    let worker: Child | null = null;
    const queueName = `storehook-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
    const queue = new Queue(queueName, { connection: CONNECTION });
    queue.on('error', () => undefined);
    try {
      worker = await spawnNode('bullmq-worker', 'bench/children/bullmq-worker.ts', [], { ipc: true });
      for (const subs of CASES) {
        const concurrency = effectiveConcurrency(subs);
        const keys = Array.from({ length: subs }, () => randomUUID());
        const createdAt = new Date().toISOString().replace('Z', '+00:00');
        const completedBefore = (await queue.getJobCounts('completed')).completed ?? 0;
        const t0 = now();
        for (let start = 0; start < count; start += 1000) {
          const jobs = [];
          for (let i = start; i < Math.min(count, start + 1000); i++) {
            const id = `msg_${randomBytes(20).toString('base64url')}`;
            jobs.push({
              name: TOPIC,
              data: { url: `${ctx.receiver.url}/ok/bull-${subs}-${i % subs}`, id, key: keys[i % subs]!, body: JSON.stringify({ id, topic: TOPIC, created_at: createdAt, data: ctx.template.data }) },
              opts: { jobId: id, attempts: 16, backoff: { type: 'exponential', delay: 15_000 }, removeOnComplete: false, removeOnFail: false },
            });
          }
          await queue.addBulk(jobs);
          status(`BullMQ ${subs} sub(s): enqueued ${fmtNum(Math.min(count, start + 1000))}/${fmtNum(count)}`);
        }
        const enqueuePerSecond = (count / (now() - t0)) * 1000;
        await worker.request('start', { queue: queueName, concurrency });
        await ctx.receiver.reset();
        const released = now();
        await worker.request('run');
        const deadline = now() + (ctx.quick ? 30_000 : Math.max(60_000, count * 20));
        let done = 0;
        let doneAt: number | null = null;
        while (now() < deadline) {
          done = ((await queue.getJobCounts('completed')).completed ?? 0) - completedBefore;
          if (done >= count) {
            doneAt = now();
            break;
          }
          status(`BullMQ ${subs} sub(s): ${fmtNum(done)}/${fmtNum(count)} completed (${fmtNum((done / (now() - released)) * 1000)}/s)`);
          await sleep(25);
        }
        await worker.request('close');
        const rs = await ctx.receiver.stats();
        const seconds = doneAt !== null && rs.firstAt !== null ? (doneAt - rs.firstAt) / 1000 : null;
        const c: BullCase = {
          subs,
          concurrency,
          messages: count,
          enqueuePerSecond,
          perSecond: seconds ? count / seconds : null,
          seconds,
          duplicates: rs.duplicates,
          ...(doneAt === null ? { error: `timed out at ${done}/${count} completed` } : {}),
        };
        cases.push(c);
        note(`BullMQ ${subs} sub(s), concurrency ${concurrency}: ${c.perSecond ? `${fmtNum(c.perSecond)} completed jobs/s` : c.error} (enqueue ${fmtNum(enqueuePerSecond)}/s)`);
      }
    } finally {
      await worker?.stop();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close().catch(() => undefined);
    }

    // storehook's figures from the throughput scenario of this run, or measured here (SQLite).
    let storehook = (ctx.previous.get('throughput')?.data as { results: CaseResult[] } | undefined)?.results;
    if (!storehook) {
      storehook = [];
      note('throughput did not run in this bench: measuring storehook on SQLite for the comparison');
      await runBackend(ctx, 'sqlite', count, storehook);
    }
    const rows: Record<string, string>[] = [];
    const headline: Record<string, number | null> = {};
    for (const c of cases) {
      rows.push({
        system: 'BullMQ + undici (Redis)',
        subscriptions: String(c.subs),
        'in flight': String(c.concurrency),
        'deliveries/s': c.perSecond ? fmtNum(c.perSecond) : c.error ?? '–',
        'storehook ÷ BullMQ': '1.00×',
        'enqueue/s': fmtNum(c.enqueuePerSecond),
        duplicates: fmtNum(c.duplicates),
      });
      headline[`bullmq_${c.subs}sub`] = c.perSecond ? round(c.perSecond, 0) : null;
      for (const s of storehook.filter((r) => r.subs === c.subs)) {
        const ratio = s.perSecond && c.perSecond ? s.perSecond / c.perSecond : null;
        rows.push({
          system: `storehook, ${s.backend}`,
          subscriptions: String(s.subs),
          'in flight': String(effectiveConcurrency(s.subs, s.backend.includes('3 workers') ? 3 : 1)),
          'deliveries/s': s.perSecond ? `${fmtNum(s.perSecond)}${s.partial ? ' (did not finish)' : ''}` : s.error ?? '–',
          'storehook ÷ BullMQ': fmtRatio(ratio),
          'enqueue/s': 'in the order transaction',
          duplicates: fmtNum(s.duplicates),
        });
        const key = `${s.backend.startsWith('SQLite') ? 'sqlite' : s.backend.includes('3') ? 'pg3' : 'pg1'}_${s.subs}sub_vs_bullmq`;
        headline[key] = ratio === null ? null : sig(ratio);
      }
    }
    const sqliteRatios = storehook.filter((s) => s.backend.startsWith('SQLite')).map((s) => {
      const c = cases.find((x) => x.subs === s.subs);
      return s.perSecond && c?.perSecond ? s.perSecond / c.perSecond : 0;
    });
    const worst = Math.min(...sqliteRatios);
    const goals: Goal[] = [{ goal: 'at least the BullMQ baseline’s throughput, with stronger guarantees (SQLite)', measured: `storehook ÷ BullMQ: ${sqliteRatios.map((r) => fmtRatio(r)).join(' (1 sub), ')} (10 subs)`, met: worst >= 1 }];
    const svg = bullmqChart(cases, storehook, count);
    return {
      id: 'bullmq',
      title: 'BullMQ + undici (the alternative)',
      settings: { messages: count, attempts: 16, backoff: 'exponential, 15 s', redis: ctx.machine.redis ?? '?', bullmq: '~6.7', concurrency: 'same in-flight limit as one storehook worker' },
      columns: ['system', 'subscriptions', 'in flight', 'deliveries/s', 'storehook ÷ BullMQ', 'enqueue/s', 'duplicates'],
      rows,
      headline,
      goals,
      notes: [
        'Guarantees — storehook: the message rows are written in the same database transaction as the order, so a committed order always has its messages and a rolled-back one never does; every attempt is recorded; a crash of any process loses nothing (SQLite WAL, synchronous=NORMAL survives process crashes; FULL also power loss; PostgreSQL per its fsync settings); duplicates only for attempts in flight at a crash.',
        'Guarantees — BullMQ: the enqueue is a second write to another system after the order commits: a crash between the two loses the event (or, enqueueing first, announces an order that was rolled back); the job is as durable as Redis is (this machine’s Redis runs with no RDB/AOF: a Redis restart loses every queued job; with appendfsync everysec up to ~1 s); a worker crash retries the job after its lock expires (at least once). No per-endpoint in-flight cap (per-group limits are a BullMQ Pro feature).',
        'BullMQ ran with the same in-flight limit as one storehook worker (8 for 1 subscription, 64 for 10), so the comparison is per worker process.',
      ],
      data: { bullmq: cases, storehook },
      svg,
    };
  },
};
