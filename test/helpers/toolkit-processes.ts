/**
 * Real processes for the integrator toolkit's end-to-end tests: a `storehook serve` on a temp
 * database (SQLite, or a fresh PostgreSQL database), `storehook <command>` runs, the example
 * receivers, and a TCP proxy whose connections the test can cut to simulate a network drop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDatabase, type Dialect, type FreshDatabase } from './database.js';
import { waitUntil } from './waiting.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/storehook.js');

export interface Proc {
  proc: ChildProcess;
  /** stdout and stderr so far */
  output(): string;
  stdout(): string;
  /** resolves with the first match of `re` in stdout (searching from `from`), or rejects after timeoutMs */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  /** the same in stdout and stderr together (the serve banner is on stderr) */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** the JSON objects printed one per line so far */
  jsonLines(): Record<string, any>[];
  exited: Promise<number | null>;
  /** sends `signal` (default SIGTERM) and waits for the exit; SIGKILL after 10 s */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnProc(command: string, args: string[], env: Record<string, string | undefined> = {}): Proc {
  const proc = spawn(command, args, { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let all = '';
  const listeners = new Set<() => void>();
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    all += d.toString();
    for (const l of listeners) l();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    all += d.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const l of listeners) l();
  });
  const waitIn = (text: () => string, re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(text());
        if (m) {
          cleanup();
          resolve(m);
        } else if (done) {
          cleanup();
          reject(new Error(`process exited before printing ${re}:\n${all}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; output:\n${all}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return {
    proc,
    output: () => all,
    stdout: () => out,
    waitFor(re, timeoutMs = 20_000, from = 0) {
      return waitIn(() => out.slice(from), re, timeoutMs);
    },
    waitForOutput(re, timeoutMs = 20_000) {
      return waitIn(() => all, re, timeoutMs);
    },
    jsonLines() {
      return out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, any>);
    },
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** `storehook <args>` as a long-running process. */
export function spawnCli(args: string[], env: Record<string, string | undefined> = {}): Proc {
  return spawnProc(process.execPath, [BIN, ...args], env);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `storehook <args>` to the end. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`storehook ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** An example receiver (examples/<name>/receiver.ts) run the way its README says, against the sources. */
export async function startExample(name: 'node-http' | 'express' | 'fastify', secret: string, port = 0): Promise<Proc & { url: string }> {
  const p = spawnProc(process.execPath, ['--conditions=storehook-source', '--import', 'tsx', join(ROOT, 'examples', name, 'receiver.ts')], { STOREHOOK_SECRET: secret, PORT: String(port), HOST: '127.0.0.1' });
  const m = await p.waitFor(/listening on (http:\/\/\S+\/hooks)/, 30_000);
  return Object.assign(p, { url: m[1]! });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface StorehookServer {
  url: string;
  port: number;
  email: string;
  apiKey: string;
  /** env for CLI commands: STOREHOOK_URL/EMAIL/API_KEY */
  cliEnv: Record<string, string>;
  proc: Proc;
  /** SIGTERM, then start again on the same port and database */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** stops the server and removes its database */
  cleanup(): Promise<void>;
}

/** A real `storehook serve` that may deliver to 127.0.0.1, with fast retries and no rate limit. */
export async function startStorehook(dialect: Dialect = 'sqlite', env: Record<string, string> = {}): Promise<StorehookServer> {
  let fresh: FreshDatabase | undefined;
  const dataDir = await mkdtemp(join(tmpdir(), 'storehook-toolkit-'));
  if (dialect === 'postgres') {
    fresh = await freshDatabase('postgres');
    // The server process migrates and seeds; this handle is only kept to drop the database.
  }
  const port = await freePort();
  const serverEnv = {
    STOREHOOK_DATA_DIR: dataDir,
    DATABASE_URL: fresh?.databaseUrl ?? '',
    STOREHOOK_ALLOW_TARGETS: '127.0.0.0/8',
    STOREHOOK_RETRY_BASE_MS: '200',
    STOREHOOK_RATE_LIMIT_PER_SECOND: '0',
    STOREHOOK_POLL_INTERVAL_MS: '100',
    ...env,
  };
  const start = async () => {
    const p = spawnCli(['serve', '--port', String(port), '--host', '127.0.0.1'], serverEnv);
    await p.waitForOutput(/listening on http:\/\/\S+/, 60_000);
    return p;
  };
  let proc = await start();
  const email = (await proc.waitForOutput(/e-mail:\s+(\S+)/))[1]!;
  const apiKey = (await proc.waitForOutput(/API key:\s+(\S+)/))[1]!;
  const url = `http://127.0.0.1:${port}`;
  const server: StorehookServer = {
    url,
    port,
    email,
    apiKey,
    cliEnv: { STOREHOOK_URL: url, STOREHOOK_EMAIL: email, STOREHOOK_API_KEY: apiKey },
    get proc() {
      return proc;
    },
    async restart() {
      await proc.stop();
      proc = await start();
    },
    async stop() {
      await proc.stop();
    },
    async cleanup() {
      await proc.stop().catch(() => undefined);
      await fresh?.cleanup().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** A TCP proxy to `targetPort` whose connections can be cut (and refused) and then let through again. */
export class CuttableProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(port = 0): Promise<number> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Drops every connection and stops accepting new ones (clients see resets, then refusals). */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again, on the same port. */
  async resume(): Promise<void> {
    await this.start(this.port);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}

export { sleep } from './waiting.js';

/** waitUntil with the longer defaults real processes need (they start and answer slower). */
export function eventually<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 100): Promise<NonNullable<T>> {
  return waitUntil(what, check, timeoutMs, everyMs);
}
