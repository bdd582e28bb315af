// The paging contract of /webhooks/changes: a client that calls again with `time_to + 1` sees
// every order exactly once — with many orders in one second, a page cap smaller than a second's
// orders, and transactions that commit long after they were stamped, while it pages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { planPage, type ChangeRow } from '../../src/legacy/change-log.js';
import type { OrderEventSink } from '../../src/orders/events.js';
import { createOrder } from '../../src/orders/service.js';
import { forEachDialect } from '../helpers/database.js';
import { createLegacyApp, type LegacyTestApp } from '../helpers/legacy-app.js';
import { childrenNamed, parseXml, textAt } from '../helpers/xml-reader.js';

/** Pages through `rows` (sorted by time, id) the way a client does, with the reader's cutoff at `cutoffSec`. */
function pageAll(rows: ChangeRow[], cap: number, fromSec: number, cutoffSec: number): { ids: number[]; pages: number[][]; next: number } {
  const pages: number[][] = [];
  let from = fromSec;
  while (from < cutoffSec) {
    const window = rows.filter((r) => r.at >= from * 1000 && r.at < cutoffSec * 1000);
    const plan = planPage(window.slice(0, cap + 1), cap, cutoffSec);
    let ids: number[];
    let timeTo: number;
    if ('orderIds' in plan) ({ orderIds: ids, timeTo } = plan);
    else {
      ids = window.filter((r) => Math.floor(r.at / 1000) === plan.wholeSecond).map((r) => r.order_id);
      timeTo = plan.wholeSecond;
    }
    assert.ok(timeTo >= from, `time_to ${timeTo} moves forward from ${from}`);
    for (const id of ids) {
      const row = rows.find((r) => r.order_id === id)!;
      assert.ok(row.at < (timeTo + 1) * 1000, 'a page holds nothing after its time_to');
    }
    pages.push(ids);
    from = timeTo + 1;
  }
  return { ids: pages.flat(), pages, next: from };
}

