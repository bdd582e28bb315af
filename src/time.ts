/** Timestamps are stored as epoch milliseconds and shown as ISO-8601 with an explicit offset. */

export function nowMs(): number {
  return Date.now();
}

/** `2026-11-27T17:04:53.123+00:00` (UTC, with the offset written out as SPEC §1 asks). */
export function isoTime(ms: number): string;
export function isoTime(ms: number | null): string | null;
export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace('Z', '+00:00');
}

// Date-time with a mandatory offset; fractional seconds optional. A `+` turned into a space by an
// unencoded query string (`…12:00:00 02:00`) is accepted too: clients paste timestamps verbatim.
const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|z|[+\- ]\d{2}:?\d{2})$/;

/** Parses an ISO-8601 date-time with offset into epoch ms, or returns null. */
export function parseIsoTime(raw: string): number | null {
  const m = ISO_WITH_OFFSET.exec(raw.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '00', frac = '', off = 'Z'] = m;
  const offset = off.toUpperCase() === 'Z' ? 'Z' : `${off[0] === ' ' ? '+' : off[0]}${off.slice(1).replace(':', '').replace(/^(\d{2})(\d{2})$/, '$1:$2')}`;
  const ms = frac ? frac.slice(1, 4).padEnd(3, '0') : '000';
  const text = `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${offset}`;
  const value = Date.parse(text);
  if (Number.isNaN(value)) return null;
  // Date.parse accepts 2021-02-31; reject dates that roll over.
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCDate() !== Number(d)) return null;
  return value;
}
