/**
 * 7. The cost of ordered delivery (issue #17 §4): the same load delivered once to subscriptions
 * with ordering 'none' and once to subscriptions with ordering 'per_order', in the same run, on
 * the same database and worker, alternating (none, per_order, none, per_order) so drift in the
 * machine's load falls on both. The ratio per_order / none is the cost.
 *
 * Load: N messages (20,000; quick 600) over 10 subscriptions, 5 messages per order and
 * subscription (so every per_order chain has a head and 4 blocked behind it), to a receiver that
 * answers 200 at once. The rows are inserted through the queue's own enqueue (the chain logic
 * included), parked, then made due at once; the clock runs from the first request the receiver
 * sees to the poll that finds every message `delivered` (throughput.ts's clock).
 *
 * What per_order adds: one chain step in each final outcome's transaction (lock, promote the next,
 * lower its lane), on PostgreSQL the outcome batch taking the transaction path instead of the
 * one-statement batch, and a hop per message of a chain (the next one is due only once the
 * previous outcome is committed).
 */
import { startEngine, type Engine } from '../lib/engine.js';
import { createBenchDatabase } from '../lib/pg.js';
import { note, status } from '../lib/progress.js';
import { addSubscriptions, countAttempts, countByStatus, createTenant, insertMessages, openBenchDb, releaseParked, type BenchDb, type Tenant } from '../lib/seed.js';
import { fmtNum, fmtRatio, now, round, sig } from '../lib/stats.js';
import { barChart, COLORS, type BarGroup } from '../lib/svg.js';
import type { Ctx, ScenarioResult } from '../lib/types.js';
import { statsOrNull, sumStats, waitDelivered } from './throughput.js';

const SUBSCRIPTIONS = 10;
const PER_ORDER = 5;
const ROUNDS = 2;
type Ordering = 'none' | 'per_order';

interface OrderingCase {
  backend: string;
  ordering: Ordering;
  round: number;
  messages: number;
  perSecond: number | null;
  attempts: number;
  duplicates: number;
  engineCpuPct: number | null;
  error?: string;
}

async function runCase(ctx: Ctx, db: BenchDb, tenant: Tenant, subs: string[], engine: Engine, backend: string, ordering: Ordering, round: number, count: number, firstOrder: number): Promise<OrderingCase> {
  const label = `${backend}, ordering ${ordering} (round ${round})`;
  const parkedAt = Date.now() + 86_400_000 + Math.floor(Math.random() * 1e6);
  const base = Date.now();
  status(`${label}: seeding ${fmtNum(count)} messages`);
  await insertMessages(db, ctx.template, tenant.storeId, count, (i) => {
    const perSub = Math.floor(i / SUBSCRIPTIONS);
    const orderId = firstOrder + Math.floor(perSub / PER_ORDER);
    return {
      subscription: subs[i % SUBSCRIPTIONS]!,
      nextAttemptAt: parkedAt,
      createdAt: base + perSub,
      orderId,
      sequence: (perSub % PER_ORDER) + 1,
      // one chain per subscription and order, as the outbox keys ten different receivers
      ...(ordering === 'per_order' ? { orderingKey: `${subs[i % SUBSCRIPTIONS]!}:order:${orderId}` } : {}),
    };
  });
  const deliveredBefore = await countByStatus(db, 'delivered');
  const attemptsBefore = await countAttempts(db);
  await ctx.receiver.reset();
  await engine.reset();
  const released = now();
  await releaseParked(db, parkedAt);
  const { doneAt, delivered } = await waitDelivered(db, deliveredBefore, count, { timeoutMs: ctx.quick ? 60_000 : 300_000, stallMs: ctx.quick ? 10_000 : 30_000, label, started: released });
  const rs = await ctx.receiver.stats();
  const { cpuPct } = sumStats(await statsOrNull([engine]));
  const seconds = rs.firstAt !== null ? ((doneAt ?? now()) - rs.firstAt) / 1000 : null;
  const result: OrderingCase = {
    backend,
    ordering,
    round,
    messages: count,
    perSecond: seconds && delivered > 0 && doneAt !== null ? count / seconds : null,
    attempts: (await countAttempts(db)) - attemptsBefore,
    duplicates: rs.duplicates,
    engineCpuPct: cpuPct,
    ...(doneAt === null ? { error: `did not finish: ${delivered}/${count} delivered` } : {}),
  };
  if (doneAt === null) {
    // What is left must not count in the next case.
    await db.database.kysely.updateTable('webhook_messages').set({ status: 'failed', next_attempt_at: null, locked_by: null, locked_until: null }).where('store_id', '=', tenant.storeId).where('status', 'in', ['pending', 'blocked']).execute();
  }
  note(`${label}: ${result.perSecond ? `${fmtNum(result.perSecond)} durable deliveries/s` : result.error} (engine CPU ${cpuPct ?? '–'}%)`);
  return result;
}

