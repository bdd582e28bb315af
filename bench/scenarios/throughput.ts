/**
 * 1. Delivery throughput: N messages (20,000; quick 1,000) to 1 and to 10 subscriptions on a
 * receiver that answers 200 at once. Durable deliveries per second: the clock stops when the
 * database says every message is `delivered` (each attempt row written, each message marked, both
 * committed), polled every 25 ms. The clock starts at the first request the receiver sees, so
 * process start-up and the poll interval are not counted (release→first receipt is shown apart).
 *
 * Backends: SQLite (one `worker`), PostgreSQL with 1 and then 3 `worker` processes on one
 * database. Ceiling: the raw undici sender, same bodies, same receiver, same concurrency
 * (min(deliveryConcurrency, subscriptions × maxInFlightPerSubscription) of one worker), measured
 * before and after the engine runs; the mean is the ceiling.
 */
import { SETTINGS } from '../../src/config.js';
import { startEngine, type Engine, type EngineStats } from '../lib/engine.js';
import { createBenchDatabase } from '../lib/pg.js';
import { note, status } from '../lib/progress.js';
import { spawnNode, type Child } from '../lib/procs.js';
import { addSubscriptions, countAttempts, countByStatus, createTenant, insertMessages, openBenchDb, releaseParked, TOPIC, type BenchDb, type Tenant } from '../lib/seed.js';
import { fmtNum, fmtMs, fmtRatio, now, round, sig, sleep } from '../lib/stats.js';
import { barChart, COLORS, type BarGroup } from '../lib/svg.js';
import type { Ctx, Goal, ScenarioResult } from '../lib/types.js';

export const CONCURRENCY = SETTINGS.deliveryConcurrency.default;
export const PER_SUB = SETTINGS.maxInFlightPerSubscription.default;
export const CASES = [1, 10] as const;

export const effectiveConcurrency = (subs: number, workers = 1): number => workers * Math.min(CONCURRENCY, subs * PER_SUB);

export interface CaseResult {
  backend: string;
  subs: number;
  messages: number;
  perSecond: number | null;
  seconds: number | null;
  releaseToFirstMs: number | null;
  attempts: number;
  duplicates: number;
  delivered: number;
  /** the case did not finish (timed out or stalled): perSecond is the rate until then */
  partial: boolean;
  engineCpuPct: number | null;
  engineElu: number | null;
  error?: string;
}

export interface CeilingResult {
  subs: number;
  concurrency: number;
  runs: number[];
  perSecond: number;
}

/** Starts the raw undici sender (a child, like the engine). */
export async function startRawSender(): Promise<Child> {
  return spawnNode('raw-sender', 'bench/children/raw-sender.ts', [], { ipc: true });
}

export async function runCeiling(ctx: Ctx, raw: Child, subs: number, count: number, concurrency: number, label: string): Promise<number> {
  const urls = Array.from({ length: subs }, (_, i) => `${ctx.receiver.url}/ok/${label}-${subs}-${i}`);
  await ctx.receiver.reset();
  status(`raw undici ceiling, ${subs} target(s), concurrency ${concurrency}: ${fmtNum(count)} POSTs`);
  const r = await raw.request<{ startedAt: number; endedAt: number; ok: number; failed: number }>('run', { urls, count, concurrency, data: ctx.template.data, topic: TOPIC }, 300_000);
  if (r.failed > 0) throw new Error(`raw sender: ${r.failed} POSTs failed`);
  return (r.ok / (r.endedAt - r.startedAt)) * 1000;
}

/**
 * Waits until `target` more messages are delivered. Gives up after `timeoutMs`, or after `stallMs`
 * without a single new delivery (an engine that stopped making progress).
 */
export async function waitDelivered(
  db: BenchDb,
  before: number,
  target: number,
  o: { timeoutMs: number; stallMs: number; label: string; started: number },
): Promise<{ doneAt: number | null; delivered: number; stalled: boolean }> {
  const deadline = now() + o.timeoutMs;
  let delivered = 0;
  let lastChange = now();
  let last = -1;
  while (now() < deadline) {
    delivered = (await countByStatus(db, 'delivered')) - before;
    if (delivered >= target) return { doneAt: now(), delivered, stalled: false };
    if (delivered !== last) {
      last = delivered;
      lastChange = now();
    } else if (now() - lastChange > o.stallMs) {
      return { doneAt: null, delivered, stalled: true };
    }
    const secs = (now() - o.started) / 1000;
    status(`${o.label}: ${fmtNum(delivered)}/${fmtNum(target)} delivered (${fmtNum(delivered / Math.max(secs, 0.001))}/s)`);
    await sleep(25);
  }
  return { doneAt: null, delivered, stalled: false };
}

