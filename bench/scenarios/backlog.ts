/**
 * 4. Backlog: `storehook serve` on SQLite keeps taking orders at 100/s (one subscription, a healthy
 * receiver) while the queue grows to 100,000 and 1,000,000 messages of another store: retries to
 * 20 dead endpoints (answering 503), 99 % scheduled 1 min…68 h ahead, 1 % due at once (so retries
 * compete with first attempts for slots). Bulk-inserted into the live database between stages.
 * Per stage: first-attempt latency (API answer → receipt), the dispatcher's claim query times
 * (measured inside the engine process), the process RSS and the database size.
 */
import { stat } from 'node:fs/promises';
import { startEngine, type Engine, type EngineStats } from '../lib/engine.js';
import { measureLatency, type LatencyRun } from '../lib/e2e.js';
import { note, status } from '../lib/progress.js';
import { addSubscriptions, createTenant, insertMessagesSqliteBulk, openBenchDb, type BenchDb } from '../lib/seed.js';
import { fmtMB, fmtMs, fmtNum, fmtRatio, round, sleep, summarize, type Summary } from '../lib/stats.js';
import { COLORS, linePanels } from '../lib/svg.js';
import type { Ctx, Goal, ScenarioResult } from '../lib/types.js';

interface Stage {
  backlog: number;
  insertSeconds: number;
  dbBytes: number;
  latency: LatencyRun;
  claimFirst: Summary;
  claimRetry: Summary;
  rss: number;
  maxRss: number;
  heapUsed: number;
  retryAttempts: number;
  engine: Omit<EngineStats, 'claims'> | null;
}

async function fileSize(path: string): Promise<number> {
  let total = 0;
  for (const suffix of ['', '-wal']) total += await stat(`${path}${suffix}`).then((s) => s.size).catch(() => 0);
  return total;
}

/** A deterministic spread of "later": 1 min … 68 h ahead. */
function laterMs(i: number): number {
  const x = Math.sin(i * 12.9898) * 43758.5453;
  const f = x - Math.floor(x);
  return 60_000 + Math.floor(f * 68 * 3_600_000);
}

