// Money as integer cents: what the API accepts (at most two decimals) and how it shows it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromBasisPoints, fromCents, toBasisPoints, toCents } from '../../src/money.js';

describe('toCents / fromCents', () => {
  it('turns amounts with at most two decimals into cents', () => {
    assert.equal(toCents(12.34), 1234);
    assert.equal(toCents(0), 0);
    assert.equal(toCents(-5.5), -550);
    assert.equal(toCents(19.99), 1999);
  });

  it('tolerates binary float noise but refuses a real third decimal', () => {
    assert.equal(toCents(0.1 + 0.2), 30);
    assert.equal(toCents(1.005), null);
    assert.equal(toCents(12.345), null);
    assert.equal(toCents(0.001), null);
  });

  it('refuses what is not a finite number', () => {
    assert.equal(toCents(Number.NaN), null);
    assert.equal(toCents(Number.POSITIVE_INFINITY), null);
    assert.equal(toCents(Number.NEGATIVE_INFINITY), null);
  });

  it('round-trips every whole number of cents (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), (cents) => {
        assert.equal(toCents(fromCents(cents)), cents);
      }),
    );
  });

  it('never returns a fraction of a cent (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), (amount) => {
        const cents = toCents(amount);
        if (cents !== null) assert.ok(Number.isInteger(cents), `${amount} → ${cents}`);
      }),
    );
  });
});

describe('VAT percent as basis points', () => {
  it('turns a percent with at most two decimals into basis points and back', () => {
    assert.equal(toBasisPoints(25.5), 2550);
    assert.equal(toBasisPoints(24), 2400);
    assert.equal(toBasisPoints(14.125), null);
    assert.equal(fromBasisPoints(2550), 25.5);
  });
});
