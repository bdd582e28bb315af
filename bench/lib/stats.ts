/** Small statistics helpers: nearest-rank percentiles over plain arrays. */

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n,
    min: n ? sorted[0]! : NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: n ? sorted[n - 1]! : NaN,
    mean: n ? sum / n : NaN,
  };
}

/** Three significant digits: for ratios, which can be 0.0023 as well as 1.8. */
export const sig = (v: number, digits = 3): number => (Number.isFinite(v) && v !== 0 ? Number(v.toPrecision(digits)) : v);

export const round = (v: number, digits = 1): number => (Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : v);

export function fmtNum(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 100) return `${fmtNum(v, 0)} ms`;
  if (Math.abs(v) >= 10) return `${fmtNum(v, 1)} ms`;
  return `${fmtNum(v, 2)} ms`;
}

export const fmtRatio = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v >= 100 ? fmtNum(v, 0) : v > 0 && v < 0.1 ? v.toPrecision(2) : v.toFixed(2)}×`;

export const fmtMB = (bytes: number | null | undefined): string => (bytes === null || bytes === undefined || !Number.isFinite(bytes) ? '–' : `${fmtNum(bytes / 1048576, 0)} MB`);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Epoch ms with sub-millisecond precision, comparable with the children's clocks. */
export const now = (): number => performance.timeOrigin + performance.now();
