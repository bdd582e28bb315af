// Date filters in the forms MyCashflow clients send: with an offset, without one (the store's time
// zone) and date only (a whole day there: -from its start, -to its end), across a Europe/Helsinki
// DST change, on every -from/-to filter of orders and webhook deliveries; anything else is a 400
// that lists the accepted forms.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { updateStore } from '../../src/admin/stores.js';
import { parseFilterTime } from '../../src/time.js';
import { errorBody } from '../helpers/app.js';
import { forEachDialect } from '../helpers/database.js';
import { api, createOrder, PUBLIC_TARGET, startHarness, subscribe, type Harness } from '../helpers/webhooks-app.js';

const HEL = 'Europe/Helsinki';
const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0) => Date.UTC(y, mo - 1, d, h, mi, s, ms);

describe('parseFilterTime', () => {
  it('reads a time with an offset as that instant, whatever the store zone', () => {
    assert.equal(parseFilterTime('2021-03-05T10:00:00+02:00', HEL, 'from'), utc(2021, 3, 5, 8));
    assert.equal(parseFilterTime('2021-03-05T08:00:00Z', 'America/New_York', 'to'), utc(2021, 3, 5, 8));
  });

  it("reads a time without an offset in the store's zone (winter +02:00, summer +03:00)", () => {
    assert.equal(parseFilterTime('2021-03-05T10:00:00', HEL, 'from'), utc(2021, 3, 5, 8));
    assert.equal(parseFilterTime('2021-07-05T10:00:00', HEL, 'from'), utc(2021, 7, 5, 7));
    assert.equal(parseFilterTime('2021-03-05 10:00', HEL, 'to'), utc(2021, 3, 5, 8));
    assert.equal(parseFilterTime('2021-03-05T10:00:00.250', HEL, 'from'), utc(2021, 3, 5, 8, 0, 0, 250));
    assert.equal(parseFilterTime('2021-03-05T10:00:00', 'UTC', 'from'), utc(2021, 3, 5, 10));
  });

  it('reads a date as the whole day: 23 hours on the spring DST day, 25 on the autumn one', () => {
    // 2021-03-28: clocks go 03:00 EET → 04:00 EEST.
    const springFrom = parseFilterTime('2021-03-28', HEL, 'from')!;
    const springTo = parseFilterTime('2021-03-28', HEL, 'to')!;
    assert.equal(springFrom, utc(2021, 3, 27, 22));
    assert.equal(springTo, utc(2021, 3, 28, 21) - 1);
    assert.equal(springTo + 1 - springFrom, 23 * 3_600_000);
    // 2021-10-31: clocks go 04:00 EEST → 03:00 EET.
    const autumnFrom = parseFilterTime('2021-10-31', HEL, 'from')!;
    const autumnTo = parseFilterTime('2021-10-31', HEL, 'to')!;
    assert.equal(autumnFrom, utc(2021, 10, 30, 21));
    assert.equal(autumnTo, utc(2021, 10, 31, 22) - 1);
    assert.equal(autumnTo + 1 - autumnFrom, 25 * 3_600_000);
  });

  it('moves a skipped wall time forward by the gap and takes the earlier of a repeated one', () => {
    // 03:30 does not exist on 2021-03-28 in Helsinki: read with the winter offset, it is 04:30 EEST.
    assert.equal(parseFilterTime('2021-03-28T03:30:00', HEL, 'from'), utc(2021, 3, 28, 1, 30));
    // 03:30 happens twice on 2021-10-31: first at +03:00 (00:30Z), then at +02:00 (01:30Z).
    assert.equal(parseFilterTime('2021-10-31T03:30:00', HEL, 'from'), utc(2021, 10, 31, 0, 30));
    // Just around the changes, each side keeps its own offset.
    assert.equal(parseFilterTime('2021-03-28T02:59:59', HEL, 'from'), utc(2021, 3, 28, 0, 59, 59));
    assert.equal(parseFilterTime('2021-03-28T04:00:00', HEL, 'from'), utc(2021, 3, 28, 1));
    assert.equal(parseFilterTime('2021-10-31T04:00:00', HEL, 'from'), utc(2021, 10, 31, 2));
  });

  it('refuses what is not a date: impossible days, hours, words, unix numbers', () => {
    for (const bad of ['2021-02-29', '2021-02-29T10:00:00', '2021-03-05T24:00:00', '2021-13-01', 'yesterday', '1614938400', '2021-3-5', '2021-03-05T10', '']) {
      assert.equal(parseFilterTime(bad, HEL, 'from'), null, bad);
    }
  });
});

