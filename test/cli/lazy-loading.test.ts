// What `storehook` loads. The tests, the scale runs and integrators' scripts spawn it hundreds of
// times: `--help`, usage errors and the toolkit commands (`listen`, `trigger`, `verify`, which
// only speak HTTP) must not load the database layer, the migrations or Fastify. cli.ts registers
// the commands with light modules only and each action loads its implementation with
// `await import()`; a static import of something heavy there fails this test. A resolve hook,
// written to a temporary folder and preloaded with `--import`, records every module the command
// resolves.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/storehook.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Packages that mean the database layer or the server was loaded. */
const HEAVY_PACKAGES = ['kysely', 'pg', 'better-sqlite3', 'fastify', 'typebox'];

let dir = '';
let hook = '';
let log = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storehook-lazy-'));
  log = join(dir, 'resolved.log');
  const recorder = join(dir, 'record-resolved.mjs');
  await writeFile(
    recorder,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');
  return result;
}
`,
  );
  hook = join(dir, 'register.mjs');
  await writeFile(hook, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(recorder).href)});\n`);
  await writeFile(join(dir, 'capture.txt'), 'webhook-id: msg_1\nwebhook-timestamp: 1714634172\nwebhook-signature: v1,AAAA\n\n{"a":1}\n');
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'DATABASE_URL' || k === 'NODE_OPTIONS' || k.startsWith('STOREHOOK_')) continue;
    env[k] = v;
  }
  return env;
}

interface Loaded {
  code: number | null;
  stderr: string;
  /** package names under node_modules, e.g. `kysely`, `@fastify/swagger` */
  packages: Set<string>;
  /** storehook's own modules, relative to the checkout, e.g. `src/db/connection.ts` */
  modules: Set<string>;
}

/** Runs `storehook <args>` with the recording hook and returns what it resolved. */
async function load(args: string[]): Promise<Loaded> {
  await writeFile(log, '');
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', pathToFileURL(hook).href, BIN, ...args], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // generous: the machine is shared, and each run loads tsx and the sources
    const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
    proc.on('error', reject);
    proc.on('close', (c) => {
      clearTimeout(timer);
      resolve({ code: c, stderr: err });
    });
  });
  const packages = new Set<string>();
  const modules = new Set<string>();
  const root = pathToFileURL(ROOT).href.replace(/\/?$/, '/');
  for (const url of (await readFile(log, 'utf8')).split('\n')) {
    const pkg = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (pkg) packages.add(pkg[1]!);
    else if (url.startsWith(root)) modules.add(url.slice(root.length));
  }
  return { code, stderr, packages, modules };
}

function assertLight(run: Loaded, what: string): void {
  const heavy = HEAVY_PACKAGES.filter((p) => run.packages.has(p));
  assert.deepEqual(heavy, [], `${what} loaded ${heavy.join(', ')}`);
  const dbModules = [...run.modules].filter((m) => m.startsWith('src/db/') || m === 'src/server.ts');
  assert.deepEqual(dbModules, [], `${what} loaded the database layer or the server`);
  // The hook saw the command's own modules: the assertions above are not vacuous.
  assert.ok(run.modules.has('src/cli.ts') && run.packages.has('commander'), `${what}: the hook recorded nothing useful\n${run.stderr}`);
}

describe('storehook loads only what the command it runs needs', () => {
  for (const args of [['--help'], ['verify', '--help'], ['trigger', '--help'], ['listen', '--help'], ['stores', '--help']]) {
    it(`${args.join(' ')}: commander and light modules only`, async () => {
      const run = await load(args);
      assert.equal(run.code, 0, run.stderr);
      assertLight(run, args.join(' '));
    });
  }

  it('a usage error: no database layer', async () => {
    const run = await load(['stores', 'frobnicate']);
    assert.equal(run.code, 2, run.stderr);
    assertLight(run, 'stores frobnicate');
  });

  it('verify checks a capture without the database layer', async () => {
    const run = await load(['verify', '--secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', '--headers', join(dir, 'capture.txt'), '--now', '1714634172']);
    assert.equal(run.code, 1, run.stderr); // a wrong signature: NOT VALID
    assertLight(run, 'verify');
    assert.ok(run.modules.has('src/toolkit/verify-command.ts'), 'the verify action ran');
  });

  it('trigger and listen run their actions without the database layer', async () => {
    // Port 1 refuses at once: trigger gets as far as its first API call and exits 4.
    const trigger = await load(['trigger', 'order.created', '--url', 'http://127.0.0.1:1', '--email', 'a@example.com', '--key', 'shk_x']);
    assert.equal(trigger.code, 4, trigger.stderr);
    assertLight(trigger, 'trigger');
    assert.ok(trigger.modules.has('src/toolkit/trigger-command.ts'), 'the trigger action ran');

    const listen = await load(['listen', '--print-secret', '--email', 'a@example.com', '--key', 'shk_x']);
    assert.equal(listen.code, 0, listen.stderr);
    assertLight(listen, 'listen');
    assert.ok(listen.modules.has('src/toolkit/listen-command.ts'), 'the listen action ran');
  });

  it('an admin command still loads the database layer (the hook sees it)', async () => {
    const run = await load(['stores', 'list', '--data-dir', join(dir, 'no-such-folder')]);
    assert.equal(run.code, 2, run.stderr);
    assert.ok(run.packages.has('kysely') && run.modules.has('src/commands/with-database.ts'), [...run.packages].join(', '));
  });
});
