/**
 * SQLite's one-serving-process lock (src/db/sqlite-lock.ts) with real processes: a lock file left
 * behind with the PID of a live process that is not storehook (PID 1, or this test itself, as
 * after a reboot or in a container) does not block `serve`; a live storehook still refuses a
 * second one with the same message as before; killing the holder frees the lock at once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { spawnStorehook, type StorehookProcess } from '../helpers/processes.js';

const started: StorehookProcess[] = [];
const dirs: string[] = [];
after(async () => {
  for (const p of started) await p.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const env = { DATABASE_URL: '' };

async function serve(dir: string): Promise<StorehookProcess> {
  const p = await spawnStorehook(['serve', '--port', '0', '--data-dir', dir], env);
  started.push(p);
  return p;
}

test('a stale lock file naming a live non-storehook PID does not block serve; a live storehook does', { timeout: 90_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'storehook-lock-'));
  dirs.push(dir);
  const pidFile = join(dir, 'storehook.db.lock');

  await writeFile(pidFile, '1');
  const first = await serve(dir);
  assert.equal((await fetch(`${first.url}/healthz`)).status, 200);

  await assert.rejects(serve(dir), (err: Error) => {
    assert.match(err.message, new RegExp(`another storehook process \\(pid ${first.proc.pid}\\) is already serving`));
    assert.match(err.message, /PostgreSQL/);
    return true;
  });

  await first.kill('SIGKILL');
  // The killed holder's file is still there; now it names a live process that is not storehook.
  await writeFile(pidFile, String(process.pid));
  const third = await serve(dir);
  assert.equal((await fetch(`${third.url}/healthz`)).status, 200);
  await third.kill();
});
