/**
 * 3. API: POST /api/v1/orders and GET /api/v1/orders?page_size=100&expand=products,payments,shipments
 * with wrk (-t1, rate limit off, request logs off), against `storehook serve` on SQLite (the
 * dispatcher runs but the store has no subscriptions) and against the ceiling: a minimal Fastify
 * app on the same machine sending the same response bytes. Each pair runs back to back.
 * BENCH_API_DATABASE=postgres runs the same against `storehook serve` on a fresh PostgreSQL database.
 */
import { Pool } from 'undici';
import { startEngine, type Engine } from '../lib/engine.js';
import { note, status } from '../lib/progress.js';
import { createBenchDatabase } from '../lib/pg.js';
import { spawnNode, type Child } from '../lib/procs.js';
import { createTenant, openBenchDb, sampleOrder, type BenchDb } from '../lib/seed.js';
import { fmtMs, fmtNum, fmtRatio, round, sig } from '../lib/stats.js';
import { barChart, COLORS } from '../lib/svg.js';
import type { Ctx, Goal, ScenarioResult } from '../lib/types.js';
import { runWrk, type WrkResult } from '../lib/wrk.js';

const LIST = '/api/v1/orders?page_size=100&expand=products,payments,shipments';

async function seedOrders(url: string, auth: string, n: number): Promise<{ postBody: string }> {
  const pool = new Pool(url, { connections: 8 });
  let postBody = '';
  let next = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      const res = await pool.request({ path: '/api/v1/orders', method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(sampleOrder(i)) });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`seeding orders: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
      postBody ||= text;
      if (i % 50 === 0) status(`seeding orders ${fmtNum(i)}/${fmtNum(n)}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: 8 }, lane));
  } finally {
    await pool.close();
  }
  return { postBody };
}

interface Pair {
  endpoint: string;
  storehook: WrkResult;
  ceiling: WrkResult;
}

