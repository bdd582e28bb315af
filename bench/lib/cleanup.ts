/**
 * Everything the bench starts is registered here and undone in reverse order: on a normal end, on
 * an error, and on SIGINT/SIGTERM. Child processes are also SIGKILLed synchronously on `exit`, so
 * none survives the bench even when cleanup itself is interrupted.
 */
import type { ChildProcess } from 'node:child_process';

type Undo = { name: string; run: () => Promise<void> | void };

const undos: Undo[] = [];
const children = new Set<ChildProcess>();
let cleaning: Promise<void> | null = null;

export function onCleanup(name: string, run: () => Promise<void> | void): () => void {
  const entry = { name, run };
  undos.push(entry);
  return () => {
    const i = undos.indexOf(entry);
    if (i >= 0) undos.splice(i, 1);
  };
}

export function trackChild(proc: ChildProcess): void {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
}

export function liveChildren(): number {
  return children.size;
}

function withTimeout(p: Promise<void> | void, ms: number): Promise<void> {
  return Promise.race([Promise.resolve(p), new Promise<void>((r) => setTimeout(r, ms).unref())]);
}

/** Runs every registered undo (newest first), each bounded to 15 s; safe to call twice. */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (undos.length) {
      const u = undos.pop()!;
      try {
        await withTimeout(u.run(), 15_000);
      } catch (err) {
        process.stderr.write(`bench: cleanup "${u.name}" failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    for (const c of children) c.kill('SIGKILL');
  })();
  return cleaning;
}

let installed = false;

export function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const c of children) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping children and dropping databases…\n`);
      const hard = setTimeout(() => process.exit(130), 20_000);
      hard.unref();
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}
