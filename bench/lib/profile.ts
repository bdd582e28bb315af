/**
 * Reads V8 .cpuprofile files (node --cpu-prof) and lists where the time went: self time per
 * function, top 15 per profile, plus time per package/area (node internals, undici, kysely,
 * better-sqlite3, pg, storehook's own src/…).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

function area(url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? 'GC' : fn === '(idle)' ? 'idle' : fn === '(program)' ? 'program (native)' : 'native';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /\/src\/([^/]+)/.exec(url);
  if (src) return `storehook src/${src[1]}`;
  if (url.startsWith('node:')) return 'node core';
  return 'other';
}

export async function summarizeProfile(file: string, top = 15): Promise<string> {
  const p = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  if (p.samples && p.timeDeltas) {
    for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const f = n.callFrame;
    const short = f.url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/');
    const key = `${f.functionName || '(anonymous)'} ${short ? `${short}:${f.lineNumber + 1}` : ''}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const a = area(f.url, f.functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
  }
  const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const busy = total - (byArea.get('idle') ?? 0);
  const lines = [`${file.split('/').pop()}: ${(total / 1e6).toFixed(1)} s sampled, ${((busy / total) * 100).toFixed(0)}% busy`, '  by area:'];
  for (const [a, us] of [...byArea].sort((x, y) => y[1] - x[1]).slice(0, 10)) lines.push(`    ${pct(us)}  ${a}`);
  lines.push('  top functions (self time):');
  for (const [k, us] of [...byFn].filter(([k]) => !k.startsWith('(idle)')).sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`    ${pct(us)}  ${k}`);
  return lines.join('\n');
}

/** Summaries of the main-thread profiles (thread id 0) in `dir` and its subfolders. */
export async function summarizeProfiles(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true });
  const files = entries.filter((f) => /\.0\.\d+\.cpuprofile$/.test(f) || (f.endsWith('.cpuprofile') && !/\.\d+\.\d+\.\d+\.cpuprofile$/.test(f))).sort();
  const out: string[] = [];
  for (const f of files) out.push(`${f.split('/')[0]}\n${await summarizeProfile(join(dir, f))}`);
  return out.join('\n\n') || '(no profiles written)';
}