forEachDialect('date filters in the API', (dialect) => {
  let h: Harness;
  // Around the spring change in Helsinki: the last ms of 27 March, the first and last of 28 March
  // (a 23-hour day), and the first of 29 March, all local time.
  const stamps = [utc(2021, 3, 27, 22) - 1, utc(2021, 3, 27, 22), utc(2021, 3, 28, 21) - 1, utc(2021, 3, 28, 21)];
  const ids: number[] = [];

  before(async () => {
    h = await startHarness(dialect);
    const store = await h.database.kysely.selectFrom('stores').select('name').where('id', '=', h.storeId).executeTakeFirstOrThrow();
    await updateStore(h.database.kysely, store.name, { timezone: HEL });
    for (const at of stamps) {
      const id = await createOrder(h);
      await h.database.kysely.updateTable('orders').set({ created_at: at, archived_at: at }).where('id', '=', id).execute();
      ids.push(id);
    }
  });
  after(async () => {
    await h?.close();
  });

  const listed = async (query: string, prefix = '/api/v1') => {
    const res = await api(h, 'GET', `${prefix}/orders?${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body.data as { id: number }[]).map((o) => o.id);
  };

  it("a date means that whole day in the store's zone, on v0 and v1, for -from and -to", async () => {
    for (const prefix of ['/api/v0', '/api/v1']) {
      assert.deepEqual(await listed('created_at-from=2021-03-28&created_at-to=2021-03-28', prefix), [ids[1], ids[2]]);
      assert.deepEqual(await listed('archived_at-to=2021-03-27', prefix), [ids[0]]);
      assert.deepEqual(await listed('archived_at-from=2021-03-29', prefix), [ids[3]]);
    }
  });

  it("a time without offset is the store's wall-clock time; with an offset it is that instant", async () => {
    // 2021-03-28T00:00:00 local = 2021-03-27T22:00:00Z
    assert.deepEqual(await listed('created_at-from=2021-03-28T00:00:00'), [ids[1], ids[2], ids[3]]);
    assert.deepEqual(await listed('created_at-to=2021-03-27%2023:59:59.999'), [ids[0]]);
    assert.deepEqual(await listed(`created_at-from=${encodeURIComponent('2021-03-28T00:00:00+02:00')}&created_at-to=${encodeURIComponent('2021-03-28T23:59:59.999+03:00')}`), [ids[1], ids[2]]);
    assert.deepEqual(await listed('created_at-from=2021-03-27T22:00:00Z&created_at-to=2021-03-27T22:00:00Z'), [ids[1]]);
  });

  it('refuses an unreadable value with 400 naming the parameter and listing the accepted forms', async () => {
    for (const param of ['created_at-from', 'updated_at-to', 'archived_at-from', 'shipments_completed_at-to']) {
      const res = await h.app.inject({ method: 'GET', url: `/api/v1/orders?${param}=2021-02-30`, headers: { authorization: h.auth } });
      assert.equal(res.statusCode, 400);
      const body = errorBody(res);
      assert.ok(body.errors?.some((e) => e.field === param), res.body);
      for (const form of ['2021-03-05T10:00:00+02:00', '2021-03-05T10:00:00 (no offset', '2021-03-05 (a date', HEL]) assert.ok(body.message.includes(form), `message lacks ${form}: ${body.message}`);
    }
  });

  it('reads the delivery log filters the same way', async () => {
    const sub = await subscribe(h, 'order.created', PUBLIC_TARGET);
    for (let i = 0; i < stamps.length; i++) {
      await createOrder(h);
    }
    const rows = await h.database.kysely.selectFrom('webhook_messages').select('id').where('subscription_uuid', '=', sub.uuid).orderBy('id').execute();
    assert.equal(rows.length, stamps.length);
    for (const [i, row] of rows.entries()) {
      await h.database.kysely.updateTable('webhook_messages').set({ created_at: stamps[i]! }).where('id', '=', row.id).execute();
    }
    const log = async (query: string) => {
      const res = await api(h, 'GET', `/api/v1/webhooks/${sub.uuid}/deliveries?${query}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body.data as { created_at: string }[]).map((d) => Date.parse(d.created_at)).sort((a, b) => a - b);
    };
    assert.deepEqual(await log('created_at-from=2021-03-28&created_at-to=2021-03-28'), [stamps[1], stamps[2]]);
    assert.deepEqual(await log('created_at-to=2021-03-27T23:59:59.999'), [stamps[0]]);
    const bad = await h.app.inject({ method: 'GET', url: `/api/v1/webhooks/${sub.uuid}/deliveries?created_at-from=tomorrow`, headers: { authorization: h.auth } });
    assert.equal(bad.statusCode, 400);
    assert.match(errorBody(bad).message, /2021-03-05T10:00:00 \(no offset/);
  });
});
