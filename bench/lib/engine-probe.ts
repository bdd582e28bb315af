/**
 * Preloaded (`--import`) into every storehook process the bench starts. It changes nothing in the
 * engine; it only watches:
 * - times each claim the dispatcher makes (by wrapping Dispatcher.prototype.claim, the method the
 *   dispatcher calls for every claim query; the engine's own `onClaim` hook is not reachable from
 *   the CLI). On SQLite `serve` the dispatcher runs in a worker thread (engine v2): there the probe
 *   wraps the onClaim hook of the ThreadedDispatcher, which the thread reports every claim to,
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
const record = (sample: ClaimSample): void => {
  if (claims.length < 1_000_000) claims.push(sample);
};

/** Times what the engine itself times (claimDue), through its own onClaim hook; installed once per options object. */
function probeOnClaim(o: ProbedOptions): void {
  if (o.probed) return;
  const hook = o.onClaim;
  o.onClaim = (k, count, ms) => {
    record({ kind: k, ms, rows: count });
    hook?.(k, count, ms);
  };
  o.probed = true;
}

// Engine v2 on SQLite `serve`: the dispatcher thread reports each claim to the ThreadedDispatcher's hook.
const threadUrl = engineRoot ? pathToFileURL(join(engineRoot, 'src/dispatcher-thread.ts')).href : new URL('../../src/dispatcher-thread.ts', import.meta.url).href;
const threaded = (await import(threadUrl).catch(() => null)) as { ThreadedDispatcher?: { prototype: object } } | null;
const threadedProto = threaded?.ThreadedDispatcher?.prototype as Record<string, unknown> | undefined;
const threadedStart = threadedProto?.['start'];
if (threadedProto && typeof threadedStart === 'function') {
  threadedProto['start'] = function (this: { o?: ProbedOptions }, ...args: unknown[]) {
    if (this.o) probeOnClaim(this.o);
    return (threadedStart as (...a: unknown[]) => unknown).apply(this, args);
  };
}
const proto = Dispatcher.prototype as unknown as Record<string, unknown>;
const original = proto['claim'];
if (typeof original === 'function') {
  claimPatched = true;
  proto['claim'] = async function (this: { o?: ProbedOptions }, kind: string, ...rest: unknown[]) {
    const o = this.o;
    // Engine v2 (claim(kind)): time what the engine itself times, through its own onClaim hook,
    // installed once per dispatcher, so a claim that returns early (no free slot) is not a sample.
    if (rest.length === 0 && o) {
      probeOnClaim(o);
      return (original as (...a: unknown[]) => Promise<unknown>).call(this, kind);
    }
    // Engine v1 (claim(kind, limit, …)), for --engine-root runs against older checkouts.
    const limit = rest[0] as number;
    const started = performance.now();
    const result = await (original as (...a: unknown[]) => Promise<unknown>).call(this, kind, ...rest);
    if (limit > 0) record({ kind, ms: performance.now() - started, rows: claimedCount(result) });
    return result;
  };
}

interface ProbedOptions {
  onClaim?: (kind: string, count: number, ms: number) => void;
  probed?: boolean;
}

/** Rows an engine v1 claim returned. */
function claimedCount(result: unknown): number {
  return Array.isArray(result) ? result.length : 0;
}

startMainProbe();

function startMainProbe(): void {
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
}
