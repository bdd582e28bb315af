/**
 * Real storehook processes for end-to-end tests: spawns `bin/storehook.js <args>`, waits for the
 * line that names its URL, and keeps its output for assertions and post-mortems.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/storehook.js', import.meta.url));

export interface StorehookProcess {
  proc: ChildProcess;
  url: string;
  output(): string;
  /** resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export async function spawnStorehook(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<StorehookProcess> {
  const proc = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`storehook ${args.join(' ')} did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const m = / on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    // the banner is on stderr (stdout carries the JSON log)
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`storehook ${args.join(' ')} exited (${code}) before starting:\n${out}`));
    });
  });
  return {
    proc,
    url,
    output: () => out,
    exited,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
