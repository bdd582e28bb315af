/**
 * A full disk gets a true answer: 507 saying so (not a 500 hiding the cause behind "cannot
 * rollback"), /healthz 503 while writes fail, and both recover once there is space again.
 * SQLite runs out of space for real through `PRAGMA max_page_count`; PostgreSQL's 53100
 * disk_full is mapped the same way.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { classifyFault } from '../../src/db/faults.js';
import type { RunningServer } from '../../src/server.js';
import { freshDatabase, type FreshDatabase } from '../helpers/database.js';
import { captureLogs } from '../helpers/log-capture.js';
import { basicAuth, orderBody } from '../helpers/app.js';
import { serveOn } from '../helpers/live-server.js';

let fresh: FreshDatabase;
let server: RunningServer;
const logs = captureLogs();

before(async () => {
  fresh = await freshDatabase('sqlite');
  server = await serveOn(fresh, {}, logs.logger);
});
after(async () => {
  await server?.close();
  await fresh?.cleanup();
});

async function postOrder(): Promise<Response> {
  const creds = server.demoCredentials!;
  return fetch(`${server.url}/api/v1/orders`, {
    method: 'POST',
    headers: { authorization: basicAuth(creds.email, creds.apiKey), 'content-type': 'application/json' },
    body: JSON.stringify(orderBody({ custom_data: 'x'.repeat(4000) })),
  });
}

test('SQLite: a full disk answers 507 with the reason, /healthz says so, and writes resume with space', async () => {
  const kysely = server.database.kysely;
  assert.equal((await postOrder()).status, 200, 'writes work before');
  const pages = await sql<{ page_count: number }>`pragma page_count`.execute(kysely);
  await sql.raw(`pragma max_page_count = ${pages.rows[0]!.page_count}`).execute(kysely);

  let full: Response | undefined;
  for (let i = 0; i < 50 && !full; i++) {
    const res = await postOrder();
    if (res.status !== 200) full = res;
    else await res.arrayBuffer();
  }
  assert.ok(full, 'a write failed once the file could not grow');
  const body = (await full.json()) as { code: number; message: string };
  assert.equal(full.status, 507, JSON.stringify(body));
  assert.equal(body.code, 507);
  assert.match(body.message, /disk is full/);
  assert.ok(Number(full.headers.get('retry-after')) > 0);
  assert.doesNotMatch(logs.text(), /cannot rollback/, 'the rollback did not hide the real error');
  assert.match(logs.text(), /SQLITE_FULL/, 'the original error is logged');

  const sick = await fetch(`${server.url}/healthz`);
  const sickBody = (await sick.json()) as { status: string; error?: string };
  assert.equal(sick.status, 503, JSON.stringify(sickBody));
  assert.match(sickBody.error ?? '', /disk full/);

  await sql.raw('pragma max_page_count = 1073741823').execute(kysely);
  const healthy = await fetch(`${server.url}/healthz`);
  assert.equal(healthy.status, 200, await healthy.text());
  const again = await postOrder();
  assert.equal(again.status, 200, await again.text());
});

test('PostgreSQL 53100 disk_full and SQLITE_FULL both map to 507 "disk is full"', () => {
  for (const code of ['53100', 'SQLITE_FULL']) {
    const fault = classifyFault(Object.assign(new Error('could not extend file: No space left on device'), { code }));
    assert.equal(fault?.status, 507, code);
    assert.match(fault?.message ?? '', /disk is full/);
  }
});
