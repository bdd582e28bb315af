// The `storehook` command as an operator uses it (SPEC §5, §5a): first run
// prints the demo credentials once, admin commands work beside a running server, a second server
// on the same SQLite file is refused, bad settings stop the start with one line, SIGTERM exits 0.
// SQLite only: each test gets its own temp data directory; the environment is scrubbed so a
// DATABASE_URL or PORT of the machine cannot leak in.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/storehook.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'DATABASE_URL' || k === 'PORT' || k === 'HOST' || k === 'LOG_LEVEL' || k.startsWith('STOREHOOK_')) continue;
    env[k] = v;
  }
  return { ...env, LOG_LEVEL: 'warn', ...extra };
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `storehook <args>` to completion. */
function run(args: string[], env: Record<string, string> = {}, timeoutMs = 25_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`storehook ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

interface Server {
  proc: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `storehook serve …` and resolves once it prints the URL it listens on. */
async function startServe(args: string[], env: Record<string, string> = {}, timeoutMs = 25_000): Promise<Server> {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`serve did not start in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    const check = () => {
      // whole lines only (a pipe may deliver the banner in pieces); the curl line too when there is one
      const m = /listening on (http:\/\/\S+)\n/.exec(stderr);
      if (m && /API docs: .*\n/.test(stderr) && (!stderr.includes('API key:') || /curl .*\n/.test(stderr))) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stderr!.on('data', check);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening\n${stdout}\n${stderr}`));
    });
  });
  return {
    proc,
    url,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

const basic = (email: string, key: string) => `Basic ${Buffer.from(`${email}:${key}`).toString('base64')}`;
const statusWith = async (url: string, email: string, key: string) => {
  try {
    return (await fetch(`${url}/api/v1/orders`, { headers: { authorization: basic(email, key) } })).status;
  } catch (err) {
    throw new Error(`GET ${url}/api/v1/orders: ${(err as Error & { cause?: Error }).cause?.message ?? err}`);
  }
};
/** The only non-empty line of a stream, asserting there is exactly one. */
function oneLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `expected one line, got:\n${text}`);
  return lines[0]!;
}

describe('storehook command', { concurrency: true }, () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'storehook-cli-'));
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('stops with exit code 2 and one line naming the variable for an invalid setting', { timeout: 30_000 }, async () => {
    const dir = await tempDir();
    const [env, admin] = await Promise.all([
      run(['serve', '--port', '0'], { STOREHOOK_RETRY_BASE_MS: 'abc', STOREHOOK_DATA_DIR: dir }),
      run(['stores', 'list', '--data-dir', dir, '--log-level', 'loud']),
    ]);
    assert.equal(env.code, 2, env.stderr);
    const line = oneLine(env.stderr);
    assert.match(line, /STOREHOOK_RETRY_BASE_MS/);
    assert.match(line, /integer/);
    assert.doesNotMatch(env.stdout, /API key/);
    // a flag of an admin command: the same rule, naming both the variable and the flag
    assert.equal(admin.code, 2, admin.stderr);
    assert.match(oneLine(admin.stderr), /LOG_LEVEL \(--log-level\)/);
    assert.ok(!existsSync(join(dir, 'storehook.db')), 'nothing was created');
  });

  it('stops with exit code 2 and one line naming PORT for a port above 65535', { timeout: 30_000 }, async () => {
    const dir = await tempDir();
    const r = await run(['serve', '--port', '99999', '--data-dir', dir]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /PORT.*--port|--port.*PORT/);
  });

  it('fails with one clear line when the PostgreSQL of --database-url does not answer', { timeout: 30_000 }, async () => {
    const dir = await tempDir();
    const url = 'postgres://nobody@127.0.0.1:1/x';
    const [serve, admin] = await Promise.all([run(['serve', '--port', '0', '--database-url', url], { STOREHOOK_DATA_DIR: dir }), run(['stores', 'list', '--database-url', url])]);
    for (const r of [serve, admin]) {
      assert.notEqual(r.code, 0, r.stdout);
      const line = oneLine(r.stderr);
      assert.match(line, /DATABASE_URL|PostgreSQL/, line);
      assert.match(line, /ECONNREFUSED|connect|answer/i, line);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    }
  });

  // in order (the parent runs its children concurrently, and children inherit that)
  describe('a running server', { concurrency: 1 }, () => {
    let dir: string;
    let server: Server;
    let email: string;
    let key: string;
    const admin = (...args: string[]) => run(args, { STOREHOOK_DATA_DIR: dir });

    before(async () => {
      dir = await tempDir();
      server = await startServe(['serve', '--port', '0', '--data-dir', dir]);
    });
    after(async () => {
      await server?.stop('SIGKILL');
    });

    it('prints the URL, the demo e-mail and API key and a curl line that works, on the first run', { timeout: 30_000 }, async () => {
      const out = server.stderr();
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(server.url, 'http://127.0.0.1:0');
      email = /e-mail:\s+(\S+)/.exec(out)?.[1] ?? '';
      key = /API key:\s+(\S+)/.exec(out)?.[1] ?? '';
      assert.match(email, /@/);
      assert.ok(key.length >= 27, `a key of at least 160 bits: ${key}`);
      const curl = /curl -u '([^']+)' (\S+)/.exec(out);
      assert.ok(curl, out);
      assert.equal(curl[1], `${email}:${key}`);
      assert.equal(curl[2], `${server.url}/api/v1/orders`);
      assert.ok(existsSync(join(dir, 'storehook.db')));
      assert.equal(await statusWith(server.url, email, key), 200);
      assert.equal(await statusWith(server.url, email, `${key}x`), 401);
    });

    describe('beside it', { concurrency: true }, () => {
      it('stores create --json and users create --json give a key that works; rotate-key replaces it', { timeout: 40_000 }, async () => {
        const store = await admin('stores', 'create', '--name', 'acme', '--plan', 'pro', '--json');
        assert.equal(store.code, 0, store.stderr);
        const s = JSON.parse(store.stdout);
        assert.equal(s.name, 'acme');
        assert.equal(s.plan, 'pro');
        const user = await admin('users', 'create', '--store', 'acme', '--email', 'ERP@acme.example', '--json');
        assert.equal(user.code, 0, user.stderr);
        const u = JSON.parse(user.stdout);
        assert.deepEqual(Object.keys(u).sort(), ['api_key', 'email', 'store']);
        assert.equal(u.store, 'acme');
        assert.equal(u.email, 'erp@acme.example');
        assert.equal(await statusWith(server.url, u.email, u.api_key), 200);

        const rotated = await admin('users', 'rotate-key', '--email', 'erp@acme.example', '--json');
        assert.equal(rotated.code, 0, rotated.stderr);
        const r = JSON.parse(rotated.stdout);
        assert.notEqual(r.api_key, u.api_key);
        assert.equal(await statusWith(server.url, u.email, u.api_key), 401, 'the old key stops working at once');
        assert.equal(await statusWith(server.url, u.email, r.api_key), 200);

      });

      it('runs migrate, stores list and users list while the server runs', { timeout: 40_000 }, async () => {
        const [migrate, stores, users] = await Promise.all([admin('migrate'), admin('stores', 'list', '--json'), admin('users', 'list', '--json')]);
        assert.equal(migrate.code, 0, migrate.stderr);
        assert.match(migrate.stdout, /up to date/);
        assert.equal(stores.code, 0, stores.stderr);
        assert.ok((JSON.parse(stores.stdout) as { name: string; plan: string }[]).some((s) => s.name === 'demo' && s.plan === 'advanced'));
        assert.equal(users.code, 0, users.stderr);
        const list = JSON.parse(users.stdout) as { email: string; key: string }[];
        const demo = list.find((u) => u.email === email);
        assert.ok(demo, users.stdout);
        assert.ok(!users.stdout.includes(key), 'users list never shows a key');
      });

      it('refuses a second serve on the same data directory, pointing to PostgreSQL', { timeout: 30_000 }, async () => {
        const second = await run(['serve', '--port', '0', '--data-dir', dir]);
        assert.notEqual(second.code, 0, second.stdout);
        assert.match(second.stderr, /PostgreSQL/);
        assert.doesNotMatch(second.stderr, /listening on/);
        // the first one still answers
        assert.equal(await statusWith(server.url, email, key), 200);
      });
    });

    it('exits 0 on SIGTERM', { timeout: 30_000 }, async () => {
      const { code, signal } = await server.stop('SIGTERM');
      assert.equal(signal, null);
      assert.equal(code, 0, server.stderr());
    });

    it('prints no key on a later run, and the demo key from the first run still works', { timeout: 30_000 }, async () => {
      const again = await startServe(['serve', '--port', '0'], { STOREHOOK_DATA_DIR: dir });
      try {
        assert.doesNotMatch(again.stderr(), /API key/);
        assert.ok(!again.stderr().includes(key));
        assert.equal(await statusWith(again.url, email, key), 200);
      } finally {
        const { code } = await again.stop('SIGINT');
        assert.equal(code, 0, again.stderr());
      }
    });
  });
});
