// Order totals and the tax summary, from integer cents, without a database or HTTP.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { OrderAggregate } from '../../src/orders/aggregate.js';
import { computeTotals, taxSummary } from '../../src/orders/totals.js';

const NO_EXTRAS = { shipping_costs_cents: 0, payment_costs_cents: 0, discount_cents: 0 };

interface Extras {
  shipping_costs_cents: number;
  payment_costs_cents: number;
  discount_cents: number;
}

/** taxSummary reads only the products' rate, quantity and price, and the order's three extras. */
function aggregate(products: { quantity: number; unit_price_cents: number; vat_rate_bp: number }[], extras: Extras = NO_EXTRAS): OrderAggregate {
  return { order: extras, products, shipments: [], payments: [], comments: [], events: [] } as unknown as OrderAggregate;
}

const cents = (amount: number) => Math.round(amount * 100);

const line = fc.record({ quantity: fc.integer({ min: 1, max: 1000 }), unit_price_cents: fc.integer({ min: 0, max: 1_000_000 }) });
const extras = fc.record({
  shipping_costs_cents: fc.integer({ min: 0, max: 100_000 }),
  payment_costs_cents: fc.integer({ min: 0, max: 100_000 }),
  discount_cents: fc.integer({ min: 0, max: 100_000 }),
});

describe('computeTotals', () => {
  it('adds the rows, the shipping and payment costs, and takes off the discount', () => {
    const t = computeTotals(
      [
        { quantity: 2, unit_price_cents: 1990 },
        { quantity: 1, unit_price_cents: 500 },
      ],
      { shipping_costs_cents: 590, payment_costs_cents: 100, discount_cents: 1000 },
    );
    assert.deepEqual(t, { subtotal_cents: 4480, shipping_costs_cents: 590, payment_costs_cents: 100, discount_cents: 1000, total_cents: 4170 });
  });

  it('has a zero subtotal for no rows', () => {
    assert.equal(computeTotals([], NO_EXTRAS).total_cents, 0);
  });

  it('subtotal is the sum of the rows, total = subtotal + costs − discount, all whole cents (property)', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), extras, (lines, x) => {
        const t = computeTotals(lines, x);
        let sum = 0;
        for (const l of lines) sum += l.quantity * l.unit_price_cents;
        assert.equal(t.subtotal_cents, sum);
        assert.equal(t.total_cents, sum + x.shipping_costs_cents + x.payment_costs_cents - x.discount_cents);
        assert.ok(Number.isInteger(t.total_cents));
      }),
    );
  });

  it('is never negative unless the discount is larger than everything else (property)', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 10 }), extras, (lines, x) => {
        const t = computeTotals(lines, x);
        assert.equal(t.total_cents < 0, x.discount_cents > t.subtotal_cents + x.shipping_costs_cents + x.payment_costs_cents);
      }),
    );
  });
});

describe('taxSummary', () => {
  it('splits a VAT-inclusive price into tax and net, rounded to cents', () => {
    const s = taxSummary(aggregate([{ quantity: 1, unit_price_cents: 1240, vat_rate_bp: 2550 }]));
    // 12.40 / 1.255 = 9.8804… → 9.88 net, 2.52 tax
    assert.deepEqual(s.subtotal, [{ tax_rate: 25.5, total: 12.4, total_tax: 2.52, total_without_tax: 9.88 }]);
    assert.deepEqual(s.total, s.subtotal);
    assert.deepEqual(s.discount, []);
    assert.deepEqual(s.shipping_costs, []);
  });

  it('groups rows by rate, lowest rate first, and taxes the extras at the highest product rate', () => {
    const s = taxSummary(
      aggregate(
        [
          { quantity: 1, unit_price_cents: 2400, vat_rate_bp: 2400 },
          { quantity: 2, unit_price_cents: 1000, vat_rate_bp: 1400 },
          { quantity: 1, unit_price_cents: 500, vat_rate_bp: 1400 },
        ],
        { shipping_costs_cents: 600, payment_costs_cents: 0, discount_cents: 200 },
      ),
    );
    assert.deepEqual(s.subtotal.map((l) => [l.tax_rate, l.total]), [[14, 25], [24, 24]]);
    assert.deepEqual(s.shipping_costs.map((l) => [l.tax_rate, l.total]), [[24, 6]]);
    assert.deepEqual(s.discount.map((l) => [l.tax_rate, l.total]), [[24, 2]]);
    assert.deepEqual(s.payment_costs, [], 'a zero amount has no line');
    assert.deepEqual(s.total.map((l) => [l.tax_rate, l.total]), [[14, 25], [24, 28]]);
  });

  it('each line is tax + net = gross, and the total lines add up to the order total (property)', () => {
    const rate = fc.constantFrom(0, 1000, 1400, 2400, 2550);
    const product = fc.record({ quantity: fc.integer({ min: 1, max: 100 }), unit_price_cents: fc.integer({ min: 0, max: 100_000 }), vat_rate_bp: rate });
    fc.assert(
      fc.property(fc.array(product, { minLength: 1, maxLength: 10 }), extras, (products, x) => {
        const s = taxSummary(aggregate(products, x));
        for (const l of [...s.subtotal, ...s.discount, ...s.shipping_costs, ...s.payment_costs, ...s.total]) {
          assert.equal(cents(l.total_tax) + cents(l.total_without_tax), cents(l.total));
          assert.ok(l.total === 0 || Math.sign(l.total_tax) !== -Math.sign(l.total), 'tax has the sign of the amount');
        }
        const expected = computeTotals(products, x).total_cents;
        assert.equal(s.total.reduce((sum, l) => sum + cents(l.total), 0), expected);
        const rates = s.total.map((l) => l.tax_rate);
        assert.deepEqual(rates, [...rates].sort((a, b) => a - b));
      }),
    );
  });
});