/** Engine stats, or null when the engine does not answer within 3 s (event loop blocked). */
export async function statsOrNull(engines: readonly Engine[]): Promise<(EngineStats | null)[]> {
  return Promise.all(engines.map((e) => e.stats(3000).catch(() => null)));
}

/** A one-line diagnosis of an engine that stopped delivering. */
export function stallReason(delivered: number, target: number, stats: readonly (EngineStats | null)[], stallMs: number): string {
  const blocked = stats.filter((s) => s === null).length;
  return `stalled at ${delivered}/${target} delivered: nothing new for ${stallMs / 1000} s${blocked ? `; ${blocked} engine process(es) did not answer within 3 s (event loop blocked)` : ''}`;
}

/** Ends what is left of a case that did not finish (failed: never claimed again); in-flight outcomes then find no lease. */
export async function cancelPending(db: BenchDb, storeId: number): Promise<void> {
  await db.database.kysely
    .updateTable('webhook_messages')
    .set({ status: 'failed', next_attempt_at: null, locked_by: null, locked_until: null })
    .where('store_id', '=', storeId)
    .where('status', '=', 'pending')
    .execute();
  await sleep(1000);
}

export function sumStats(all: readonly (EngineStats | null)[]): { cpuPct: number | null; elu: number | null } {
  const stats = all.filter((s): s is EngineStats => s !== null);
  if (stats.length === 0 || stats.length < all.length) return { cpuPct: null, elu: null };
  const cpu = stats.reduce((a, s) => a + s.cpuMs, 0);
  const wall = Math.max(...stats.map((s) => s.wallMs));
  return { cpuPct: round((cpu / wall) * 100, 0), elu: round(stats.reduce((a, s) => a + s.elu, 0) / stats.length, 2) };
}

async function runCase(ctx: Ctx, db: BenchDb, tenant: Tenant, subs: string[], engines: Engine[], backend: string, count: number): Promise<CaseResult> {
  const label = `${backend}, ${subs.length} sub${subs.length > 1 ? 's' : ''}`;
  const parkedAt = Date.now() + 86_400_000 + Math.floor(Math.random() * 1e6);
  const base = Date.now();
  status(`${label}: seeding ${fmtNum(count)} messages`);
  await insertMessages(db, ctx.template, tenant.storeId, count, (i) => ({ subscription: subs[i % subs.length]!, nextAttemptAt: parkedAt, createdAt: base + Math.floor(i / subs.length) }), (d) =>
    status(`${label}: seeding ${fmtNum(d)}/${fmtNum(count)}`),
  );
  const deliveredBefore = await countByStatus(db, 'delivered');
  const attemptsBefore = await countAttempts(db);
  await ctx.receiver.reset();
  await Promise.all(engines.map((e) => e.reset()));
  const released = now();
  await releaseParked(db, parkedAt);
  const timeoutMs = ctx.quick ? 30_000 : 120_000;
  const stallMs = ctx.quick ? 5000 : 15_000;
  const { doneAt, delivered, stalled } = await waitDelivered(db, deliveredBefore, count, { timeoutMs, stallMs, label, started: released });
  const rs = await ctx.receiver.stats();
  const stats = await statsOrNull(engines);
  const { cpuPct, elu } = sumStats(stats);
  const attempts = (await countAttempts(db)) - attemptsBefore;
  const first = rs.firstAt;
  // Timed out or stalled: the rate so far, marked partial; the rest is cancelled so that it does not
  // count in the next case.
  const seconds = first !== null ? ((doneAt ?? now()) - first) / 1000 : null;
  if (doneAt === null) await cancelPending(db, tenant.storeId);
  const result: CaseResult = {
    backend,
    subs: subs.length,
    messages: count,
    perSecond: seconds && delivered > 0 ? Math.min(delivered, count) / seconds : null,
    partial: doneAt !== null ? false : true,
    seconds,
    releaseToFirstMs: first !== null ? first - released : null,
    attempts,
    duplicates: rs.duplicates,
    delivered,
    engineCpuPct: cpuPct,
    engineElu: elu,
    ...(doneAt === null ? { error: stalled ? stallReason(delivered, count, stats, stallMs) : `timed out: ${delivered}/${count} delivered after ${timeoutMs / 1000} s` } : {}),
  };
  note(`${label}: ${result.perSecond ? `${fmtNum(result.perSecond)} durable deliveries/s${result.partial ? ` until it stopped (${result.error})` : ''}` : result.error} (engine CPU ${cpuPct ?? '–'}%, ${rs.duplicates} duplicates)`);
  return result;
}