async function runBackend(ctx: Ctx, backend: 'sqlite' | 'postgres', count: number, results: OrderingCase[]): Promise<void> {
  let pgDb: { url: string; drop: () => Promise<void> } | null = null;
  let engine: Engine | null = null;
  let db: BenchDb | null = null;
  try {
    if (backend === 'postgres') pgDb = await createBenchDatabase();
    db = await openBenchDb(pgDb?.url);
    const tenant = await createTenant(db, 'ordering');
    const subsOf = new Map<Ordering, string[]>();
    for (const ordering of ['none', 'per_order'] as const) {
      const subs = await addSubscriptions(db, tenant, Array.from({ length: SUBSCRIPTIONS }, (_, i) => `${ctx.receiver.url}/ok/${backend}-${ordering}-${i}`));
      await db.database.kysely.updateTable('webhook_subscriptions').set({ ordering }).where('uuid', 'in', subs).execute();
      subsOf.set(ordering, subs);
    }
    status(`starting ${backend} worker`);
    engine = await startEngine({
      role: 'worker',
      name: `${backend}-ordering-worker`,
      ...(db.databaseUrl ? { databaseUrl: db.databaseUrl } : { dataDir: db.dataDir! }),
      ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}),
    });
    const name = backend === 'sqlite' ? 'SQLite, 1 worker' : 'PostgreSQL, 1 worker';
    let firstOrder = 1;
    for (let round = 1; round <= ROUNDS; round++) {
      for (const ordering of ['none', 'per_order'] as const) {
        results.push(await runCase(ctx, db, tenant, subsOf.get(ordering)!, engine, name, ordering, round, count, firstOrder));
        firstOrder += Math.ceil(count / SUBSCRIPTIONS / PER_ORDER);
      }
    }
  } finally {
    await engine?.stop();
    await db?.close();
    await pgDb?.drop();
  }
}

const mean = (xs: readonly (number | null)[]): number | null => (xs.some((x) => x === null) || xs.length === 0 ? null : (xs as number[]).reduce((a, b) => a + b, 0) / xs.length);

export const ordering = {
  id: 'ordering',
  title: 'Ordered delivery: the cost of ordering per_order',
  async run(ctx: Ctx): Promise<ScenarioResult> {
    const count = ctx.quick ? 600 : 20_000;
    const results: OrderingCase[] = [];
    await runBackend(ctx, 'sqlite', count, results);
    if (ctx.pg) await runBackend(ctx, 'postgres', count, results);
    else note('PostgreSQL does not answer: its rows are skipped');

    const backends = [...new Set(results.map((r) => r.backend))];
    const summary = backends.map((backend) => {
      const none = mean(results.filter((r) => r.backend === backend && r.ordering === 'none').map((r) => r.perSecond));
      const ordered = mean(results.filter((r) => r.backend === backend && r.ordering === 'per_order').map((r) => r.perSecond));
      return { backend, none, ordered, ratio: none && ordered ? ordered / none : null };
    });
    const rows = [
      ...results.map((r) => ({
        backend: r.backend,
        ordering: r.ordering,
        round: String(r.round),
        'deliveries/s': r.perSecond ? fmtNum(r.perSecond) : (r.error ?? '–'),
        'per_order / none': '',
        attempts: fmtNum(r.attempts),
        duplicates: fmtNum(r.duplicates),
        'engine CPU': r.engineCpuPct === null ? '–' : `${r.engineCpuPct}%`,
      })),
      ...summary.map((s) => ({
        backend: s.backend,
        ordering: 'mean',
        round: `1–${ROUNDS}`,
        'deliveries/s': `none ${s.none ? fmtNum(s.none) : '–'}, per_order ${s.ordered ? fmtNum(s.ordered) : '–'}`,
        'per_order / none': s.ratio ? fmtRatio(s.ratio) : '–',
        attempts: '',
        duplicates: '',
        'engine CPU': '',
      })),
    ];
    const headline: Record<string, number | null> = {};
    for (const s of summary) {
      const key = s.backend.startsWith('SQLite') ? 'sqlite' : 'pg1';
      headline[`${key}_none`] = s.none ? round(s.none, 0) : null;
      headline[`${key}_per_order`] = s.ordered ? round(s.ordered, 0) : null;
      headline[`${key}_ratio`] = s.ratio ? sig(s.ratio) : null;
    }
    const groups: BarGroup[] = summary.map((s) => ({
      label: s.backend,
      bars: [
        { label: "ordering 'none'", value: s.none, color: COLORS.ceiling },
        { label: "ordering 'per_order'", value: s.ordered, color: s.backend.startsWith('SQLite') ? COLORS.sqlite : COLORS.pg1, note: s.ratio ? `${fmtRatio(s.ratio)} of none` : 'failed' },
      ],
    }));
    const svg = barChart({
      title: 'Ordered delivery: durable deliveries per second',
      subtitle: `${fmtNum(count)} messages, ${SUBSCRIPTIONS} subscriptions, ${PER_ORDER} messages per order and subscription; mean of ${ROUNDS} rounds; higher is better`,
      unit: 'deliveries per second',
      groups,
    });
    return {
      id: 'ordering',
      title: 'Ordered delivery: the cost of ordering per_order',
      settings: { messages: count, subscriptions: SUBSCRIPTIONS, messagesPerOrderAndSubscription: PER_ORDER, rounds: ROUNDS, seeding: 'enqueueMessages (chains included), parked, then made due at once' },
      columns: ['backend', 'ordering', 'round', 'deliveries/s', 'per_order / none', 'attempts', 'duplicates', 'engine CPU'],
      rows,
      headline,
      goals: [],
      notes: [
        'Same run, same database and worker; none and per_order alternate, each on its own 10 subscriptions.',
        'per_order: every chain has a head and 4 blocked messages; each final outcome promotes the next in its transaction (on PostgreSQL: the chain locks, the one-statement batch, the promotion, in one transaction).',
      ],
      data: { results, summary },
      svg,
    };
  },
};
