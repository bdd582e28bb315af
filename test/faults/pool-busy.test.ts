/**
 * PostgreSQL pool exhaustion (200 simultaneous requests on one process while the database is
 * slow) is "busy", not "the database is not reachable": requests wait in a bounded queue; past
 * its bound or its wait they get 503 busy with Retry-After.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import type { Config } from '../../src/config.js';
import type { RunningServer } from '../../src/server.js';
import { freshDatabase, type FreshDatabase } from '../helpers/database.js';
import { basicAuth } from '../helpers/app.js';
import { serveOn } from '../helpers/live-server.js';

const enabled = Boolean(process.env['TEST_DATABASE_URL']);
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Answer {
  status: number;
  message: string;
  retryAfter: string | null;
}

/** Starts a server, holds a lock every request's login needs for `holdMs`, and fires 200 requests meanwhile. */
async function burstWhileSlow(overrides: Partial<Config>, holdMs: number): Promise<Answer[]> {
  const fresh: FreshDatabase = await freshDatabase('postgres');
  cleanups.push(() => fresh.cleanup());
  const server: RunningServer = await serveOn(fresh, { rateLimitPerSecond: 0, ...overrides });
  cleanups.push(() => server.close());
  const creds = server.demoCredentials!;
  const locker = new pg.Client({ connectionString: fresh.databaseUrl });
  await locker.connect();
  cleanups.push(() => locker.end());
  await locker.query('begin');
  await locker.query('lock table api_users in access exclusive mode');
  const release = setTimeout(() => void locker.query('commit'), holdMs);
  try {
    return await Promise.all(
      Array.from({ length: 200 }, async () => {
        const res = await fetch(`${server.url}/api/v1/orders`, { headers: { authorization: basicAuth(creds.email, creds.apiKey) } });
        const body = (await res.json()) as { message?: string };
        return { status: res.status, message: body.message ?? '', retryAfter: res.headers.get('retry-after') };
      }),
    );
  } finally {
    clearTimeout(release);
  }
}

test('PostgreSQL: 200 requests while the database is slow wait for a connection instead of failing', { skip: !enabled, timeout: 60_000 }, async () => {
  // The default pool (10) and queue (500, 10 s): a 6 s stall is waited out.
  const answers = await burstWhileSlow({}, 6_000);
  const statuses = answers.map((a) => a.status);
  assert.deepEqual([...new Set(statuses)], [200], `statuses: ${JSON.stringify(answers.filter((a) => a.status !== 200).slice(0, 3))}`);
});

test('PostgreSQL: past the pool queue or its wait, requests get 503 "busy" with Retry-After, never "not reachable"', { skip: !enabled, timeout: 60_000 }, async () => {
  const answers = await burstWhileSlow({ dbPoolSize: 4, dbPoolQueue: 30, dbPoolWaitMs: 500 }, 1_500);
  const busy = answers.filter((a) => a.status === 503);
  assert.ok(busy.length > 0, 'the small queue overflowed');
  assert.ok(answers.some((a) => a.status === 200), 'requests that got a connection were answered');
  for (const a of answers) {
    assert.ok(a.status === 200 || a.status === 503, `status ${a.status}: ${a.message}`);
    assert.doesNotMatch(a.message, /not reachable/);
  }
  for (const a of busy) {
    assert.match(a.message, /busy/);
    assert.equal(a.retryAfter, '1');
  }
});
