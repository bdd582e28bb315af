/**
 * Starts storehook the way an operator does: its own CLI (`serve`, `serve --no-dispatcher`,
 * `worker`) in a child process, configured through environment variables only (SPEC §5a), with
 * the read-only probe preloaded for claim timings and memory.
 */
import { join, resolve } from 'node:path';
import { spawnNode, type Child } from './procs.js';

export type Role = 'serve' | 'api' | 'worker';

export interface EngineOptions {
  role: Role;
  name: string;
  /** SQLite folder, or a postgres:// URL in `databaseUrl`. */
  dataDir?: string;
  databaseUrl?: string;
  env?: Record<string, string>;
  /** write a V8 CPU profile into this folder when the process ends. */
  cpuProfDir?: string;
}

export interface Engine {
  child: Child;
  url: string;
  /** rejects when the engine does not answer within `timeoutMs` (default 10 s) */
  stats(timeoutMs?: number): Promise<EngineStats>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface EngineStats {
  pid: number;
  rss: number;
  maxRss: number;
  heapUsed: number;
  cpuMs: number;
  wallMs: number;
  elu: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  claimPatched: boolean;
  claims: { kind: string; ms: number; rows: number }[];
}

export const BASE_ENV: Record<string, string> = {
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  STOREHOOK_ALLOW_TARGETS: '127.0.0.0/8',
  STOREHOOK_RATE_LIMIT_PER_SECOND: '0',
};

export async function startEngine(o: EngineOptions): Promise<Engine> {
  const args = o.role === 'api' ? ['serve', '--no-dispatcher'] : [o.role];
  const env: Record<string, string> = { ...BASE_ENV, ...(o.env ?? {}) };
  if (o.databaseUrl) env['DATABASE_URL'] = o.databaseUrl;
  else {
    env['DATABASE_URL'] = '';
    env['STOREHOOK_DATA_DIR'] = o.dataDir ?? './data';
  }
  const nodeArgs = ['--import', './bench/lib/engine-probe.ts'];
  // One folder per process: Node names the files CPU.<date>.<pid>.<thread>…; thread 0 is the main
  // thread (tsx's module loader runs on another thread and writes its own, mostly idle, profile).
  if (o.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${join(o.cpuProfDir, `${o.name.replace(/[^\w.-]+/g, '_')}-${Date.now()}`)}`);
  // src/cli.ts is what bin/storehook.js runs (the bin only registers tsx first). BENCH_ENGINE_ROOT
  // (--engine-root) runs another checkout's engine with this bench, for before/after comparisons.
  const engineRoot = process.env['BENCH_ENGINE_ROOT'];
  const cli = engineRoot ? join(resolve(engineRoot), 'src/cli.ts') : 'src/cli.ts';
  if (engineRoot) env['BENCH_ENGINE_ROOT'] = resolve(engineRoot);
  const child = await spawnNode(o.name, cli, args, { env, nodeArgs, ipc: true, readyTimeoutMs: 60_000 });
  try {
    const m = await child.waitForLine(/storehook \S+ .* on (http:\/\/\S+)/, 60_000);
    const url = m[1]!;
    return {
      child,
      url,
      stats: (timeoutMs = 10_000) => child.request<EngineStats>('stats', undefined, timeoutMs),
      reset: async () => void (await child.request('reset', undefined, 5000).catch(() => undefined)),
      stop: () => child.stop(10_000),
    };
  } catch (err) {
    await child.stop(1000);
    throw err;
  }
}