export async function runBackend(ctx: Ctx, backend: 'sqlite' | 'postgres', count: number, results: CaseResult[]): Promise<void> {
  let pgDb: { url: string; drop: () => Promise<void> } | null = null;
  const engines: Engine[] = [];
  let db: BenchDb | null = null;
  try {
    if (backend === 'postgres') pgDb = await createBenchDatabase();
    db = await openBenchDb(pgDb?.url);
    const tenant = await createTenant(db, 'throughput');
    const subsFor = new Map<number, string[]>();
    for (const n of CASES) {
      subsFor.set(n, await addSubscriptions(db, tenant, Array.from({ length: n }, (_, i) => `${ctx.receiver.url}/ok/${backend}-${n}-${i}`)));
    }
    const start = async (i: number): Promise<Engine> => {
      status(`starting ${backend} worker ${i + 1}`);
      return startEngine({
        role: 'worker',
        name: `${backend}-worker-${i + 1}`,
        ...(db!.databaseUrl ? { databaseUrl: db!.databaseUrl } : { dataDir: db!.dataDir! }),
        ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}),
      });
    };
    engines.push(await start(0));
    const name1 = backend === 'sqlite' ? 'SQLite, 1 worker' : 'PostgreSQL, 1 worker';
    for (const n of CASES) results.push(await runCase(ctx, db, tenant, subsFor.get(n)!, engines, name1, count));
    if (backend === 'postgres') {
      engines.push(...(await Promise.all([start(1), start(2)])));
      await sleep(300);
      for (const n of CASES) results.push(await runCase(ctx, db, tenant, subsFor.get(n)!, engines, 'PostgreSQL, 3 workers', count));
    }
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
    await db?.close();
    await pgDb?.drop();
  }
}

export const backendColor = (b: string): string => (b.startsWith('SQLite') ? COLORS.sqlite : b.includes('3 workers') ? COLORS.pg3 : COLORS.pg1);

/** The chart, from the raw figures (also used to redraw it from a results file). */
export function throughputChart(ceilings: CeilingResult[], results: CaseResult[], count: number, bodyBytes: number): string {
  const ceilingOf = (subs: number): number => ceilings.find((c) => c.subs === subs)!.perSecond;
  const groups: BarGroup[] = CASES.map((n) => ({
    label: `${n} subscription${n > 1 ? 's' : ''} (${effectiveConcurrency(n)} in flight per worker)`,
    bars: [
      { label: 'raw undici POSTs (ceiling)', value: ceilingOf(n), color: COLORS.ceiling },
      ...results
        .filter((r) => r.subs === n)
        .map((r) => ({
          label: r.backend,
          value: r.perSecond,
          color: backendColor(r.backend),
          note: r.perSecond ? `${fmtRatio(r.perSecond / ceilingOf(n))} ceiling${r.partial ? ', did not finish' : ''}` : 'failed',
        })),
    ],
  }));
  return barChart({
    title: 'Durable deliveries per second',
    subtitle: `${fmtNum(count)} messages of ${fmtNum(bodyBytes)} B to a 127.0.0.1 receiver answering 200 at once; higher is better`,
    unit: 'deliveries per second',
    groups,
  });
}