export const backlog = {
  id: 'backlog',
  title: 'Backlog',
  async run(ctx: Ctx): Promise<ScenarioResult> {
    const sizes = ctx.quick ? [0, 1_000, 5_000] : [0, 100_000, 1_000_000];
    const durationMs = ctx.quick ? 1500 : 20_000;
    const rate = 100;
    const deadEndpoints = 20;
    let db: BenchDb | null = null;
    let engine: Engine | null = null;
    const stages: Stage[] = [];
    try {
      db = await openBenchDb();
      const shop = await createTenant(db, 'backlog');
      await addSubscriptions(db, shop, [`${ctx.receiver.url}/ok/new-0`]);
      const dead = await createTenant(db, 'deadletters');
      const deadSubs = await addSubscriptions(db, dead, Array.from({ length: deadEndpoints }, (_, i) => `${ctx.receiver.url}/fail/dead-${i}`));
      status('starting storehook serve (SQLite)');
      engine = await startEngine({ role: 'serve', name: 'serve-backlog', dataDir: db.dataDir!, ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
      await measureLatency({ receiver: ctx.receiver, apiUrl: engine.url, auth: shop.auth, rate, durationMs: ctx.quick ? 500 : 3000, perOrder: 1, label: 'warm-up' });
      let inserted = 0;
      for (const size of sizes) {
        const add = size - inserted;
        let insertSeconds = 0;
        if (add > 0) {
          const t0 = Date.now();
          const base = Date.now();
          const offset = inserted;
          await insertMessagesSqliteBulk(
            db.file!,
            ctx.template,
            dead.storeId,
            add,
            (j) => {
              const i = offset + j;
              const attempts = 1 + (i % 14);
              return {
                subscription: deadSubs[i % deadSubs.length]!,
                attemptCount: attempts,
                createdAt: base - 3_600_000,
                nextAttemptAt: i % 100 === 0 ? base - 1000 : base + laterMs(i),
              };
            },
            (done) => status(`backlog ${fmtNum(offset + done)}/${fmtNum(size)}: inserting`),
          );
          insertSeconds = (Date.now() - t0) / 1000;
          inserted = size;
          note(`backlog now ${fmtNum(size)} messages (inserted ${fmtNum(add)} in ${insertSeconds.toFixed(1)} s)`);
          await sleep(ctx.quick ? 300 : 2000);
        }
        await engine.reset();
        await ctx.receiver.reset(true);
        const failBefore = (await ctx.receiver.stats()).byKind.fail;
        let latency: LatencyRun;
        try {
          latency = await measureLatency({ receiver: ctx.receiver, apiUrl: engine.url, auth: shop.auth, rate, durationMs, perOrder: 1, pathPrefix: '/ok/new', label: `backlog ${fmtNum(size)}`, drainMs: ctx.quick ? 15_000 : 60_000, stallMs: ctx.quick ? 5000 : 15_000 });
        } catch (err) {
          // The API answered nothing in time: a stage result of its own, not a failed scenario.
          note(`backlog ${fmtNum(size)}: ${err instanceof Error ? err.message : String(err)}`);
          latency = { rate, durationMs, achievedRate: rate, orders: 0, apiErrors: Math.round((rate * durationMs) / 1000), apiErrorKinds: { 'no answer': 1 }, expected: 0, received: 0, missing: 0, beforeAnswer: 0, e2e: summarize([]), api: summarize([]) };
        }
        const failAfter = (await ctx.receiver.stats()).byKind.fail;
        const st = await engine.stats(10_000).catch(() => null);
        const claims = st?.claims ?? [];
        const { claims: _omit, ...engineRest } = st ?? ({ claims: [] } as unknown as EngineStats);
        const stage: Stage = {
          backlog: size,
          insertSeconds,
          dbBytes: await fileSize(db.file!),
          latency,
          claimFirst: summarize(claims.filter((c) => c.kind === 'first').map((c) => c.ms)),
          claimRetry: summarize(claims.filter((c) => c.kind === 'retry').map((c) => c.ms)),
          rss: st?.rss ?? NaN,
          maxRss: st?.maxRss ?? NaN,
          heapUsed: st?.heapUsed ?? NaN,
          retryAttempts: failAfter - failBefore,
          engine: st ? (engineRest as Omit<EngineStats, 'claims'>) : null,
        };
        stages.push(stage);
        note(
          `backlog ${fmtNum(size)}: first-attempt p50 ${fmtMs(latency.e2e.p50)} p99 ${fmtMs(latency.e2e.p99)}; claim(first) p50 ${fmtMs(stage.claimFirst.p50)} p99 ${fmtMs(stage.claimFirst.p99)}; RSS ${fmtMB(stage.rss)}`,
        );
      }
    } finally {
      await engine?.stop();
      await db?.close();
    }
    const base = stages[0]!;
    const last = stages[stages.length - 1]!;
    // the largest stage where the engine still answered the probe (claim times, memory)
    const probed = [...stages].reverse().find((s) => s.engine !== null) ?? base;
    const rows = stages.map((s) => ({
      backlog: fmtNum(s.backlog),
      'db size': fmtMB(s.dbBytes),
      orders: s.latency.orders ? `${fmtNum(s.latency.orders)}${s.latency.apiErrors ? ` (+${fmtNum(s.latency.apiErrors)} unanswered)` : ''}` : 'API did not answer',
      'first-attempt p50': fmtMs(s.latency.e2e.p50),
      p99: fmtMs(s.latency.e2e.p99),
      max: fmtMs(s.latency.e2e.max),
      missing: fmtNum(s.latency.missing),
      'claim first p50': fmtMs(s.claimFirst.p50),
      'claim first p99': fmtMs(s.claimFirst.p99),
      'claim retry p50': fmtMs(s.claimRetry.p50),
      'claim retry p99': fmtMs(s.claimRetry.p99),
      'retry attempts': fmtNum(s.retryAttempts),
      RSS: fmtMB(s.rss),
      'max RSS': fmtMB(s.maxRss),
    }));
    const p99Ratio = last.latency.e2e.p99 / base.latency.e2e.p99;
    const rssRatio = last.maxRss / base.maxRss;
    const goals: Goal[] = [
      { goal: `a ${fmtNum(last.backlog)}-message backlog moves first-attempt p99 by less than 2×`, measured: `${fmtMs(base.latency.e2e.p99)} → ${fmtMs(last.latency.e2e.p99)} (${fmtRatio(p99Ratio)})`, met: p99Ratio < 2 && last.latency.missing === 0 },
      { goal: 'claim query time stays flat', measured: `first p99 ${fmtMs(base.claimFirst.p99)} → ${fmtMs(probed.claimFirst.p99)} at ${fmtNum(probed.backlog)}${probed !== last ? ` (no answer from the engine at ${fmtNum(last.backlog)})` : ''}`, met: probed === last ? probed.claimFirst.p99 < 2 * base.claimFirst.p99 + 1 : false },
      { goal: 'process memory stays flat', measured: `max RSS ${fmtMB(base.maxRss)} → ${fmtMB(probed.maxRss)} at ${fmtNum(probed.backlog)}`, met: probed === last ? rssRatio < 1.5 : null },
    ];
    const x = stages.map((s) => (s.backlog >= 1e6 ? `${s.backlog / 1e6}M` : s.backlog >= 1000 ? `${s.backlog / 1000}k` : String(s.backlog)));
    const svg = linePanels({
      title: 'Backlog: new orders at 100/s while the queue grows',
      subtitle: `storehook serve on SQLite; backlog = retries to dead endpoints, 99 % scheduled later, 1 % due; ${durationMs / 1000} s of orders per stage`,
      xLabels: x,
      xTitle: 'queued messages',
      panels: [
        {
          title: 'First-attempt latency',
          unit: 'ms',
          series: [
            { label: 'p50', values: stages.map((s) => s.latency.e2e.p50), color: COLORS.p50 },
            { label: 'p99', values: stages.map((s) => s.latency.e2e.p99), color: COLORS.p99 },
          ],
        },
        {
          title: 'Claim query time',
          unit: 'ms',
          series: [
            { label: 'first p50', values: stages.map((s) => s.claimFirst.p50), color: COLORS.p50 },
            { label: 'first p99', values: stages.map((s) => s.claimFirst.p99), color: COLORS.p99 },
            { label: 'retry p99', values: stages.map((s) => s.claimRetry.p99), color: COLORS.max, dashed: true },
          ],
        },
        {
          title: 'Process memory (serve)',
          unit: 'MB',
          series: [
            { label: 'RSS at end', values: stages.map((s) => s.rss / 1048576), color: COLORS.sqlite },
            { label: 'max RSS', values: stages.map((s) => s.maxRss / 1048576), color: COLORS.pg3, dashed: true },
          ],
        },
      ],
    });
    return {
      id: 'backlog',
      title: 'Backlog',
      settings: { sizes, ordersPerSecond: rate, secondsPerStage: durationMs / 1000, deadEndpoints, dueFraction: 0.01, database: 'SQLite', bodyBytes: ctx.template.bodyBytes },
      columns: Object.keys(rows[0]!),
      rows,
      headline: {
        p99_base: round(base.latency.e2e.p99, 2),
        p99_max_backlog: round(last.latency.e2e.p99, 2),
        p99_ratio: round(p99Ratio, 2),
        claim_first_p99_base: round(base.claimFirst.p99, 2),
        claim_first_p99_max_backlog: round(last.claimFirst.p99, 2),
        rss_ratio: round(rssRatio, 2),
        probed_backlog: probed.backlog,
        claim_first_p99_probed: round(probed.claimFirst.p99, 2),
        rss_ratio_probed: round(probed.maxRss / base.maxRss, 2),
      },
      goals,
      notes: [
        'Claim times come from inside the engine process (each claim query the dispatcher makes, timed by its own onClaim hook; on SQLite serve in the dispatcher thread), during the measured window only.',
        '`retry attempts` = requests the dead endpoints received during the window: due retries competing with the new orders for delivery slots.',
        base.claimFirst.n === 0 ? 'The claim probe found no Dispatcher.claim method: claim times not measured.' : '',
      ].filter(Boolean),
      data: { stages },
      svg,
    };
  },
};
