/** Runs wrk (-t1: on 2 cores the load generator shares the CPU with the server) and parses it. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './procs.js';

export interface WrkResult {
  requestsPerSec: number;
  requests: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  socketErrors: string | null;
  transferPerSec: string;
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

export function parseWrk(out: string): WrkResult {
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? toMs(m[1]!) : NaN;
  };
  const lat = /^\s*Latency\s+\S+\s+\S+\s+(\S+)/m.exec(out);
  return {
    requestsPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN),
    p50Ms: pct('50'),
    p90Ms: pct('90'),
    p99Ms: pct('99'),
    maxMs: lat ? toMs(lat[1]!) : NaN,
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: /Socket errors:(.*)/.exec(out)?.[1]?.trim() ?? null,
    transferPerSec: /Transfer\/sec:\s+(\S+)/.exec(out)?.[1] ?? '',
  };
}

export interface WrkRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  durationSeconds: number;
}

const lua = (s: string): string => JSON.stringify(s); // a JSON string literal is a valid Lua string literal here (no \u escapes)

export async function runWrk(r: WrkRequest): Promise<WrkResult & { raw: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'storehook-wrk-'));
  try {
    const script = [
      `wrk.method = ${lua(r.method)}`,
      ...Object.entries(r.headers).map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`),
      ...(r.body !== undefined ? [`wrk.body = ${lua(r.body)}`] : []),
    ].join('\n');
    const file = join(dir, 'req.lua');
    await writeFile(file, `${script}\n`);
    const res = await runCommand('wrk', ['-t1', `-c${r.connections}`, `-d${r.durationSeconds}s`, '--timeout', '10s', '--latency', '-s', file, r.url], (r.durationSeconds + 30) * 1000);
    if (res.code !== 0) throw new Error(`wrk failed (${res.code}): ${res.stderr || res.stdout}`);
    return { ...parseWrk(res.stdout), raw: res.stdout };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
