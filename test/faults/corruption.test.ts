/**
 * Damage in the middle of the SQLite file is found at start (`PRAGMA quick_check`) and reported
 * on /healthz, instead of `200` there while reads of the damaged table fail.
 */
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import type { RunningServer } from '../../src/server.js';
import { freshDatabase, type FreshDatabase } from '../helpers/database.js';
import { serveOn } from '../helpers/live-server.js';

let fresh: FreshDatabase | undefined;
let server: RunningServer | undefined;
after(async () => {
  await server?.close();
  await fresh?.cleanup();
});

test('SQLite: a damaged page in the middle of the file makes /healthz answer 503 with the reason', async () => {
  fresh = await freshDatabase('sqlite');
  const db = fresh.database.kysely;
  const rows = Array.from({ length: 500 }, (_, i) => ({ store_id: 1, topic: 'order.created', order_id: i, created_at: Date.now() }));
  for (let i = 0; i < 40; i++) await db.insertInto('store_events').values(rows).execute();
  await sql`pragma wal_checkpoint(TRUNCATE)`.execute(db);
  const pageSize = Number((await sql<{ page_size: number }>`pragma page_size`.execute(db)).rows[0]!.page_size);
  const pageCount = Number((await sql<{ page_count: number }>`pragma page_count`.execute(db)).rows[0]!.page_count);
  assert.ok(pageCount > 100, `the file has ${pageCount} pages`);

  const file = await open(fresh.database.sqliteFile!, 'r+');
  await file.write(Buffer.alloc(pageSize, 0xa5), 0, pageSize, Math.floor(pageCount / 2) * pageSize);
  await file.close();

  server = await serveOn(fresh);
  const res = await fetch(`${server.url}/healthz`);
  const body = (await res.json()) as { status: string; error?: string };
  assert.equal(res.status, 503, JSON.stringify(body));
  assert.equal(body.status, 'unavailable');
  assert.match(body.error ?? '', /damaged.*quick_check/);
});

test('SQLite: with the check turned off (limit 0), /healthz says it did not run', async () => {
  const small = await freshDatabase('sqlite');
  const s = await serveOn(small, { sqliteCheckMaxMb: 0 });
  try {
    const body = (await (await fetch(`${s.url}/healthz`)).json()) as { status: string; note?: string };
    assert.equal(body.status, 'ok');
    assert.match(body.note ?? '', /integrity check turned off/);
  } finally {
    await s.close();
    await small.cleanup();
  }
});
