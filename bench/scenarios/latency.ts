/**
 * 2. End-to-end latency: `storehook serve` (API + dispatcher in one process, SQLite, the default
 * deployment), one store with one subscription; orders through POST /api/v1/orders at 100/s and
 * 1,000/s, open loop; p50/p95/p99/max from the API's answer to the receiver's receipt.
 */
import { startEngine, type Engine } from '../lib/engine.js';
import { measureLatency, type LatencyRun } from '../lib/e2e.js';
import { note, status } from '../lib/progress.js';
import { addSubscriptions, createTenant, openBenchDb, type BenchDb } from '../lib/seed.js';
import { fmtMs, fmtNum, round } from '../lib/stats.js';
import { barChart, COLORS } from '../lib/svg.js';
import type { Ctx, Goal, ScenarioResult } from '../lib/types.js';
import { sumStats, statsOrNull } from './throughput.js';

export const latency = {
  id: 'latency',
  title: 'End-to-end latency',
  async run(ctx: Ctx): Promise<ScenarioResult> {
    const rates = [100, 1000];
    const durationMs = ctx.quick ? 1000 : 30_000;
    let db: BenchDb | null = null;
    let engine: Engine | null = null;
    const runs: (LatencyRun & { engineCpuPct: number | null })[] = [];
    try {
      db = await openBenchDb();
      const tenant = await createTenant(db, 'latency');
      await addSubscriptions(db, tenant, [`${ctx.receiver.url}/ok/lat-0`]);
      status('starting storehook serve (SQLite)');
      engine = await startEngine({ role: 'serve', name: 'serve-latency', dataDir: db.dataDir!, ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
      // Warm-up: JIT, connections, SQLite page cache. Not recorded.
      await measureLatency({ receiver: ctx.receiver, apiUrl: engine.url, auth: tenant.auth, rate: 100, durationMs: ctx.quick ? 500 : 3000, perOrder: 1, label: 'warm-up' });
      for (const rate of rates) {
        await engine.reset();
        // 30 s at 100/s, 10 s at 1,000/s (10,000 orders each side of p99); quick: 100 orders per rate
        const ms = ctx.quick ? (100 / rate) * 1000 : rate >= 1000 ? 10_000 : durationMs;
        const r = await measureLatency({ receiver: ctx.receiver, apiUrl: engine.url, auth: tenant.auth, rate, durationMs: ms, perOrder: 1, label: `${rate} orders/s`, drainMs: ctx.quick ? 15_000 : 60_000 });
        const { cpuPct } = sumStats(await statsOrNull([engine]));
        runs.push({ ...r, engineCpuPct: cpuPct });
        note(`${rate} orders/s: e2e p50 ${fmtMs(r.e2e.p50)}, p99 ${fmtMs(r.e2e.p99)}, max ${fmtMs(r.e2e.max)}; ${r.missing} missing; achieved ${fmtNum(r.achievedRate)}/s`);
      }
    } finally {
      await engine?.stop();
      await db?.close();
    }
    const rows = runs.map((r) => ({
      'orders/s': fmtNum(r.rate),
      achieved: `${fmtNum(r.achievedRate)}/s`,
      orders: fmtNum(r.orders),
      'e2e p50': fmtMs(r.e2e.p50),
      'e2e p95': fmtMs(r.e2e.p95),
      'e2e p99': fmtMs(r.e2e.p99),
      'e2e max': fmtMs(r.e2e.max),
      'API p50': fmtMs(r.api.p50),
      'API p99': fmtMs(r.api.p99),
      missing: fmtNum(r.missing),
      'API errors': fmtNum(r.apiErrors),
      'engine CPU': r.engineCpuPct === null ? '–' : `${r.engineCpuPct}%`,
    }));
    const at100 = runs.find((r) => r.rate === 100);
    const goals: Goal[] = [
      { goal: 'p99 commit→receipt ≤ 25 ms at 100 orders/s', measured: at100 ? fmtMs(at100.e2e.p99) : 'not measured', met: at100 ? at100.e2e.p99 <= 25 && at100.missing === 0 : null },
    ];
    const headline: Record<string, number | null> = {};
    for (const r of runs) {
      headline[`p50_${r.rate}`] = round(r.e2e.p50, 2);
      headline[`p99_${r.rate}`] = round(r.e2e.p99, 2);
      headline[`max_${r.rate}`] = round(r.e2e.max, 1);
      headline[`missing_${r.rate}`] = r.missing;
    }
    const svg = barChart({
      title: 'End-to-end latency: API answer → receiver receipt',
      subtitle: `storehook serve on SQLite, 1 subscription, orders via POST /api/v1/orders open loop, ${ctx.quick ? '100 orders per rate' : '30 s at 100/s, 10 s at 1,000/s'}; lower is better`,
      unit: 'milliseconds',
      log: true,
      groups: runs.map((r) => ({
        label: `${fmtNum(r.rate)} orders/s (achieved ${fmtNum(r.achievedRate)}/s${r.missing ? `, ${r.missing} missing` : ''})`,
        bars: [
          { label: 'p50', value: Math.max(r.e2e.p50, 0.01), color: COLORS.p50 },
          { label: 'p95', value: Math.max(r.e2e.p95, 0.01), color: COLORS.p95 },
          { label: 'p99', value: Math.max(r.e2e.p99, 0.01), color: COLORS.p99, note: r.rate === 100 ? 'goal ≤ 25 ms' : '' },
          { label: 'max', value: Math.max(r.e2e.max, 0.01), color: COLORS.max },
        ],
      })),
    });
    return {
      id: 'latency',
      title: 'End-to-end latency',
      settings: { durationSeconds: ctx.quick ? 'quick: 100 orders per rate' : { '100': 30, '1000': 10 }, rates, subscriptions: 1, database: 'SQLite', role: 'serve (API + dispatcher)', logLevel: 'warn' },
      columns: Object.keys(rows[0] ?? { 'orders/s': '' }),
      rows,
      headline,
      goals,
      notes: [
        'e2e: from the moment the load generator has the API answer (the order is committed) to the moment the receiver has read the whole message; both clocks are the same machine clock (performance.timeOrigin + now()).',
        'API: from the scheduled send time (open loop) to the answer; includes queueing when the server falls behind.',
        ...runs.filter((r) => r.apiErrors > 0).map((r) => `${r.rate}/s: API errors ${JSON.stringify(r.apiErrorKinds)}`),
        ...runs.filter((r) => r.beforeAnswer > 0).map((r) => `${r.rate}/s: ${r.beforeAnswer} message(s) arrived before the API answer reached the client (negative e2e; counted as they are).`),
      ],
      data: { runs },
      svg,
    };
  },
};
