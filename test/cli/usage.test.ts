// The command as an operator meets it when something is off: usage errors are one `storehook:`
// line with exit code 2, admin commands never create a database as a side effect, migrate says
// what it applied, database errors are in plain words, --help shows defaults, `worker --help`
// only worker settings, `trigger` against something that is not storehook exits 4, and `serve`
// keeps its banner (with the one-time key) out of the JSON log on stdout.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/storehook.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'DATABASE_URL' || k === 'PORT' || k === 'HOST' || k === 'LOG_LEVEL' || k.startsWith('STOREHOOK_')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // generous: the machine is shared, and each run loads tsx and the sources
    const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function oneLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `expected one line, got:\n${text}`);
  return lines[0]!;
}

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'storehook-usage-'));
  tempDirs.push(d);
  return d;
}

// one process at a time: many at once on a busy 2-core machine only make each slower
describe('storehook usage', () => {
  after(async () => {
    for (const d of tempDirs) await rm(d, { recursive: true, force: true });
  });

  it('answers every usage error with one storehook: line and exit code 2', { timeout: 300_000 }, async () => {
    const dir = await tempDir();
    const cases = [
      ['stores', 'list', '--bogus', '--data-dir', dir],
      ['serve', '--no-such-flag'],
      ['no-such-command'],
      ['stores', 'create', '--data-dir', dir],
      ['users', 'create', '--store'],
    ];
    const results: Finished[] = [];
    for (const args of cases) results.push(await run(args));
    results.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i]!.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(oneLine(r.stderr), /^storehook: /, cases[i]!.join(' '));
    });
    assert.match(results[0]!.stderr, /--bogus/);
    assert.match(results[3]!.stderr, /--name/);
    assert.deepEqual(readdirSync(dir), [], 'nothing was created');
  });

  it('refuses an admin command on a data directory that does not exist, or holds no database', { timeout: 300_000 }, async () => {
    const parent = await tempDir();
    const typo = join(parent, 'typo');
    const missing = await run(['stores', 'list', '--data-dir', typo]);
    const empty = await run(['stores', 'list'], { STOREHOOK_DATA_DIR: parent });
    const users = await run(['users', 'list', '--data-dir', typo]);
    for (const r of [missing, users]) {
      assert.equal(r.code, 2, r.stderr);
      assert.match(oneLine(r.stderr), new RegExp(`^storehook: the data directory ${typo} does not exist`));
    }
    assert.equal(empty.code, 2, empty.stderr);
    assert.match(oneLine(empty.stderr), /no storehook database in/);
    assert.equal(empty.stdout, '', 'no "(none)" listing');
    assert.ok(!existsSync(typo), 'the mistyped directory was not created');
    assert.ok(!existsSync(join(parent, 'storehook.db')), 'no empty database was created');
  });

  it('migrate creates the database in an existing folder and lists what it applied; a second run applies nothing', { timeout: 300_000 }, async () => {
    const dir = await tempDir();
    const first = await run(['migrate', '--data-dir', dir]);
    assert.equal(first.code, 0, first.stderr);
    const applied = first.stdout.split('\n').filter((l) => l.startsWith('applied '));
    assert.ok(applied.length >= 4, first.stdout);
    assert.match(applied[0]!, /^applied 0001-/);
    assert.match(first.stdout, new RegExp(`up to date \\(${applied.length} migrations applied\\)`));
    const second = await run(['migrate', '--data-dir', dir]);
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stdout, /^applied/m);
    assert.match(second.stdout, /nothing to apply/);
    const stores = await run(['stores', 'list', '--json', '--data-dir', dir]);
    assert.equal(stores.code, 0, stores.stderr);
    assert.deepEqual(JSON.parse(stores.stdout), []);
  });

  it('says in plain words that PostgreSQL did not answer, and where', { timeout: 300_000 }, async () => {
    const url = 'postgres://nobody:secret-pw@127.0.0.1:1/shop';
    const results = [await run(['migrate', '--database-url', url]), await run(['stores', 'list'], { DATABASE_URL: url })];
    for (const r of results) {
      assert.equal(r.code, 1, r.stderr);
      const line = oneLine(r.stderr);
      assert.match(line, /^storehook: the database at 127\.0\.0\.1:1 \(database "shop"\) did not answer \(connection refused\)/);
      assert.doesNotMatch(line, /migration|unknown|ECONNREFUSED/);
      assert.ok(!line.includes('secret-pw'), 'no password');
    }
  });

  it('shows defaults in --help, and only worker settings in worker --help', { timeout: 300_000 }, async () => {
    const serve = await run(['serve', '--help']);
    const worker = await run(['worker', '--help']);
    assert.equal(serve.code, 0);
    assert.equal(worker.code, 0);
    const optionLine = (help: string, flag: string) => help.split('\n').find((l) => l.trimStart().startsWith(`${flag} `)) ?? '';
    assert.match(optionLine(serve.stdout, '--port'), /\(default: 8080\)/);
    assert.match(optionLine(serve.stdout, '--retry-base-ms'), /\(default: 15000\)/);
    assert.match(optionLine(serve.stdout, '--data-dir'), /\(default: \.\/data\)/);
    assert.match(optionLine(serve.stdout, '--rate-limit-per-second'), /\(default: 50\)/);
    for (const apiOnly of ['--rate-limit-per-second', '--rate-limit-burst', '--auth-failures-per-minute', '--max-subscriptions', '--https-only', '--log-requests']) {
      assert.ok(serve.stdout.includes(apiOnly), `serve --help lists ${apiOnly}`);
      assert.ok(!worker.stdout.includes(apiOnly), `worker --help lists ${apiOnly}`);
    }
    assert.match(optionLine(worker.stdout, '--delivery-concurrency'), /\(default: 64\)/);
  });

  it('trigger exits 4 when the URL is not a storehook server', { timeout: 300_000 }, async () => {
    const other = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><body>Not Found</body></html>');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const port = (other.address() as { port: number }).port;
      const r = await run(['trigger', 'order.created', '--url', `http://127.0.0.1:${port}`, '--email', 'a@example.com', '--key', 'shk_x']);
      assert.equal(r.code, 4, r.stderr);
      assert.match(oneLine(r.stderr), /^storehook: .*not a storehook server/);
    } finally {
      other.close();
    }
  });

  it('serve prints its banner with the one-time key on stderr, and one JSON log line per request on stdout', { timeout: 300_000 }, async () => {
    const dir = await tempDir();
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dir], { cwd: ROOT, env: cleanEnv({ LOG_LEVEL: 'info' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
    try {
      const started = Date.now();
      while (!/curl .*\n/.test(stderr)) {
        assert.ok(Date.now() - started < 120_000, `serve did not start:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = /listening on (http:\/\/\S+)/.exec(stderr)![1]!;
      const email = /e-mail:\s+(\S+)/.exec(stderr)![1]!;
      const key = /API key:\s+(\S+)/.exec(stderr)![1]!;
      const auth = `Basic ${Buffer.from(`${email}:${key}`).toString('base64')}`;
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${url}/api/v1/orders?page_size=1`, { headers: { authorization: auth } })).status, 200);
      proc.kill('SIGTERM');
      assert.equal(await closed, 0, stderr);
      const lines = stdout.split('\n').filter((l) => l.trim() !== '');
      const records = lines.map((l) => JSON.parse(l) as { msg?: string; req?: { url?: string }; res?: { statusCode?: number } });
      const requests = records.filter((r) => r.req?.url?.startsWith('/api/v1/orders'));
      assert.equal(requests.length, 3, `one line per request:\n${stdout}`);
      assert.ok(requests.every((r) => r.msg === 'request completed' && r.res?.statusCode === 200));
      assert.ok(!stdout.includes(key), 'the API key is not in the log stream');
      assert.doesNotMatch(stdout, /API key|e-mail:/);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  });
});