describe('planPage (the page cut)', () => {
  it('cuts at whole seconds: every row exactly once, in order, whatever the cap (property)', () => {
    const rowsArb = fc
      .array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 999 })), { maxLength: 60 })
      .map((ts) => ts.map(([s, ms], i) => ({ order_id: i + 1, at: 10_000 + s * 1000 + ms })).sort((a, b) => a.at - b.at || a.order_id - b.order_id));
    fc.assert(
      fc.property(rowsArb, fc.integer({ min: 1, max: 6 }), (rows, cap) => {
        const { ids, pages } = pageAll(rows, cap, 0, 17);
        assert.deepEqual(ids, rows.map((r) => r.order_id));
        // A page goes over the cap only when one second alone holds more than the cap.
        const at = new Map(rows.map((r) => [r.order_id, r.at]));
        for (const page of pages) {
          if (page.length > cap) assert.equal(new Set(page.map((id) => Math.floor(at.get(id)! / 1000))).size, 1);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('keeps the still-open second (and later) for the next call', () => {
    const rows = [{ order_id: 1, at: 5_100 }, { order_id: 2, at: 6_900 }, { order_id: 3, at: 7_000 }];
    assert.deepEqual(planPage(rows.filter((r) => r.at < 7_000), 10, 7), { orderIds: [1, 2], timeTo: 6 });
    assert.deepEqual(planPage([], 10, 7), { orderIds: [], timeTo: 6 });
    assert.deepEqual(planPage(rows, 1, 8), { orderIds: [1], timeTo: 5 });
    assert.deepEqual(planPage([{ order_id: 1, at: 5_100 }, { order_id: 2, at: 5_900 }], 1, 8), { wholeSecond: 5 });
  });
});

forEachDialect('changes paging under concurrent order creation', (dialect) => {
  const CAP = 4;
  let t: LegacyTestApp;
  before(async () => {
    t = await createLegacyApp(dialect, { pageSize: CAP });
  });
  after(async () => t?.close());

  async function page(param: string, from: number): Promise<{ ids: number[]; timeTo: number }> {
    const res = await t.legacy('GET', `changes?${param}=${from}&key=${t.key}`);
    assert.equal(res.statusCode, 200, res.body);
    const doc = parseXml(res.body);
    return { ids: childrenNamed(doc, 'Order').map((o) => Number(textAt(o, 'OrderNumber'))), timeTo: Number(doc.attrs['time_to']) };
  }

  it('never misses or repeats an order across pages, with slow commits and full seconds', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // Some changes stay open for a while after the bridge stamped them: the dangerous case, a
    // stamp in a second the reader answers while its commit is still to come.
    let n = 0;
    const slowSink: OrderEventSink = {
      publishResources: (tx, events, at) => t.outbox.publishResources(tx, events, at),
      async publish(tx, agg, topics, at) {
        await t.outbox.publish(tx, agg, topics, at);
        const i = n++;
        if (i % 15 === 3) await sleep(dialect === 'postgres' ? 100 + (i % 4) * 70 : 30);
      },
    };
    const ctx = { database: t.database, storeId: t.storeId, userId: null, sink: slowSink, source: 'storefront' };
    const body = { customer_information: { first_name: 'P' }, products: [{ product_code: 'P', product_name: 'P', quantity: 1, unit_price: 1 }] };
    const startSec = Math.floor(Date.now() / 1000) - 1;

    const created: number[] = [];
    let done = false;
    let doneAt = 0;
    const creators = (async () => {
      const workers = Array.from({ length: 6 }, async () => {
        for (let k = 0; k < 30; k++) {
          created.push((await createOrder(ctx, body)).order.id);
          // Spread the creations over a few seconds, so that paging has seconds to cut at even
          // on a fast machine.
          await sleep(60);
        }
      });
      await Promise.all(workers);
      done = true;
      doneAt = Date.now();
    })();

    const pollers = ['created_after_ts', 'ts'].map(async (param) => {
      const seen: number[] = [];
      const sizes: number[] = [];
      let from = startSec;
      // Until the reader has answered the second in which the last creation returned.
      while (!done || from <= Math.floor(doneAt / 1000)) {
        const p = await page(param, from);
        assert.ok(p.timeTo >= from - 1, `${param}: time_to ${p.timeTo} for a call from ${from}`);
        seen.push(...p.ids);
        if (p.ids.length) sizes.push(p.ids.length);
        from = p.timeTo + 1;
        await sleep(15);
      }
      return { param, seen, sizes };
    });

    await creators;
    const results = await Promise.all(pollers);
    assert.equal(created.length, 180);
    for (const { param, seen, sizes } of results) {
      const dupes = seen.filter((id, i) => seen.indexOf(id) !== i);
      assert.deepEqual(dupes, [], `${param}: no order twice`);
      const missing = created.filter((id) => !seen.includes(id));
      assert.deepEqual(missing, [], `${param}: no order missed`);
      assert.equal(seen.length, created.length);
      assert.ok(sizes.length > 1, `${param}: the orders came over several pages (${sizes.join(',')})`);
    }
    // Afterwards, one call from the start returns the first page of the same orders, none more.
    const again = await page('created_after_ts', startSec);
    assert.ok(again.ids.every((id) => created.includes(id)));
  });

  it('returns a second holding more orders than the cap as one page', async () => {
    // Stamped in one second: the cap cannot cut inside it, so the page is that whole second.
    const ids: number[] = [];
    const body = { customer_information: {}, products: [{ product_code: 'B', product_name: 'B', quantity: 1, unit_price: 2 }] };
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    const second = Math.floor(Date.now() / 1000);
    for (let i = 0; i < CAP * 3; i++) ids.push((await createOrder(t.ctx(), body)).order.id);
    assert.equal(Math.floor(Date.now() / 1000), second, 'created within one second (machine too slow for this check?)');
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    const p = await page('created_after_ts', second);
    assert.deepEqual(p.ids, ids);
    assert.equal(p.timeTo, second);
    const next = await page('created_after_ts', p.timeTo + 1);
    assert.deepEqual(next.ids, []);
    assert.equal(next.timeTo, Math.floor(Date.now() / 1000) - 1);
  });

  /** Every page from `from` until the reader has caught up with now; the next `from`. */
  async function catchUp(param: string, from: number): Promise<{ ids: number[]; next: number }> {
    const ids: number[] = [];
    let next = from;
    for (;;) {
      const p = await page(param, next);
      ids.push(...p.ids);
      next = p.timeTo + 1;
      if (p.ids.length === 0) return { ids, next };
    }
  }

  it('shows a changed order again after the change, and only then', async () => {
    const startSec = Math.floor(Date.now() / 1000);
    const id = (await createOrder(t.ctx(), { customer_information: {}, products: [{ product_code: 'C', product_name: 'C', quantity: 1, unit_price: 3 }] })).order.id;
    await new Promise((r) => setTimeout(r, 1100));
    const first = await catchUp('ts', startSec);
    assert.deepEqual(first.ids, [id]);
    const quiet = await catchUp('ts', first.next);
    assert.deepEqual(quiet.ids, []);
    const res = await t.legacy('POST', 'process', { key: t.key!, action: 'add_comment', order: String(id), message: 'changed' });
    assert.equal(res.statusCode, 200, res.body);
    await new Promise((r) => setTimeout(r, 1100));
    const later = await catchUp('updated_after_ts', quiet.next);
    assert.deepEqual(later.ids, [id], 'the comment made it a change');
    const created = await catchUp('created_after_ts', quiet.next);
    assert.deepEqual(created.ids, [], 'created_after_ts does not repeat a changed order');
  });
});