export const api = {
  id: 'api',
  title: 'API requests per second',
  async run(ctx: Ctx): Promise<ScenarioResult> {
    if (!ctx.wrk) throw new Error('wrk is not installed (apt-get install -y wrk)');
    const seconds = ctx.quick ? 1 : 10;
    const connections = 16;
    const postgres = process.env['BENCH_API_DATABASE'] === 'postgres';
    const server = `storehook serve (${postgres ? 'PostgreSQL' : 'SQLite'})`;
    let pgDb: Awaited<ReturnType<typeof createBenchDatabase>> | null = null;
    let db: BenchDb | null = null;
    let engine: Engine | null = null;
    let ceiling: Child | null = null;
    const pairs: Pair[] = [];
    let getBytes = 0;
    let postBytes = 0;
    try {
      if (postgres) pgDb = await createBenchDatabase();
      db = await openBenchDb(pgDb?.url);
      const tenant = await createTenant(db, 'api');
      status(`starting ${server}`);
      engine = await startEngine({ role: 'serve', name: 'serve-api', ...(pgDb ? { databaseUrl: pgDb.url } : { dataDir: db.dataDir! }), ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
      const { postBody } = await seedOrders(engine.url, tenant.auth, ctx.quick ? 120 : 1000);
      const page = await fetch(`${engine.url}${LIST}`, { headers: { authorization: tenant.auth } });
      const getBody = await page.text();
      if (page.status !== 200) throw new Error(`GET ${LIST}: HTTP ${page.status} ${getBody.slice(0, 200)}`);
      getBytes = Buffer.byteLength(getBody);
      postBytes = Buffer.byteLength(postBody);
      ceiling = await spawnNode('fastify-ceiling', 'bench/children/fastify-ceiling.ts', [], { ipc: true });
      const { url: ceilingUrl } = await ceiling.request<{ url: string }>('start', { postBody, getBody });
      const orderJson = JSON.stringify(sampleOrder(7));
      const endpoints = [
        { name: `GET ${LIST.replace('/api/v1', '')}`, method: 'GET' as const, path: LIST, body: undefined },
        { name: 'POST /orders', method: 'POST' as const, path: '/api/v1/orders', body: orderJson },
      ];
      for (const ep of endpoints) {
        const run = async (base: string, who: string): Promise<WrkResult> => {
          status(`wrk ${who}: ${ep.name}, ${connections} connections, ${seconds} s`);
          const headers: Record<string, string> = { authorization: tenant.auth };
          if (ep.body !== undefined) headers['content-type'] = 'application/json';
          // a short unrecorded warm-up, then the measured run
          if (!ctx.quick) await runWrk({ url: `${base}${ep.path}`, method: ep.method, headers, ...(ep.body !== undefined ? { body: ep.body } : {}), connections, durationSeconds: 2 });
          return runWrk({ url: `${base}${ep.path}`, method: ep.method, headers, ...(ep.body !== undefined ? { body: ep.body } : {}), connections, durationSeconds: seconds });
        };
        const storehook = await run(engine.url, 'storehook');
        const ceil = await run(ceilingUrl, 'Fastify ceiling');
        pairs.push({ endpoint: ep.name, storehook, ceiling: ceil });
        note(`${ep.name}: storehook ${fmtNum(storehook.requestsPerSec)}/s, ceiling ${fmtNum(ceil.requestsPerSec)}/s (${fmtRatio(storehook.requestsPerSec / ceil.requestsPerSec)})`);
      }
    } finally {
      await ceiling?.stop();
      await engine?.stop();
      await db?.close();
      await pgDb?.drop();
    }
    const rows = pairs.flatMap((p) =>
      (['storehook', 'ceiling'] as const).map((who) => {
        const r = p[who];
        return {
          endpoint: p.endpoint,
          server: who === 'storehook' ? server : 'minimal Fastify (ceiling)',
          'req/s': fmtNum(r.requestsPerSec),
          'vs ceiling': who === 'storehook' ? fmtRatio(r.requestsPerSec / p.ceiling.requestsPerSec) : '1.00×',
          p50: fmtMs(r.p50Ms),
          p90: fmtMs(r.p90Ms),
          p99: fmtMs(r.p99Ms),
          max: fmtMs(r.maxMs),
          'non-2xx': fmtNum(r.non2xx),
          errors: r.socketErrors ?? '0',
        };
      }),
    );
    const ratios = pairs.map((p) => p.storehook.requestsPerSec / p.ceiling.requestsPerSec);
    const headline: Record<string, number | null> = {};
    pairs.forEach((p, i) => {
      const key = p.endpoint.startsWith('GET') ? 'get' : 'post';
      headline[`${key}_rps`] = round(p.storehook.requestsPerSec, 0);
      headline[`${key}_ceiling_rps`] = round(p.ceiling.requestsPerSec, 0);
      headline[`${key}_ratio`] = sig(ratios[i]!);
    });
    const minRatio = Math.min(...ratios);
    const goals: Goal[] = [{ goal: 'API ≥ 0.3 of the Fastify ceiling', measured: pairs.map((p, i) => `${p.endpoint.split(' ')[0]} ${fmtRatio(ratios[i])}`).join(', '), met: minRatio >= 0.3 }];
    const svg = barChart({
      title: 'API requests per second (wrk -t1 -c16)',
      subtitle: `${server} vs a minimal Fastify route sending the same bytes (${fmtNum(getBytes)} B page, ${fmtNum(postBytes)} B order); higher is better`,
      unit: 'requests per second',
      groups: pairs.map((p, i) => ({
        label: p.endpoint,
        bars: [
          { label: 'minimal Fastify (ceiling)', value: p.ceiling.requestsPerSec, color: COLORS.ceiling },
          { label: server, value: p.storehook.requestsPerSec, color: COLORS.sqlite, note: `${fmtRatio(ratios[i])} ceiling` },
        ],
      })),
    });
    return {
      id: 'api',
      title: 'API requests per second',
      settings: { tool: 'wrk -t1', database: postgres ? 'postgresql' : 'sqlite', connections, seconds, rateLimit: 'off (STOREHOOK_RATE_LIMIT_PER_SECOND=0)', logLevel: 'warn', ordersInStore: ctx.quick ? 120 : 1000, getResponseBytes: getBytes, postResponseBytes: postBytes },
      columns: ['endpoint', 'server', 'req/s', 'vs ceiling', 'p50', 'p90', 'p99', 'max', 'non-2xx', 'errors'],
      rows,
      headline,
      goals,
      notes: [
        'The ceiling answers the same paths with the same response bytes storehook sent, without authentication, validation, database or rendering: what Fastify and the loopback network cost on this machine.',
        'GET runs first (the store holds the seeded orders), then POST (which adds orders).',
      ],
      data: { pairs: pairs.map((p) => ({ endpoint: p.endpoint, storehook: p.storehook, ceiling: p.ceiling })) },
      svg,
    };
  },
};
