/**
 * Order totals and the tax summary, computed on the server from integer cents. Prices include
 * VAT (consumer prices, as in MyCashflow). Shipping costs, payment costs and the discount are taxed
 * at the order's highest product VAT rate: a documented simplification.
 */
import type { TaxSummary } from './contract.js';
import type { OrderAggregate } from './aggregate.js';
import { fromBasisPoints, fromCents } from '../money.js';

export interface LineInput {
  quantity: number;
  unit_price_cents: number;
}

export interface Totals {
  subtotal_cents: number;
  shipping_costs_cents: number;
  payment_costs_cents: number;
  discount_cents: number;
  total_cents: number;
}

export function computeTotals(
  lines: readonly LineInput[],
  extras: { shipping_costs_cents: number; payment_costs_cents: number; discount_cents: number },
): Totals {
  const subtotal = lines.reduce((sum, l) => sum + l.quantity * l.unit_price_cents, 0);
  return {
    subtotal_cents: subtotal,
    ...extras,
    total_cents: subtotal + extras.shipping_costs_cents + extras.payment_costs_cents - extras.discount_cents,
  };
}

type TaxLine = TaxSummary['total'][number];

function taxLine(rateBp: number, grossCents: number): TaxLine {
  const net = Math.round((grossCents * 10_000) / (10_000 + rateBp));
  return {
    tax_rate: fromBasisPoints(rateBp),
    total: fromCents(grossCents),
    total_tax: fromCents(grossCents - net),
    total_without_tax: fromCents(net),
  };
}

function linesByRate(amounts: Map<number, number>): TaxLine[] {
  return [...amounts.entries()].filter(([, cents]) => cents !== 0).sort(([a], [b]) => a - b).map(([rate, cents]) => taxLine(rate, cents));
}

export function taxSummary(agg: OrderAggregate): TaxSummary {
  const o = agg.order;
  const subtotal = new Map<number, number>();
  for (const p of agg.products) subtotal.set(p.vat_rate_bp, (subtotal.get(p.vat_rate_bp) ?? 0) + p.quantity * p.unit_price_cents);
  const topRate = Math.max(0, ...agg.products.map((p) => p.vat_rate_bp));
  const single = (cents: number) => new Map([[topRate, cents]]);
  const total = new Map(subtotal);
  total.set(topRate, (total.get(topRate) ?? 0) + o.shipping_costs_cents + o.payment_costs_cents - o.discount_cents);
  return {
    subtotal: linesByRate(subtotal),
    discount: linesByRate(single(o.discount_cents)),
    shipping_costs: linesByRate(single(o.shipping_costs_cents)),
    payment_costs: linesByRate(single(o.payment_costs_cents)),
    total: linesByRate(total),
  };
}
