/**
 * `npm run bench` — storehook's benchmarks, each figure beside the ceiling or baseline measured in
 * the same run, so a slower machine shows as a lower ceiling rather than as a regression.
 * `npm run bench -- --quick` runs every scenario small, in about a minute.
 *
 *   npm run bench                          all scenarios, full size (≈ 15–25 min)
 *   npm run bench -- --quick               all scenarios, small (CI)
 *   npm run bench -- --only throughput,api one or more scenarios
 *   npm run bench -- --cpu-prof            V8 CPU profiles of every storehook process
 *                                          (bench/results/profiles/, summarised on stdout)
 *   npm run bench -- --out DIR             where results go (default bench/results, quick: bench/results/quick)
 *   npm run bench -- --engine-root DIR     run the storehook processes from another checkout (A/B runs)
 *   npm run bench -- --no-docs             do not write the figures into docs/performance.md
 *
 * A full-size run (not --quick, no --out) also writes its tables, charts and headline figures into
 * docs/performance.md between the <!-- bench:… --> markers (only the sections of the scenarios it ran).
 *
 * Writes <out>/<date>-<scenario>.json and .svg per scenario and <out>/<date>-summary.md with every
 * table, and prints the tables. Exits non-zero when a scenario failed to run (not when a goal is
 * missed: goals are reported, not enforced).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { cleanupAll, installExitHandlers, liveChildren } from './lib/cleanup.js';
import { commitText, describeMachine, machineInfo } from './lib/machine.js';
import { dropStaleBenchDatabases, postgresVersion } from './lib/pg.js';
import { clear, note, setStage } from './lib/progress.js';
import { ROOT, runCommand, spawnNode } from './lib/procs.js';
import { messageTemplate, removeStaleTempDirs } from './lib/seed.js';
import { markdownTable, textTable } from './lib/table.js';
import type { Ctx, Receiver, ReceiverStats, Scenario, ScenarioResult } from './lib/types.js';
import { summarizeProfiles } from './lib/profile.js';
import { updateDocs } from './lib/docs.js';

interface Args {
  quick: boolean;
  only: string[] | null;
  skip: string[];
  out: string | null;
  cpuProf: boolean;
  engineRoot: string | null;
  docs: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, only: null, skip: [], out: null, cpuProf: false, engineRoot: null, docs: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const eq = arg.indexOf('=');
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') a.quick = true;
    else if (arg.startsWith('--only')) a.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (arg.startsWith('--skip')) a.skip = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (arg.startsWith('--out')) a.out = value();
    else if (arg === '--cpu-prof') a.cpuProf = true;
    else if (arg.startsWith('--engine-root')) a.engineRoot = value();
    else if (arg === '--no-docs') a.docs = false;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`usage: npm run bench -- [--quick] [--only a,b] [--skip a,b] [--cpu-prof] [--out DIR] [--engine-root DIR] [--no-docs]\nscenarios: ${SCENARIO_IDS.join(', ')}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return a;
}

const SCENARIO_IDS = ['throughput', 'latency', 'api', 'backlog', 'noisy', 'bullmq', 'ordering'] as const;

async function loadScenario(id: string): Promise<Scenario> {
  switch (id) {
    case 'throughput':
      return (await import('./scenarios/throughput.js')).throughput;
    case 'latency':
      return (await import('./scenarios/latency.js')).latency;
    case 'api':
      return (await import('./scenarios/api.js')).api;
    case 'backlog':
      return (await import('./scenarios/backlog.js')).backlog;
    case 'noisy':
      return (await import('./scenarios/noisy.js')).noisy;
    case 'bullmq':
      return (await import('./scenarios/bullmq.js')).bullmq;
    case 'ordering':
      return (await import('./scenarios/ordering.js')).ordering;
    default:
      throw new Error(`unknown scenario ${id}; choose from ${SCENARIO_IDS.join(', ')}`);
  }
}

async function startReceiver(): Promise<Receiver> {
  const child = await spawnNode('receiver', 'bench/children/receiver.ts', [], { ipc: true });
  const { url } = await child.request<{ url: string }>('address');
  return {
    child,
    url,
    reset: async (track = false) => void (await child.request('reset', { track })),
    stats: () => child.request<ReceiverStats>('stats'),
    receipts: () => child.request<{ receipts: number[]; paths: string[] }>('receipts', undefined, 60_000),
    release: async () => void (await child.request('release')),
  };
}

async function redisVersion(): Promise<string | null> {
  try {
    const { Redis } = await import('ioredis');
    const r = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      const info = await r.info('server');
      return /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    } finally {
      r.disconnect();
    }
  } catch {
    return null;
  }
}

function localDate(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  installExitHandlers();
  const started = Date.now();
  const ids = (args.only ?? [...SCENARIO_IDS]).filter((id) => !args.skip.includes(id));
  for (const id of ids) if (!(SCENARIO_IDS as readonly string[]).includes(id)) throw new Error(`unknown scenario ${id}; choose from ${SCENARIO_IDS.join(', ')}`);
  const outDir = resolve(ROOT, args.out ?? (args.quick ? 'bench/results/quick' : 'bench/results'));
  await mkdir(outDir, { recursive: true });
  if (args.engineRoot) process.env['BENCH_ENGINE_ROOT'] = resolve(args.engineRoot);
  const cpuProfDir = args.cpuProf ? resolve(ROOT, 'bench/results/profiles') : undefined;
  if (cpuProfDir) {
    // only this run's profiles
    await rm(cpuProfDir, { recursive: true, force: true });
    await mkdir(cpuProfDir, { recursive: true });
  }

  // A hard bound on the whole run, so CI never hangs on a stuck scenario.
  const budgetMs = args.quick ? 5 * 60_000 : 90 * 60_000;
  const watchdog = setTimeout(() => {
    process.stderr.write(`\nbench: over its ${budgetMs / 60_000} min budget; stopping\n`);
    void cleanupAll().finally(() => process.exit(1));
  }, budgetMs);
  watchdog.unref();

  const machine = await machineInfo();
  const [pgv, redisv, wrkPath] = await Promise.all([postgresVersion(), redisVersion(), runCommand('sh', ['-c', 'command -v wrk'], 3000)]);
  if (pgv) machine.postgres = pgv;
  if (redisv) machine.redis = redisv;
  const wrk = wrkPath.code === 0 && wrkPath.stdout.trim() !== '';
  if (wrk) machine.wrk = (await runCommand('wrk', ['-v'], 3000)).stdout.split('\n')[0]?.trim() ?? 'wrk';
  note(`storehook bench${args.quick ? ' --quick' : ''}: ${ids.join(', ')}`);
  note(`machine: ${describeMachine(machine)}`);
  if (machine.loadBefore[0]! > 1.5) note(`warning: load average ${machine.loadBefore[0]} > 1.5 — other work shares the CPU; absolute figures will be low, the ratios (measured side by side) hold better`);
  if (pgv) {
    const stale = await dropStaleBenchDatabases().catch(() => []);
    if (stale.length) note(`dropped ${stale.length} database(s) left by an earlier, killed bench: ${stale.join(', ')}`);
  }

  const staleDirs = await removeStaleTempDirs();
  if (staleDirs) note(`removed ${staleDirs} temp folder(s) left by an earlier, killed bench`);
  const receiver = await startReceiver();
  const template = await messageTemplate();
  const ctx: Ctx = {
    quick: args.quick,
    receiver,
    template,
    pg: pgv !== null,
    redis: redisv !== null,
    wrk,
    ...(cpuProfDir ? { cpuProfDir } : {}),
    machine,
    previous: new Map(),
  };
  const date = localDate();
  const results: ScenarioResult[] = [];
  const failures: string[] = [];
  for (const [i, id] of ids.entries()) {
    const scenario = await loadScenario(id);
    setStage(`[${i + 1}/${ids.length}] ${scenario.title}`);
    const t0 = Date.now();
    try {
      const r = await scenario.run(ctx);
      await receiver.release().catch(() => undefined);
      results.push(r);
      ctx.previous.set(r.id, r);
      const payload = {
        scenario: r.id,
        title: r.title,
        date: new Date().toISOString(),
        quick: args.quick,
        command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
        durationSeconds: Math.round((Date.now() - t0) / 1000),
        machine: { ...machine, loadAfter: loadavg().map((l) => Math.round(l * 100) / 100) },
        settings: r.settings,
        headline: r.headline,
        goals: r.goals,
        notes: r.notes,
        table: { columns: r.columns, rows: r.rows },
        data: r.data,
      };
      await writeFile(join(outDir, `${date}-${r.id}.json`), `${JSON.stringify(payload, null, 2)}\n`);
      await writeFile(join(outDir, `${date}-${r.id}.svg`), r.svg);
      clear();
      process.stdout.write(`\n## ${r.title}  (${Math.round((Date.now() - t0) / 1000)} s)\n\n${textTable(r.rows, r.columns)}\n`);
      for (const g of r.goals) process.stdout.write(`  goal: ${g.goal} — ${g.measured} ${g.met === null ? '' : g.met ? '✓' : '✗ (short)'}\n`);
      for (const n of r.notes) process.stdout.write(`  note: ${n}\n`);
    } catch (err) {
      failures.push(id);
      clear();
      process.stdout.write(`\n## ${scenario.title}: FAILED\n${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    }
  }

  const md: string[] = [`# storehook bench ${date}${args.quick ? ' (quick)' : ''}`, '', `Machine: ${describeMachine(machine)}; load after ${loadavg().map((l) => l.toFixed(2)).join(' / ')}`, ''];
  for (const r of results) {
    md.push(`## ${r.title}`, '', markdownTable(r.rows, r.columns), '');
    for (const g of r.goals) md.push(`- goal: ${g.goal} — ${g.measured} ${g.met === null ? '' : g.met ? '(met)' : '(short)'}`);
    for (const n of r.notes) md.push(`- ${n}`);
    md.push('', `![${r.title}](${date}-${r.id}.svg)`, '');
  }
  await writeFile(join(outDir, `${date}-summary.md`), `${md.join('\n')}\n`);

  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  if (!args.quick && !args.out && args.docs && results.length > 0) {
    const docFile = resolve(ROOT, 'docs/performance.md');
    if (existsSync(docFile)) {
      const missing = await updateDocs({ file: docFile, outDir, date, command, machine: describeMachine(machine, false), commit: commitText(machine).replace(/^commit /, ''), loadBefore: machine.loadBefore, results });
      note(`docs/performance.md: figures updated${missing.length ? ` (no markers for ${missing.join(', ')})` : ''}`);
    }
  }
  await cleanupAll();
  if (cpuProfDir && existsSync(cpuProfDir)) {
    const summary = await summarizeProfiles(cpuProfDir);
    await writeFile(join(outDir, `${date}-profiles.txt`), `${summary}\n`);
    process.stdout.write(`\n## CPU profiles (${relative(ROOT, cpuProfDir)}; summary in ${relative(ROOT, join(outDir, `${date}-profiles.txt`))})\n${summary}\n`);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  process.stdout.write(`\n${results.length}/${ids.length} scenarios ran in ${seconds} s; results in ${relative(ROOT, outDir)}/${date}-*.{json,svg}${failures.length ? `; FAILED: ${failures.join(', ')}` : ''}\n`);
  if (liveChildren() > 0) process.stderr.write(`bench: ${liveChildren()} child process(es) still alive at exit; killing them\n`);
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    void cleanupAll().finally(() => process.exit(1));
  },
);
