/**
 * 5. Noisy neighbour: `storehook serve` on SQLite; one store with 5 healthy subscriptions
 * (baseline), then one with 5 healthy and 5 that never answer (each request ends at the delivery
 * timeout). Measured for the healthy half only, with and without the hanging half:
 * - throughput: N seeded messages per subscription made due at once; healthy deliveries per second;
 * - latency: orders at 100/s through the API (each → 5 or 10 messages), answer → receipt.
 * The delivery timeout is lowered (STOREHOOK_REQUEST_TIMEOUT_MS, 5 s; quick 1 s) so the run sees
 * many timeouts; the mechanism is the same at the default 15 s.
 */
import { startEngine, type Engine } from '../lib/engine.js';
import { measureLatency, type LatencyRun } from '../lib/e2e.js';
import { note, status } from '../lib/progress.js';
import { addSubscriptions, countByStatus, createTenant, insertMessages, openBenchDb, releaseParked, type BenchDb, type Tenant } from '../lib/seed.js';
import { fmtMs, fmtNum, fmtRatio, now, round } from '../lib/stats.js';
import { barChart, COLORS, stackSvgs } from '../lib/svg.js';
import type { Ctx, Goal, ScenarioResult } from '../lib/types.js';
import { stallReason, statsOrNull, waitDelivered } from './throughput.js';

interface Phase {
  name: string;
  healthy: number;
  hanging: number;
  throughput: { messages: number; perSecond: number | null; seconds: number | null; error?: string };
  latency: LatencyRun;
  hungRequests: number;
}

