/**
 * A full-size run writes its figures into docs/performance.md between marker comments, so the page
 * shows each scenario's table and chart with the command, date and machine that produced them:
 *
 *   <!-- bench:run -->…<!-- /bench:run -->            the machine
 *   <!-- bench:<scenario> -->…<!-- /bench:<scenario> -->  which run, table, goals, chart
 *   <!-- bench:headline -->…<!-- /bench:headline -->  the closing figures, from the results of
 *                                                     that date in the results folder
 *
 * Text outside the markers (the analysis) is left alone. Quick runs never touch the page.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { relative, dirname } from 'node:path';
import { fmtNum, fmtRatio } from './stats.js';
import { markdownTable } from './table.js';
import type { ScenarioResult } from './types.js';

function replaceBlock(doc: string, name: string, body: string): { doc: string; found: boolean } {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) return { doc, found: false };
  return { doc: `${doc.slice(0, i + start.length)}\n${body.trim()}\n${doc.slice(j)}`, found: true };
}

const h = (r: Map<string, ScenarioResult>, id: string, key: string): number | null => r.get(id)?.headline[key] ?? null;
const n = (v: number | null, unit = ''): string => (v === null ? '–' : `${fmtNum(v, v < 10 ? 2 : 0)}${unit}`);
const x = (v: number | null): string => (v === null ? '–' : fmtRatio(v));

export function headlineMarkdown(results: Map<string, ScenarioResult>): string {
  const lines: string[] = [];
  if (results.has('throughput')) {
    lines.push(
      `- **Delivery throughput (SQLite, 1 worker):** ${n(h(results, 'throughput', 'sqlite_10sub'), '/s')} durable deliveries to 10 subscriptions (${x(h(results, 'throughput', 'sqlite_10sub_ratio'))} the raw undici ceiling of ${n(h(results, 'throughput', 'ceiling_10sub'), '/s')}); ${n(h(results, 'throughput', 'sqlite_1sub'), '/s')} to 1 subscription (${x(h(results, 'throughput', 'sqlite_1sub_ratio'))}).`,
      `- **PostgreSQL:** ${n(h(results, 'throughput', 'pg1_10sub'), '/s')} with 1 worker, ${n(h(results, 'throughput', 'pg3_10sub'), '/s')} with 3 workers (10 subscriptions).`,
    );
  }
  if (results.has('latency')) {
    lines.push(`- **End-to-end latency (API answer → receipt):** p50 ${n(h(results, 'latency', 'p50_100'), ' ms')}, p99 ${n(h(results, 'latency', 'p99_100'), ' ms')} at 100 orders/s; p99 ${n(h(results, 'latency', 'p99_1000'), ' ms')} at 1,000 orders/s.`);
  }
  if (results.has('api')) {
    lines.push(`- **API:** POST /orders ${n(h(results, 'api', 'post_rps'), '/s')} (${x(h(results, 'api', 'post_ratio'))} the Fastify ceiling), GET /orders?page_size=100&expand=… ${n(h(results, 'api', 'get_rps'), '/s')} (${x(h(results, 'api', 'get_ratio'))}).`);
  }
  if (results.has('backlog')) {
    lines.push(
      `- **Backlog:** first-attempt p99 ${n(h(results, 'backlog', 'p99_base'), ' ms')} with an empty queue, ${n(h(results, 'backlog', 'p99_max_backlog'), ' ms')} with the largest backlog (${x(h(results, 'backlog', 'p99_ratio'))}); claim p99 ${n(h(results, 'backlog', 'claim_first_p99_base'), ' ms')} → ${n(h(results, 'backlog', 'claim_first_p99_probed') ?? h(results, 'backlog', 'claim_first_p99_max_backlog'), ' ms')} and memory ${x(h(results, 'backlog', 'rss_ratio_probed') ?? h(results, 'backlog', 'rss_ratio'))} at ${n(h(results, 'backlog', 'probed_backlog'))} messages.`,
    );
  }
  if (results.has('noisy')) {
    lines.push(`- **Noisy neighbour:** the healthy half keeps ${x(h(results, 'noisy', 'ratio'))} of its throughput while the other half hangs; healthy p99 ${n(h(results, 'noisy', 'p99_baseline'), ' ms')} → ${n(h(results, 'noisy', 'p99_with_hanging'), ' ms')}.`);
  }
  if (results.has('bullmq')) {
    lines.push(`- **BullMQ + undici:** storehook on SQLite delivers ${x(h(results, 'bullmq', 'sqlite_10sub_vs_bullmq'))} BullMQ's throughput to 10 subscriptions and ${x(h(results, 'bullmq', 'sqlite_1sub_vs_bullmq'))} to 1 (${n(h(results, 'bullmq', 'bullmq_10sub'), '/s')} and ${n(h(results, 'bullmq', 'bullmq_1sub'), '/s')} for BullMQ), with the message committed in the order's transaction.`);
  }
  return lines.join('\n');
}

export async function updateDocs(o: {
  file: string;
  outDir: string;
  date: string;
  command: string;
  /** the machine, without commit and load (they are per section) */
  machine: string;
  commit: string;
  loadBefore: number[];
  results: ScenarioResult[];
}): Promise<string[]> {
  let doc = await readFile(o.file, 'utf8');
  const missing: string[] = [];
  const rel = relative(dirname(o.file), o.outDir);
  const run = replaceBlock(doc, 'run', `Machine of the figures below: ${o.machine}. Each section names the run it comes from.`);
  doc = run.doc;
  for (const r of o.results) {
    const body = [
      `_Measured by \`${o.command}\` on ${o.date} at commit ${o.commit}, load average ${o.loadBefore.join(' / ')} at its start._`,
      '',
      markdownTable(r.rows, r.columns),
      '',
      ...r.goals.map((g) => `- Goal: ${g.goal} — **${g.measured}**${g.met === null ? '' : g.met ? ' (met)' : ' (short)'}`),
      ...r.notes.map((note) => `- ${note}`),
      '',
      `![${r.title}](${rel}/${o.date}-${r.id}.svg)`,
      '',
      `<sub>Raw figures: [${o.date}-${r.id}.json](${rel}/${o.date}-${r.id}.json)</sub>`,
    ].join('\n');
    const res = replaceBlock(doc, r.id, body);
    doc = res.doc;
    if (!res.found) missing.push(r.id);
  }
  // the headline covers every scenario measured that day: this run's, and earlier ones' files
  const all = new Map<string, ScenarioResult>();
  for (const id of ['throughput', 'latency', 'api', 'backlog', 'noisy', 'bullmq']) {
    const file = join(o.outDir, `${o.date}-${id}.json`);
    if (!existsSync(file)) continue;
    const j = JSON.parse(await readFile(file, 'utf8')) as { title: string; headline: Record<string, number | null> };
    all.set(id, { id, title: j.title, headline: j.headline } as ScenarioResult);
  }
  for (const r of o.results) all.set(r.id, r);
  const head = replaceBlock(doc, 'headline', headlineMarkdown(all));
  doc = head.doc;
  await writeFile(o.file, doc);
  return missing;
}
