/**
 * Many processes started together on one fresh PostgreSQL database all come up: migrations run
 * once under the migrator's lock, and the demo store is seeded once under an advisory lock
 * (src/admin/demo.ts). 4 `serve --no-dispatcher` processes at once, 2 rounds (STARTUP_ROUNDS
 * raises it for a soak run).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshDatabase } from '../helpers/database.js';
import { spawnStorehook, type StorehookProcess } from '../helpers/processes.js';

const ROUNDS = Number(process.env['STARTUP_ROUNDS'] ?? 2);
const PROCESSES = 4;
const enabled = Boolean(process.env['TEST_DATABASE_URL']);

test(`PostgreSQL: ${PROCESSES} serve --no-dispatcher started at once on a fresh database all come up (${ROUNDS} rounds)`, { skip: !enabled, timeout: ROUNDS * 60_000 }, async () => {
  for (let round = 1; round <= ROUNDS; round++) {
    const fresh = await freshDatabase('postgres', { migrate: false });
    const results = await Promise.allSettled(
      Array.from({ length: PROCESSES }, () => spawnStorehook(['serve', '--no-dispatcher', '--port', '0'], { DATABASE_URL: fresh.databaseUrl! }, 45_000)),
    );
    const started = results.filter((r): r is PromiseFulfilledResult<StorehookProcess> => r.status === 'fulfilled').map((r) => r.value);
    try {
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason));
      assert.deepEqual(failed, [], `round ${round}: every process starts`);
      const stores = await fresh.database.kysely.selectFrom('stores').select('name').execute();
      assert.deepEqual(stores.map((s) => s.name), ['demo'], `round ${round}: one demo store`);
      const users = await fresh.database.kysely.selectFrom('api_users').select('email').execute();
      assert.equal(users.length, 1, `round ${round}: one demo user`);
    } finally {
      await Promise.all(started.map((p) => p.kill()));
      await fresh.cleanup();
    }
    const shownKeys = started.filter((p) => p.output().includes('API key:')).length;
    assert.equal(shownKeys, 1, `round ${round}: exactly one process created the demo store and showed its key`);
  }
});
