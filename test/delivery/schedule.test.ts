// Retry policy (SPEC §4): 15 retries, 15 s doubling, Retry-After honoured within [1×, 2×].
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_ATTEMPTS, MAX_RETRIES, nextAttemptAt, parseRetryAfter, retryDelayMs } from '../../src/delivery/schedule.js';

const BASE = 15_000;

// Written out by hand (not by formula) so a wrong formula cannot pass by agreeing with itself.
const TABLE: ReadonlyArray<readonly [retry: number, delaySec: number, cumulativeSec: number]> = [
  [1, 15, 15],
  [2, 30, 45],
  [3, 60, 105],
  [4, 120, 225],
  [5, 240, 465],
  [6, 480, 945],
  [7, 960, 1_905],
  [8, 1_920, 3_825],
  [9, 3_840, 7_665],
  [10, 7_680, 15_345],
  [11, 15_360, 30_705],
  [12, 30_720, 61_425],
  [13, 61_440, 122_865],
  [14, 122_880, 245_745],
  [15, 245_760, 491_505], // 4096 min ≈ 68.3 h; total ≈ 5.7 days
];

describe('retryDelayMs', () => {
  it('matches the 15-row table at base 15 s', () => {
    assert.equal(MAX_RETRIES, 15);
    assert.equal(MAX_ATTEMPTS, 16);
    assert.equal(TABLE.length, MAX_RETRIES);
    let cumulative = 0;
    for (const [k, delaySec, cumulativeSec] of TABLE) {
      assert.equal(retryDelayMs(k, BASE), delaySec * 1000, `retry ${k}`);
      cumulative += retryDelayMs(k, BASE);
      assert.equal(cumulative, cumulativeSec * 1000, `cumulative after retry ${k}`);
    }
    assert.equal(retryDelayMs(15, BASE), 4096 * 60 * 1000);
    assert.equal(cumulative, 491_505_000);
  });

  it('scales with the base (tests run it in ms)', () => {
    assert.equal(retryDelayMs(1, 10), 10);
    assert.equal(retryDelayMs(4, 10), 80);
    assert.equal(retryDelayMs(15, 1), 16_384);
  });

  it('refuses retry numbers outside 1..15 and non-positive bases', () => {
    for (const k of [0, 16, -1, 1.5, Number.NaN]) assert.throws(() => retryDelayMs(k, BASE), RangeError, String(k));
    for (const b of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => retryDelayMs(1, b), RangeError, String(b));
  });
});

describe('nextAttemptAt', () => {
  it('walks the whole schedule: 16 attempts, then null', () => {
    const t0 = Date.UTC(2025, 0, 1);
    let ended = t0;
    let attempts = 1; // the first attempt just failed at t0
    const sent: number[] = [];
    for (;;) {
      const next = nextAttemptAt({ attemptsMade: attempts, attemptEndedAtMs: ended, baseMs: BASE });
      if (next === null) break;
      sent.push(next - ended);
      ended = next; // assume each attempt fails instantly
      attempts++;
    }
    assert.equal(attempts, 16);
    assert.deepEqual(sent, TABLE.map(([, d]) => d * 1000));
    assert.equal(ended - t0, 491_505_000);
  });

  it('counts from when the attempt ended', () => {
    assert.equal(nextAttemptAt({ attemptsMade: 1, attemptEndedAtMs: 1_000_000, baseMs: BASE }), 1_015_000);
    assert.equal(nextAttemptAt({ attemptsMade: 3, attemptEndedAtMs: 1_000_000, baseMs: BASE }), 1_060_000);
  });

  it('is null after the 16th attempt, and after that', () => {
    assert.equal(nextAttemptAt({ attemptsMade: 16, attemptEndedAtMs: 0, baseMs: BASE }), null);
    assert.equal(nextAttemptAt({ attemptsMade: 17, attemptEndedAtMs: 0, baseMs: BASE }), null);
    assert.equal(nextAttemptAt({ attemptsMade: 16, attemptEndedAtMs: 0, baseMs: BASE, retryAfterMs: 1000 }), null);
    assert.equal(nextAttemptAt({ attemptsMade: 15, attemptEndedAtMs: 0, baseMs: BASE }), 245_760_000);
  });

  it('refuses attemptsMade < 1', () => {
    assert.throws(() => nextAttemptAt({ attemptsMade: 0, attemptEndedAtMs: 0, baseMs: BASE }), RangeError);
    assert.throws(() => nextAttemptAt({ attemptsMade: 2.5, attemptEndedAtMs: 0, baseMs: BASE }), RangeError);
  });

  it('Retry-After below the scheduled delay is raised to it', () => {
    assert.equal(nextAttemptAt({ attemptsMade: 3, attemptEndedAtMs: 0, baseMs: BASE, retryAfterMs: 1_000 }), 60_000);
    assert.equal(nextAttemptAt({ attemptsMade: 3, attemptEndedAtMs: 0, baseMs: BASE, retryAfterMs: 0 }), 60_000);
  });

  it('Retry-After above 2× the scheduled delay is capped at 2×', () => {
    assert.equal(nextAttemptAt({ attemptsMade: 3, attemptEndedAtMs: 0, baseMs: BASE, retryAfterMs: 3_600_000 }), 120_000);
    assert.equal(nextAttemptAt({ attemptsMade: 3, attemptEndedAtMs: 0, baseMs: BASE, retryAfterMs: Number.POSITIVE_INFINITY }), 120_000);
  });

  it('Retry-After inside [1×, 2×] is used as given', () => {
    assert.equal(nextAttemptAt({ attemptsMade: 3, attemptEndedAtMs: 500, baseMs: BASE, retryAfterMs: 90_000 }), 90_500);
    assert.equal(nextAttemptAt({ attemptsMade: 3, attemptEndedAtMs: 0, baseMs: BASE, retryAfterMs: 120_000 }), 120_000);
  });

  it('NaN / undefined Retry-After leaves the schedule alone', () => {
    assert.equal(nextAttemptAt({ attemptsMade: 2, attemptEndedAtMs: 0, baseMs: BASE, retryAfterMs: Number.NaN }), 30_000);
    assert.equal(nextAttemptAt({ attemptsMade: 2, attemptEndedAtMs: 0, baseMs: BASE, retryAfterMs: undefined }), 30_000);
  });

  it('property: always within [scheduled, 2×scheduled] of the attempt end', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
        (attemptsMade, ended, base, retryAfterMs) => {
          const next = nextAttemptAt({ attemptsMade, attemptEndedAtMs: ended, baseMs: base, retryAfterMs });
          assert.ok(next !== null);
          const scheduled = base * 2 ** (attemptsMade - 1);
          assert.ok(next - ended >= scheduled && next - ended <= 2 * scheduled);
          if (retryAfterMs === undefined) assert.equal(next - ended, scheduled);
        },
      ),
    );
  });
});

