/**
 * The dispatcher's slot accounting (src/delivery/slots.ts), with no database: random sequences of
 * claims, request ends and recorded outcomes never break the limits of SPEC §4, and a claim never
 * offers a subscription more than its room.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Slots } from '../../src/delivery/slots.js';
import { seededRandom } from '../helpers/seeded-random.js';


interface Delivery {
  sub: string;
  retry: boolean;
  stage: 'open' | 'unwritten';
}

test('random claims, ends and outcomes never exceed the worker, subscription or retry limits', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const random = seededRandom(seed);
    const concurrency = 1 + Math.floor(random() * 20);
    const perSubscription = 1 + Math.floor(random() * 5);
    const slots = new Slots({ concurrency, perSubscription });
    const subs = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => `s${i}`);
    const live: Delivery[] = [];
    for (let step = 0; step < 200; step++) {
      const r = random();
      if (r < 0.45) {
        // A claim: takes what the accounting offers, as the database would, lane by lane.
        const retry = random() < 0.4;
        const room = retry ? slots.retries(100) : slots.firstAttempts(100);
        let taken = 0;
        for (const sub of subs) {
          const offer = Math.min(room.room.get(sub) ?? perSubscription, perSubscription, room.limit - taken);
          const n = Math.floor(random() * (offer + 1));
          for (let i = 0; i < n; i++) {
            slots.started(sub, retry);
            live.push({ sub, retry, stage: 'open' });
          }
          taken += n;
        }
      } else if (live.length) {
        const i = Math.floor(random() * live.length);
        const d = live[i]!;
        if (d.stage === 'open') {
          const toWrite = random() < 0.9;
          slots.ended(d.sub, d.retry, toWrite);
          if (toWrite) d.stage = 'unwritten';
          else live.splice(i, 1);
        } else {
          slots.recorded();
          live.splice(i, 1);
        }
      }
      const open = live.filter((d) => d.stage === 'open');
      assert.ok(live.length <= concurrency, `seed ${seed}: ${live.length} unrecorded deliveries > concurrency ${concurrency}`);
      assert.equal(slots.inFlight, live.length, `seed ${seed}: inFlight counts every unrecorded delivery`);
      assert.equal(slots.free(), concurrency - live.length, `seed ${seed}: free slots`);
      assert.ok(open.filter((d) => d.retry).length <= Math.max(0, Math.floor(concurrency / 2)) || concurrency < 2, `seed ${seed}: retries over half the slots`);
      for (const sub of subs) {
        const n = open.filter((d) => d.sub === sub).length;
        assert.ok(n <= perSubscription, `seed ${seed}: ${n} open to ${sub} > cap ${perSubscription}`);
        assert.equal(slots.openTo(sub), n);
      }
    }
  }
});

test('a full subscription is offered no room; one with some open requests only the rest of its cap', () => {
  const slots = new Slots({ concurrency: 10, perSubscription: 3 });
  for (let i = 0; i < 3; i++) slots.started('full', false);
  slots.started('busy', false);
  const room = slots.firstAttempts(100);
  assert.equal(room.limit, 6);
  assert.equal(room.room.get('full'), 0);
  assert.equal(room.room.get('busy'), 2);
  assert.equal(room.room.has('idle'), false, 'an idle subscription has its whole cap');
});

test('a sent message keeps its worker slot until its outcome is written (the crash bound)', () => {
  const slots = new Slots({ concurrency: 2, perSubscription: 2 });
  slots.started('a', false);
  slots.started('a', false);
  slots.ended('a', false, true);
  slots.ended('a', false, true);
  assert.equal(slots.openTo('a'), 0, 'the subscription has its room back');
  assert.equal(slots.free(), 0, 'but the worker claims nothing until the outcomes are written');
  slots.recorded();
  assert.equal(slots.free(), 1);
});

test('retries may take at most half the slots, first attempts all of them', () => {
  const slots = new Slots({ concurrency: 8, perSubscription: 8 });
  for (let i = 0; i < 4; i++) slots.started('r', true);
  assert.equal(slots.retries(100).limit, 0);
  assert.equal(slots.firstAttempts(100).limit, 4);
});