export const throughput = {
  id: 'throughput',
  title: 'Delivery throughput',
  async run(ctx: Ctx): Promise<ScenarioResult> {
    const count = ctx.quick ? 300 : 20_000;
    const raw = await startRawSender();
    const ceilings: CeilingResult[] = [];
    const results: CaseResult[] = [];
    try {
      // Warm the receiver and the raw sender's JIT a little, then the first ceiling measurement.
      await runCeiling(ctx, raw, 1, Math.min(count, 2000), 8, 'warm');
      for (const n of CASES) {
        const c = effectiveConcurrency(n);
        ceilings.push({ subs: n, concurrency: c, runs: [await runCeiling(ctx, raw, n, count, c, 'ceil')], perSecond: 0 });
      }
      await runBackend(ctx, 'sqlite', count, results);
      if (ctx.pg) await runBackend(ctx, 'postgres', count, results);
      else note('PostgreSQL does not answer: its rows are skipped');
      if (!ctx.quick) {
        for (const c of ceilings) c.runs.push(await runCeiling(ctx, raw, c.subs, count, c.concurrency, 'ceil2'));
      }
    } finally {
      await raw.stop();
    }
    for (const c of ceilings) c.perSecond = c.runs.reduce((a, b) => a + b, 0) / c.runs.length;
    const ceilingOf = (subs: number): number => ceilings.find((c) => c.subs === subs)!.perSecond;

    const rows = [
      ...ceilings.map((c) => ({
        backend: 'raw undici POSTs (ceiling)',
        subscriptions: String(c.subs),
        'in flight': String(c.concurrency),
        'deliveries/s': fmtNum(c.perSecond),
        'vs ceiling': '1.00×',
        'release→first': '–',
        attempts: '–',
        duplicates: '0',
        'engine CPU': '–',
      })),
      ...results.map((r) => ({
        backend: r.backend,
        subscriptions: String(r.subs),
        'in flight': String(effectiveConcurrency(r.subs, r.backend.includes('3 workers') ? 3 : 1)),
        'deliveries/s': r.perSecond && !r.partial ? fmtNum(r.perSecond) : `${r.perSecond ? `${fmtNum(r.perSecond)}, ` : ''}${r.error?.startsWith('stalled') ? 'stalled' : 'timed out'} at ${fmtNum(r.delivered)}/${fmtNum(r.messages)}`,
        'vs ceiling': r.perSecond ? fmtRatio(r.perSecond / ceilingOf(r.subs)) : '–',
        'release→first': fmtMs(r.releaseToFirstMs),
        attempts: fmtNum(r.attempts),
        duplicates: fmtNum(r.duplicates),
        'engine CPU': r.engineCpuPct === null ? '–' : `${r.engineCpuPct}%`,
      })),
    ];
    const headline: Record<string, number | null> = {};
    for (const n of CASES) headline[`ceiling_${n}sub`] = round(ceilingOf(n), 0);
    for (const r of results) {
      const key = `${r.backend.startsWith('SQLite') ? 'sqlite' : r.backend.includes('3') ? 'pg3' : 'pg1'}_${r.subs}sub`;
      headline[key] = r.perSecond ? round(r.perSecond, 0) : null;
      headline[`${key}_ratio`] = r.perSecond ? sig(r.perSecond / ceilingOf(r.subs)) : null;
    }
    const best = Math.max(...results.filter((r) => r.backend.startsWith('SQLite')).map((r) => r.perSecond ?? 0));
    const bestRatio = Math.max(...results.filter((r) => r.backend.startsWith('SQLite')).map((r) => (r.perSecond ?? 0) / ceilingOf(r.subs)));
    const goals: Goal[] = [
      { goal: 'SQLite ≥ 5,000 durable deliveries/s', measured: `${fmtNum(best)}/s (best case)`, met: best >= 5000 },
      { goal: 'SQLite ≥ 0.5 of the raw ceiling', measured: fmtRatio(bestRatio), met: bestRatio >= 0.5 },
    ];
    const svg = throughputChart(ceilings, results, count, ctx.template.bodyBytes);
    return {
      id: 'throughput',
      title: 'Delivery throughput',
      settings: { messages: count, bodyBytes: ctx.template.bodyBytes, deliveryConcurrency: CONCURRENCY, maxInFlightPerSubscription: PER_SUB, seeding: 'rows shaped by the outbox (renderMessageBody), parked, then made due at once' },
      columns: ['backend', 'subscriptions', 'in flight', 'deliveries/s', 'vs ceiling', 'release→first', 'attempts', 'duplicates', 'engine CPU'],
      rows,
      headline,
      goals,
      notes: [
        'Clock: first request at the receiver → the poll that sees every message `delivered` in the database (25 ms polls).',
        '`in flight` is the most requests one worker may have open: min(64, subscriptions × 8); the ceiling uses the same number.',
        'PostgreSQL, 3 workers: three processes on one database, so up to 3× the in-flight requests of the ceiling.',
        ...results.filter((r) => r.error).map((r) => `${r.backend}, ${r.subs} subscription(s): ${r.error}`),
      ],
      data: { ceilings, results },
      svg,
    };
  },
};
