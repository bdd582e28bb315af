/**
 * Child processes of the bench: the receiver, the engine (storehook's own CLI), the ceilings and
 * the BullMQ worker. Each keeps its last output lines (shown when it fails), is killed by the
 * cleanup registry, and talks to the bench over IPC when it has a channel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { onCleanup, trackChild } from './cleanup.js';
import type { IpcReply } from './ipc.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** extra node flags before the script, e.g. --cpu-prof */
  nodeArgs?: string[];
  /** the child calls serveIpc(): wait for its ready message */
  ipc?: boolean;
  readyTimeoutMs?: number;
}

export class Child {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private nextId = 1;
  private pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private lineWaiters: { re: RegExp; resolve(m: RegExpExecArray): void }[] = [];
  private exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    trackChild(proc);
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        this.output.push(line);
        if (this.output.length > 200) this.output.shift();
        for (const w of [...this.lineWaiters]) {
          const m = w.re.exec(line);
          if (m) {
            this.lineWaiters.splice(this.lineWaiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      }
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    proc.on('message', (raw: unknown) => {
      const r = raw as IpcReply;
      if (typeof r?.id !== 'number') return;
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.result);
      else p.reject(new Error(`${this.name}: ${r.error ?? 'request failed'}`));
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        for (const p of this.pending.values()) p.reject(new Error(`${this.name} exited (${signal ?? code}) ${this.tail()}`));
        this.pending.clear();
        resolve(code);
      });
    });
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  tail(n = 12): string {
    return this.output.slice(-n).join('\n');
  }

  /** Resolves with the first output line (from now on, or already seen) matching `re`. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    for (const line of this.output) {
      const m = re.exec(line);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        re,
        resolve: (m: RegExpExecArray) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.lineWaiters.splice(this.lineWaiters.indexOf(waiter), 1);
        reject(new Error(`${this.name}: no line matching ${re} within ${timeoutMs} ms. Last output:\n${this.tail()}`));
      }, timeoutMs);
      this.lineWaiters.push(waiter);
      void this.exited.then(() => {
        if (!this.lineWaiters.includes(waiter)) return;
        clearTimeout(timer);
        this.lineWaiters.splice(this.lineWaiters.indexOf(waiter), 1);
        reject(new Error(`${this.name} exited before printing ${re}. Last output:\n${this.tail()}`));
      });
    });
  }

  request<T = unknown>(type: string, payload?: unknown, timeoutMs = 30_000): Promise<T> {
    if (!this.proc.connected) return Promise.reject(new Error(`${this.name}: no IPC channel (exited?) ${this.tail()}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: request ${type} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ id, type, payload });
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Spawns `node --import tsx [nodeArgs] <script> [args]` from the repository root. */
export async function spawnNode(name: string, script: string, args: string[], o: SpawnOptions = {}): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', ...(o.nodeArgs ?? []), script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe', ...(o.ipc ? (['ipc'] as const) : [])],
  });
  const child = new Child(name, proc);
  const unregister = onCleanup(`stop ${name}`, () => child.stop(3000));
  void child.exited.then(unregister);
  if (o.ipc) {
    const timeoutMs = o.readyTimeoutMs ?? 30_000;
    const ready = once(proc, 'message').then(([m]) => m as { ready?: boolean });
    const failed = child.exited.then((code) => {
      throw new Error(`${name} exited (${code}) while starting:\n${child.tail()}`);
    });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${name} not ready within ${timeoutMs} ms:\n${child.tail()}`)), timeoutMs).unref());
    try {
      await Promise.race([ready, failed, timeout]);
    } catch (err) {
      await child.stop(1000);
      throw err;
    }
  }
  return child;
}

/** Runs a command to completion (wrk, uptime, git), bounded by `timeoutMs`. */
export async function runCommand(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(proc, 'close').catch(() => [null])) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}
