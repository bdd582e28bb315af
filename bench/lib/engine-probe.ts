/**
 * Preloaded (`--import`) into every storehook process the bench starts. It changes nothing in the
 * engine; it only watches:
 * - times each claim the dispatcher makes (by wrapping Dispatcher.prototype.claim, the method the
 *   dispatcher calls for every claim query; the engine's own `onClaim` hook is not reachable from
 *   the CLI),
 * - answers `stats` over IPC: RSS, heap, CPU time, event-loop utilisation and delay, claim times,
 * - and ends the process (gracefully, like Ctrl-C) when the bench goes away.
 */
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { serveIpc } from './ipc.js';

// The dispatcher module of the engine being measured (another checkout with --engine-root).
const engineRoot = process.env['BENCH_ENGINE_ROOT'];
const dispatcherUrl = engineRoot ? pathToFileURL(join(engineRoot, 'src/delivery/dispatcher.ts')).href : new URL('../../src/delivery/dispatcher.ts', import.meta.url).href;
const { Dispatcher } = (await import(dispatcherUrl)) as { Dispatcher: { prototype: object } };

interface ClaimSample {
  kind: string;
  ms: number;
  rows: number;
}

let claims: ClaimSample[] = [];
let claimPatched = false;
const proto = Dispatcher.prototype as unknown as Record<string, unknown>;
const original = proto['claim'];
if (typeof original === 'function') {
  claimPatched = true;
  proto['claim'] = async function (this: unknown, kind: string, limit: number, ...rest: unknown[]) {
    const started = performance.now();
    const result = (await (original as (...a: unknown[]) => Promise<unknown[]>).call(this, kind, limit, ...rest)) as unknown[];
    if (limit > 0 && claims.length < 1_000_000) claims.push({ kind, ms: performance.now() - started, rows: Array.isArray(result) ? result.length : 0 });
    return result;
  };
}

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
let eluStart = performance.eventLoopUtilization();
let cpuStart = process.cpuUsage();
let wallStart = performance.now();
let maxRss = process.memoryUsage.rss();
setInterval(() => {
  maxRss = Math.max(maxRss, process.memoryUsage.rss());
}, 200).unref();

serveIpc(
  {
    stats: () => {
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage(cpuStart);
      const wallMs = performance.now() - wallStart;
      return {
        pid: process.pid,
        rss: mem.rss,
        maxRss: Math.max(maxRss, mem.rss),
        heapUsed: mem.heapUsed,
        cpuMs: (cpu.user + cpu.system) / 1000,
        wallMs,
        elu: performance.eventLoopUtilization(eluStart).utilization,
        loopDelayP99Ms: delay.percentile(99) / 1e6,
        loopDelayMaxMs: delay.max / 1e6,
        claimPatched,
        claims,
      };
    },
    reset: () => {
      claims = [];
      delay.reset();
      eluStart = performance.eventLoopUtilization();
      cpuStart = process.cpuUsage();
      wallStart = performance.now();
      maxRss = process.memoryUsage.rss();
      return true;
    },
    gc: () => {
      const g = (globalThis as { gc?: () => void }).gc;
      g?.();
      return Boolean(g);
    },
  },
  () => {
    // The bench went away: stop like an operator would (the CLI finishes in-flight work).
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), 5000).unref();
  },
);