describe('parseRetryAfter', () => {
  const NOW = Date.UTC(2025, 5, 1, 12, 0, 0); // Sun, 01 Jun 2025 12:00:00 GMT

  it('delta-seconds', () => {
    assert.equal(parseRetryAfter('120', NOW), 120_000);
    assert.equal(parseRetryAfter(' 5 ', NOW), 5_000);
    assert.equal(parseRetryAfter('0', NOW), 0);
    // A bare number is always seconds, never Date.parse's idea of a year.
    assert.equal(parseRetryAfter('1', NOW), 1_000);
    assert.equal(parseRetryAfter('2030', NOW), 2_030_000);
  });

  it('negative delta → 0', () => {
    assert.equal(parseRetryAfter('-5', NOW), 0);
  });

  it('IMF-fixdate HTTP-date, future and past', () => {
    assert.equal(parseRetryAfter('Sun, 01 Jun 2025 12:01:30 GMT', NOW), 90_000);
    assert.equal(parseRetryAfter('Mon, 02 Jun 2025 12:00:00 GMT', NOW), 86_400_000);
    assert.equal(parseRetryAfter('Sat, 31 May 2025 12:00:00 GMT', NOW), 0);
  });

  it('obsolete RFC 850 and asctime HTTP-dates', () => {
    assert.equal(parseRetryAfter('Sunday, 01-Jun-25 12:00:10 GMT', NOW), 10_000);
    assert.equal(parseRetryAfter('Sun Jun  1 12:00:20 2025', NOW), 20_000);
    assert.equal(parseRetryAfter('Sun Jun 01 12:00:20 2025', NOW), 20_000);
  });

  it('garbage → undefined', () => {
    for (const v of [
      undefined,
      '',
      '   ',
      'soon',
      '1.5',
      '12abc',
      '0x10',
      '2025-06-01T12:05:00Z', // ISO: Date.parse would take it, HTTP does not
      'Sun, 31 Feb 2025 12:00:00 GMT', // impossible day
      'Sun, 01 Foo 2025 12:00:00 GMT',
      'Sun, 01 Jun 2025 25:00:00 GMT',
      'Sun, 01 Jun 2025 12:00:00 PST',
    ]) {
      assert.equal(parseRetryAfter(v, NOW), undefined, JSON.stringify(v));
    }
  });

  it('feeds nextAttemptAt: a far HTTP-date is clamped to 2×', () => {
    const ra = parseRetryAfter('Mon, 02 Jun 2025 12:00:00 GMT', NOW);
    assert.equal(nextAttemptAt({ attemptsMade: 1, attemptEndedAtMs: NOW, baseMs: BASE, retryAfterMs: ra }), NOW + 30_000);
  });
});
