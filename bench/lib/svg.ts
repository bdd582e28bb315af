/**
 * Hand-written SVG charts (no library): horizontal grouped bars and small-multiple line panels.
 * Self-contained files with inline styles, readable on GitHub in light and dark themes (white
 * card background).
 */

export const COLORS = {
  sqlite: '#2563eb',
  pg1: '#0d9488',
  pg3: '#7c3aed',
  ceiling: '#9ca3af',
  bullmq: '#dc2626',
  healthy: '#16a34a',
  noisy: '#ea580c',
  p50: '#2563eb',
  p95: '#0d9488',
  p99: '#7c3aed',
  max: '#dc2626',
} as const;

const FONT = 'font-family="-apple-system,Segoe UI,Helvetica,Arial,sans-serif"';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round axis maximum: 4 × a round step (1, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k) at or above v. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const raw = v / 4;
  const exp = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * exp >= raw) return 4 * m * exp;
  return 40 * exp;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 10_000) return `${Math.round(v / 1000).toLocaleString('en-US')}k`;
  if (a >= 100) return Math.round(v).toLocaleString('en-US');
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

export interface Bar {
  label: string;
  value: number | null;
  color?: string;
  /** shown after the value, e.g. "0.62× ceiling" */
  note?: string;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

export interface BarChart {
  title: string;
  subtitle?: string;
  unit: string;
  groups: BarGroup[];
  /** logarithmic axis (latencies spanning decades) */
  log?: boolean;
  width?: number;
}

export function barChart(c: BarChart): string {
  const width = c.width ?? 820;
  const labelW = 230;
  const noteW = 190;
  const left = labelW + 10;
  const plotW = width - left - noteW - 20;
  const barH = 18;
  const gap = 6;
  const groupGap = 18;
  let y = c.subtitle ? 62 : 46;
  const top = y;
  const values = c.groups.flatMap((g) => g.bars.map((b) => b.value ?? 0)).filter((v) => v > 0);
  const maxV = niceMax(Math.max(...values, 0));
  const minV = c.log ? Math.max(1e-3, 10 ** Math.floor(Math.log10(Math.min(...values, maxV)))) : 0;
  const scale = (v: number): number => {
    if (!(v > 0)) return 0;
    if (!c.log) return (v / maxV) * plotW;
    const lo = Math.log10(minV);
    const hi = Math.log10(maxV);
    return Math.max(2, ((Math.log10(v) - lo) / (hi - lo)) * plotW);
  };
  const parts: string[] = [];
  for (const g of c.groups) {
    parts.push(`<text x="10" y="${y + 12}" font-size="13" font-weight="600" fill="#111827">${esc(g.label)}</text>`);
    y += 20;
    for (const b of g.bars) {
      const w = b.value === null ? 0 : scale(b.value);
      const color = b.color ?? COLORS.sqlite;
      parts.push(`<text x="${labelW}" y="${y + 13}" font-size="12" text-anchor="end" fill="#374151">${esc(b.label)}</text>`);
      if (b.value === null) {
        parts.push(`<text x="${left + 4}" y="${y + 13}" font-size="12" fill="#6b7280">not measured</text>`);
      } else {
        parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" rx="2" fill="${color}"/>`);
        parts.push(`<text x="${(left + w + 6).toFixed(1)}" y="${y + 13}" font-size="12" fill="#111827">${esc(fmt(b.value))}${b.note ? `<tspan fill="#6b7280"> · ${esc(b.note)}</tspan>` : ''}</text>`);
      }
      y += barH + gap;
    }
    y += groupGap - gap;
  }
  const bottom = y;
  // axis ticks
  const ticks: number[] = [];
  if (c.log) {
    for (let t = minV; t <= maxV * 1.0001; t *= 10) ticks.push(t);
  } else {
    for (let i = 0; i <= 4; i++) ticks.push((maxV * i) / 4);
  }
  const axis = ticks
    .map((t) => {
      const x = left + scale(t === 0 ? 0 : t) + (t === 0 ? 0 : 0);
      return `<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="#e5e7eb"/><text x="${x.toFixed(1)}" y="${bottom + 14}" font-size="11" text-anchor="middle" fill="#6b7280">${esc(fmt(t))}</text>`;
    })
    .join('');
  const height = bottom + 34;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="24" font-size="16" font-weight="700" fill="#111827">${esc(c.title)}</text>`,
    c.subtitle ? `<text x="10" y="44" font-size="12" fill="#4b5563">${esc(c.subtitle)}</text>` : '',
    axis,
    ...parts,
    `<text x="${left + plotW}" y="${bottom + 28}" font-size="11" text-anchor="end" fill="#6b7280">${esc(c.unit)}${c.log ? ' (log scale)' : ''}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  dashed?: boolean;
}

export interface Panel {
  title: string;
  unit: string;
  series: Series[];
  /** y axis starts at 0 (default) */
  fromZero?: boolean;
}

export interface LinePanels {
  title: string;
  subtitle?: string;
  xLabels: string[];
  xTitle: string;
  panels: Panel[];
  width?: number;
}

/** Small multiples: one line panel per metric, sharing the x axis (categories). */
export function linePanels(c: LinePanels): string {
  const width = c.width ?? 900;
  const n = c.panels.length;
  const panelW = (width - 20) / n;
  const top = c.subtitle ? 84 : 64;
  const plotH = 180;
  const legendH = 18 * Math.max(...c.panels.map((p) => p.series.length));
  const height = top + plotH + 46 + legendH + 10;
  const parts: string[] = [];
  c.panels.forEach((p, pi) => {
    const x0 = 10 + pi * panelW + 46;
    const w = panelW - 66;
    const all = p.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
    const maxV = niceMax(Math.max(...all, 0) * 1.05);
    const minV = p.fromZero === false ? Math.min(...all) : 0;
    const yOf = (v: number): number => top + plotH - ((v - minV) / (maxV - minV || 1)) * plotH;
    const xOf = (i: number): number => x0 + (c.xLabels.length === 1 ? w / 2 : (i / (c.xLabels.length - 1)) * w);
    parts.push(`<text x="${x0 - 40}" y="${top - 12}" font-size="13" font-weight="600" fill="#111827">${esc(p.title)}</text>`);
    for (let i = 0; i <= 4; i++) {
      const v = minV + ((maxV - minV) * i) / 4;
      const y = yOf(v);
      parts.push(`<line x1="${x0}" y1="${y.toFixed(1)}" x2="${x0 + w}" y2="${y.toFixed(1)}" stroke="#e5e7eb"/>`);
      parts.push(`<text x="${x0 - 6}" y="${(y + 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#6b7280">${esc(fmt(v))}</text>`);
    }
    c.xLabels.forEach((l, i) => {
      parts.push(`<text x="${xOf(i).toFixed(1)}" y="${top + plotH + 16}" font-size="11" text-anchor="middle" fill="#374151">${esc(l)}</text>`);
    });
    parts.push(`<text x="${x0 + w / 2}" y="${top + plotH + 32}" font-size="11" text-anchor="middle" fill="#6b7280">${esc(c.xTitle)} · ${esc(p.unit)}</text>`);
    p.series.forEach((s, si) => {
      const pts = s.values.map((v, i) => (v === null || !Number.isFinite(v) ? null : `${xOf(i).toFixed(1)},${yOf(v).toFixed(1)}`));
      const segs: string[][] = [[]];
      for (const pt of pts) {
        if (pt === null) segs.push([]);
        else segs[segs.length - 1]!.push(pt);
      }
      for (const seg of segs) {
        if (seg.length > 1) parts.push(`<polyline points="${seg.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
      }
      s.values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) return;
        parts.push(`<circle cx="${xOf(i).toFixed(1)}" cy="${yOf(v).toFixed(1)}" r="3.5" fill="${s.color}"><title>${esc(`${s.label} @ ${c.xLabels[i]}: ${fmt(v)} ${p.unit}`)}</title></circle>`);
      });
      const ly = top + plotH + 48 + si * 18;
      parts.push(`<line x1="${x0 - 40}" y1="${ly - 4}" x2="${x0 - 22}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
      const last = [...s.values].reverse().find((v) => v !== null && Number.isFinite(v));
      parts.push(`<text x="${x0 - 16}" y="${ly}" font-size="11" fill="#374151">${esc(s.label)}${last !== undefined && last !== null ? ` (last ${fmt(last)})` : ''}</text>`);
    });
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="24" font-size="16" font-weight="700" fill="#111827">${esc(c.title)}</text>`,
    c.subtitle ? `<text x="10" y="44" font-size="12" fill="#4b5563">${esc(c.subtitle)}</text>` : '',
    ...parts,
    `</svg>`,
    '',
  ].join('\n');
}

/** Stacks complete SVG documents vertically into one (nested <svg> elements). */
export function stackSvgs(svgs: string[]): string {
  let y = 0;
  let width = 0;
  const inner: string[] = [];
  for (const s of svgs) {
    const w = Number(/width="(\d+(?:\.\d+)?)"/.exec(s)?.[1] ?? 0);
    const h = Number(/height="(\d+(?:\.\d+)?)"/.exec(s)?.[1] ?? 0);
    inner.push(s.replace(/^<svg /, `<svg x="0" y="${y}" `));
    y += h;
    width = Math.max(width, w);
  }
  return [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}">`, ...inner, '</svg>', ''].join('\n');
}
