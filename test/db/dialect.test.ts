// The dialect helpers of src/db/: on PostgreSQL they lock, notify and listen across connections;
// on SQLite (one process, one writer at a time) they leave the SQL as it is and listen to nothing.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase, type Database } from '../../src/db/connection.js';
import { advisoryXactLockShared, afterAdvisoryLockHolders, lockForUpdate, notify } from '../../src/db/dialect.js';
import { inTransaction } from '../../src/db/transaction.js';
import { forEachDialect, freshDatabase, type FreshDatabase } from '../helpers/database.js';

const quietLog = { warn: () => undefined };

async function waitFor(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

forEachDialect('database dialect helpers', (dialect) => {
  let fresh: FreshDatabase;
  let other: Database;

  before(async () => {
    fresh = await freshDatabase(dialect);
    // A second handle: another process's pool, as far as PostgreSQL can tell.
    other = fresh.databaseUrl ? await openDatabase({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir, poolSize: 2 }) : fresh.database;
  });
  after(async () => {
    if (other !== fresh.database) await other.close();
    await fresh.cleanup();
  });

  it('listen hears a notify once its transaction commits, never a rolled-back one (SQLite: never)', async () => {
    let heard = 0;
    const listener = fresh.database.listen('storehook_dialect_test', () => heard++, quietLog);
    try {
      if (dialect === 'postgres') await waitFor('the listening connection', () => heard > 0);
      const connected = heard;
      await assert.rejects(
        inTransaction(other, async (tx) => {
          await notify(tx, 'storehook_dialect_test');
          throw new Error('roll back');
        }),
        /roll back/,
      );
      await inTransaction(other, async (tx) => {
        await notify(tx, 'storehook_dialect_test');
        await sleep(200);
        assert.equal(heard, connected, 'not heard before the commit');
      });
      if (dialect === 'postgres') await waitFor('the committed notification', () => heard === connected + 1);
      await sleep(200);
      assert.equal(heard, dialect === 'postgres' ? connected + 1 : 0);
    } finally {
      await listener.close();
    }
  });

  it('lockForUpdate adds FOR UPDATE [SKIP LOCKED] on PostgreSQL only, and a locked row is skipped', async () => {
    const query = fresh.database.kysely.selectFrom('stores').select('id').where('name', '=', 'locked');
    const compiled = lockForUpdate(query, dialect, { skipLocked: true }).compile().sql;
    assert.equal(/for update skip locked/i.test(compiled), dialect === 'postgres', compiled);
    if (dialect !== 'postgres') return;
    await fresh.database.kysely.insertInto('stores').values({ name: 'locked', plan: 'advanced', timezone: 'UTC', created_at: Date.now() }).execute();
    await inTransaction(fresh.database, async (tx) => {
      const mine = await lockForUpdate(tx.db.selectFrom('stores').select('id').where('name', '=', 'locked'), tx.dialect).execute();
      assert.equal(mine.length, 1);
      const seen = await lockForUpdate(other.kysely.selectFrom('stores').select('id').where('name', '=', 'locked'), other.dialect, { skipLocked: true }).execute();
      assert.equal(seen.length, 0, 'another connection skips the locked row');
    });
  });

  it('afterAdvisoryLockHolders waits for every shared holder of the key (PostgreSQL)', async () => {
    const key = [0x7465_7374, 1] as const;
    let holderDone = false;
    let releaseHolder!: () => void;
    const released = new Promise<void>((resolve) => (releaseHolder = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = inTransaction(other, async (tx) => {
      await advisoryXactLockShared(tx, key);
      holding();
      await released;
      holderDone = true;
    });
    // SQLite: the holder's transaction takes no lock; the reader runs at once either way.
    await held;
    const reading = afterAdvisoryLockHolders(fresh.database.kysely, dialect, key, async () => holderDone);
    if (dialect === 'postgres') {
      await sleep(200);
      releaseHolder();
      assert.equal(await reading, true, 'ran only after the shared holder committed');
    } else {
      assert.equal(await reading, false, 'SQLite: nothing to wait for');
      releaseHolder();
    }
    await holder;
  });
});
