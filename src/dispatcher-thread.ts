/**
 * Runs the dispatcher in a worker thread (`node:worker_threads`, one long-lived worker with its own
 * database connection): on SQLite, `serve` would otherwise claim, write outcomes and prune on the
 * API's event loop, where better-sqlite3's synchronous calls hold every request meanwhile.
 *
 * The API wakes it by message after each commit that made messages due. A thread that dies is
 * logged and started again (its leases expire, so what it held is sent again, nothing is lost);
 * `stop` drains it: in-flight requests finish and their outcomes are written before it exits.
 */
import { Worker } from 'node:worker_threads';
import pino, { type Level, type Logger } from 'pino';
import type { Config } from './config.js';
import type { AttemptResult } from './delivery/attempt.js';
import type { DispatcherHandle, DispatcherOptions } from './delivery/dispatcher.js';
import type { ClaimedMessage, ClaimKind } from './delivery/queue.js';

/** What the thread is started with (structured-cloned: plain data only). */
export interface ThreadSettings {
  config: Omit<Config, 'allowTargets'>;
  allowTargets: readonly string[];
  logLevel: string;
  workerId: string;
}

export type ToWorker = { type: 'wake' } | { type: 'stop'; graceMs: number };

export type ToMain =
  | { type: 'ready' }
  | { type: 'stopped' }
  | { type: 'inFlight'; count: number }
  | { type: 'claim'; kind: ClaimKind; count: number; durationMs: number }
  | { type: 'attempt'; message: ClaimedMessage; result: AttemptResult }
  /** one JSON log line of the thread's, for the server's logger. */
  | { type: 'log'; line: string };

export interface ThreadOptions {
  config: Config;
  workerId: string;
  /** the thread logs through this logger, at its level. */
  log: Logger;
  onClaim?: DispatcherOptions['onClaim'];
  onAttempt?: DispatcherOptions['onAttempt'];
}

const RESTART_DELAY_MS = 1000;

/**
 * The thread's code: the compiled .js beside this file, or, running from source under tsx (tests, a
 * checkout's bin/storehook.js), a tiny bootstrap that registers tsx in the thread first, as
 * bin/storehook.js does (a worker does not inherit the loader tsx registered in the main thread).
 */
function newWorker(workerData: ThreadSettings): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./dispatcher-worker.js', import.meta.url), { workerData });
  const entry = new URL('./dispatcher-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); }).catch((err) => { throw err; });`;
  return new Worker(boot, { eval: true, workerData });
}

export class ThreadedDispatcher implements DispatcherHandle {
  private worker: Worker | null = null;
  private running = false;
  private inFlightCount = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private readyWaiters: { resolve(): void; reject(err: Error): void } | null = null;

  constructor(private readonly o: ThreadOptions) {}

  get inFlight(): number {
    return this.inFlightCount;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.spawn();
  }

  /** Resolves once the thread runs its dispatcher; rejects if it failed to start. */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.readyWaiters = { resolve, reject };
    });
  }

  wake(): void {
    this.worker?.postMessage({ type: 'wake' } satisfies ToWorker);
  }

  async stop(graceMs = 20_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop', graceMs } satisfies ToWorker);
    // The thread drains within graceMs plus its outcome writes; then it is ended regardless.
    const deadline = setTimeout(() => void worker.terminate(), graceMs + 10_000);
    await exited;
    clearTimeout(deadline);
    this.worker = null;
  }

  private spawn(): void {
    const { config, workerId } = this.o;
    const { allowTargets, ...rest } = config;
    const settings: ThreadSettings = { config: rest, allowTargets: allowTargets.cidrs, logLevel: this.o.log.level, workerId };
    const worker = newWorker(settings);
    this.worker = worker;
    worker.on('message', (message: ToMain) => this.receive(message));
    worker.on('error', (err) => {
      this.o.log.error({ err }, 'the dispatcher thread failed');
      this.readyWaiters?.reject(err);
      this.readyWaiters = null;
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      this.inFlightCount = 0;
      if (!this.running) return;
      // Never silently stop delivering: say so, and start it again.
      this.o.log.error({ code }, `the dispatcher thread exited unexpectedly; restarting it in ${RESTART_DELAY_MS} ms (messages it held are sent again when their leases expire)`);
      this.restartTimer = setTimeout(() => this.spawn(), RESTART_DELAY_MS);
      this.restartTimer.unref();
    });
  }

  private receive(message: ToMain): void {
    switch (message.type) {
      case 'ready':
        this.readyWaiters?.resolve();
        this.readyWaiters = null;
        break;
      case 'inFlight':
        this.inFlightCount = message.count;
        break;
      case 'claim':
        this.o.onClaim?.(message.kind, message.count, message.durationMs);
        break;
      case 'attempt':
        this.o.onAttempt?.(message.message, message.result);
        break;
      case 'log':
        relayLine(this.o.log, message.line);
        break;
      case 'stopped':
        break;
    }
  }
}

/** Writes a log line of the thread's with the server's logger, keeping its level, message and fields. */
function relayLine(log: Logger, line: string): void {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  // time, pid and hostname are the server logger's to set; component is in its bindings already.
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, component: _component, ...fields } = record;
  const label = typeof level === 'number' ? (pino.levels.labels[level] as Level | undefined) : undefined;
  if (!label) return;
  log[label](fields, typeof msg === 'string' ? msg : '');
}