export const noisy = {
  id: 'noisy',
  title: 'Noisy neighbour',
  async run(ctx: Ctx): Promise<ScenarioResult> {
    const perSub = ctx.quick ? 100 : 2000;
    const timeoutMs = ctx.quick ? 1000 : 5000;
    const durationMs = ctx.quick ? 1500 : 20_000;
    const rate = 100;
    let db: BenchDb | null = null;
    let engine: Engine | null = null;
    const phases: Phase[] = [];
    try {
      db = await openBenchDb();
      const calm = await createTenant(db, 'calm');
      const calmSubs = await addSubscriptions(db, calm, Array.from({ length: 5 }, (_, i) => `${ctx.receiver.url}/ok/calm-h${i}`));
      const loud = await createTenant(db, 'loud');
      const loudHealthy = await addSubscriptions(db, loud, Array.from({ length: 5 }, (_, i) => `${ctx.receiver.url}/ok/loud-h${i}`));
      const loudHanging = await addSubscriptions(db, loud, Array.from({ length: 5 }, (_, i) => `${ctx.receiver.url}/hang/loud-${i}`));
      status('starting storehook serve (SQLite)');
      engine = await startEngine({
        role: 'serve',
        name: 'serve-noisy',
        dataDir: db.dataDir!,
        env: { STOREHOOK_REQUEST_TIMEOUT_MS: String(timeoutMs), STOREHOOK_CONNECT_TIMEOUT_MS: String(Math.min(timeoutMs, 5000)) },
        ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}),
      });
      await measureLatency({ receiver: ctx.receiver, apiUrl: engine.url, auth: calm.auth, rate, durationMs: ctx.quick ? 500 : 3000, perOrder: 5, pathPrefix: '/ok/calm', label: 'warm-up' });

      const phase = async (name: string, tenant: Tenant, healthy: string[], hanging: string[], prefix: string): Promise<void> => {
        const subs = [...healthy, ...hanging];
        const parkedAt = Date.now() + 86_400_000 + Math.floor(Math.random() * 1e6);
        const base = Date.now();
        const count = perSub * subs.length;
        status(`${name}: seeding ${fmtNum(count)} messages`);
        await insertMessages(db!, ctx.template, tenant.storeId, count, (i) => ({ subscription: subs[i % subs.length]!, nextAttemptAt: parkedAt, createdAt: base + Math.floor(i / subs.length) }));
        const before = await countByStatus(db!, 'delivered');
        await ctx.receiver.reset();
        const released = now();
        await releaseParked(db!, parkedAt);
        const target = perSub * healthy.length;
        const stallMs = Math.max(timeoutMs * 3, ctx.quick ? 5000 : 15_000);
        const w = await waitDelivered(db!, before, target, { timeoutMs: ctx.quick ? 30_000 : 180_000, stallMs, label: `${name}: throughput`, started: released });
        const rs = await ctx.receiver.stats();
        const seconds = w.doneAt !== null && rs.firstAt !== null ? (w.doneAt - rs.firstAt) / 1000 : null;
        const error = w.doneAt === null ? (w.stalled ? stallReason(w.delivered, target, await statsOrNull([engine!]), stallMs) : `timed out at ${w.delivered}/${target}`) : undefined;
        note(`${name}: healthy throughput ${seconds ? `${fmtNum(target / seconds)}/s` : error}`);
        const latency = await measureLatency({ receiver: ctx.receiver, apiUrl: engine!.url, auth: tenant.auth, rate, durationMs, perOrder: healthy.length, pathPrefix: prefix, label: `${name}: ${rate} orders/s`, stallMs: timeoutMs + 5000, drainMs: ctx.quick ? 15_000 : 60_000 });
        const hung = (await ctx.receiver.stats()).byKind.hang;
        note(`${name}: healthy e2e p50 ${fmtMs(latency.e2e.p50)} p99 ${fmtMs(latency.e2e.p99)}; ${latency.missing} missing`);
        phases.push({
          name,
          healthy: healthy.length,
          hanging: hanging.length,
          throughput: { messages: target, perSecond: seconds ? target / seconds : null, seconds, ...(error ? { error } : {}) },
          latency,
          hungRequests: hung,
        });
      };
      await phase('5 healthy (baseline)', calm, calmSubs, [], '/ok/calm');
      await phase('5 healthy + 5 hanging', loud, loudHealthy, loudHanging, '/ok/loud');
    } finally {
      await ctx.receiver.release().catch(() => undefined);
      await engine?.stop();
      await db?.close();
    }
    const [base, noisyPhase] = phases as [Phase, Phase];
    const tpRatio = base.throughput.perSecond && noisyPhase?.throughput.perSecond ? noisyPhase.throughput.perSecond / base.throughput.perSecond : null;
    const rows = phases.map((p) => ({
      subscriptions: p.name,
      'healthy deliveries/s': p.throughput.perSecond ? fmtNum(p.throughput.perSecond) : p.throughput.error?.startsWith('stalled') ? 'stalled' : 'timed out',
      'vs baseline': p === base ? '1.00×' : fmtRatio(tpRatio),
      'e2e p50': fmtMs(p.latency.e2e.p50),
      'e2e p95': fmtMs(p.latency.e2e.p95),
      'e2e p99': fmtMs(p.latency.e2e.p99),
      'e2e max': fmtMs(p.latency.e2e.max),
      missing: fmtNum(p.latency.missing),
      'hung requests': fmtNum(p.hungRequests),
    }));
    const goals: Goal[] = [
      { goal: 'the healthy half keeps ≥ 90 % of its throughput', measured: tpRatio === null ? 'not measured' : `${fmtRatio(tpRatio)} of baseline`, met: tpRatio === null ? null : tpRatio >= 0.9 },
      {
        goal: 'healthy latency (not a goal in the issue; shown for the record)',
        measured: noisyPhase ? `p99 ${fmtMs(base.latency.e2e.p99)} → ${fmtMs(noisyPhase.latency.e2e.p99)}` : '–',
        met: null,
      },
    ];
    const svg = stackSvgs([
      barChart({
        title: 'Noisy neighbour: healthy deliveries per second',
        subtitle: `${fmtNum(perSub)} messages per subscription made due at once; hanging half ends at the ${timeoutMs / 1000} s timeout; higher is better`,
        unit: 'healthy deliveries per second',
        groups: [{ label: 'healthy half', bars: phases.map((p) => ({ label: p.name, value: p.throughput.perSecond, color: p.hanging ? COLORS.noisy : COLORS.healthy, ...(p !== base && tpRatio !== null ? { note: `${fmtRatio(tpRatio)} baseline` } : {}) })) }],
      }),
      barChart({
        title: 'Noisy neighbour: healthy end-to-end latency at 100 orders/s',
        subtitle: 'API answer → receipt, healthy subscriptions only; lower is better',
        unit: 'milliseconds',
        log: true,
        groups: phases.map((p) => ({
          label: p.name,
          bars: (['p50', 'p95', 'p99', 'max'] as const).map((k) => ({ label: k, value: Math.max(0.01, p.latency.e2e[k]), color: COLORS[k] })),
        })),
      }),
    ]);
    return {
      id: 'noisy',
      title: 'Noisy neighbour',
      settings: { messagesPerSubscription: perSub, requestTimeoutMs: timeoutMs, ordersPerSecond: rate, latencySeconds: durationMs / 1000, database: 'SQLite' },
      columns: Object.keys(rows[0]!),
      rows,
      headline: {
        healthy_baseline: base.throughput.perSecond ? round(base.throughput.perSecond, 0) : null,
        healthy_with_hanging: noisyPhase?.throughput.perSecond ? round(noisyPhase.throughput.perSecond, 0) : null,
        ratio: tpRatio === null ? null : round(tpRatio, 2),
        p99_baseline: round(base.latency.e2e.p99, 1),
        p99_with_hanging: noisyPhase ? round(noisyPhase.latency.e2e.p99, 1) : null,
      },
      goals,
      notes: [
        `Hanging requests hold a delivery slot until the ${timeoutMs / 1000} s timeout; the dispatcher caps each subscription at 8 in flight, so the 5 hanging subscriptions hold up to 40 of the 64 slots.`,
        'Latency phase: the hanging half keeps receiving new messages too (each order goes to all 10 subscriptions).',
        ...phases.filter((p) => p.throughput.error).map((p) => `${p.name}: ${p.throughput.error}`),
      ],
      data: { phases },
      svg,
    };
  },
};
