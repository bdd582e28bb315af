/** Money is stored as integer cents and shown as a number with at most two decimals. */

/** 12.34 → 1234; null when the number has more than two decimals or is not finite. */
export function toCents(amount: number): number | null {
  if (!Number.isFinite(amount)) return null;
  const cents = Math.round(amount * 100);
  // Tolerate binary float noise (0.1 + 0.2) but not a real third decimal (1.005 is refused).
  if (Math.abs(amount * 100 - cents) > 1e-6) return null;
  return cents;
}

export function fromCents(cents: number): number {
  return cents / 100;
}

/** VAT percent with at most two decimals → basis points (25.5 → 2550). */
export function toBasisPoints(percent: number): number | null {
  return toCents(percent);
}

export function fromBasisPoints(bp: number): number {
  return bp / 100;
}
