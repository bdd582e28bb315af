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

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

/** A formatter of wall-clock parts in `timezone` (UTC for an unknown zone), cached per zone. */
export function zoneFormatter(timezone: string): Intl.DateTimeFormat {
  let f = zoneFormatters.get(timezone);
  if (!f) {
    const options: Intl.DateTimeFormatOptions = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
    try {
      f = new Intl.DateTimeFormat('en-US', { ...options, timeZone: timezone });
    } catch {
      f = new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' });
    }
    zoneFormatters.set(timezone, f);
  }
  return f;
}

/** The wall-clock time in `timezone` at instant `ms`, as if it were UTC (whole seconds). */
function wallClock(ms: number, timezone: string): number {
  const p = Object.fromEntries(zoneFormatter(timezone).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return Date.UTC(Number(p['year']), Number(p['month']) - 1, Number(p['day']), Number(p['hour']), Number(p['minute']), Number(p['second']));
}

/** The zone's offset from UTC at instant `ms`, in ms (Helsinki in summer: +3 h). */
function offsetAt(ms: number, timezone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallClock(whole, timezone) - whole;
}

/**
 * The instant a wall-clock time (given as if it were UTC) names in `timezone`. Around a DST change
 * the zone's offset differs a day before and a day after: a time that exists once matches one of
 * them; a repeated time (autumn) takes the earlier instant; a skipped time (spring) is read with the
 * offset from before the change, i.e. moved forward by the gap (what Temporal calls "compatible").
 */
export function zonedTimeToEpoch(wall: number, timezone: string): number {
  const before = wall - offsetAt(wall - DAY_MS, timezone);
  const after = wall - offsetAt(wall + DAY_MS, timezone);
  const fits = (t: number) => wallClock(Math.floor(t / 1000) * 1000, timezone) === Math.floor(wall / 1000) * 1000;
  const candidates = [before, after].filter(fits);
  if (candidates.length > 0) return Math.min(...candidates);
  return before;
}

function validDate(y: number, mo: number, d: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  return new Date(Date.UTC(y, mo - 1, d)).getUTCDate() === d;
}

export type TimeBound = 'from' | 'to';

/**
 * A `-from`/`-to` filter value in any form MyCashflow clients send, as epoch ms:
 * - with an offset (`2021-03-05T10:00:00+02:00`, `…Z`): that instant;
 * - without one (`2021-03-05T10:00:00`, `2021-03-05 10:00`): that wall-clock time in `timezone`;
 * - a date (`2021-03-05`): the whole day in `timezone`, so `from` is its first and `to` its last
 *   millisecond ("through that day", as clients mean `-to=<date>`).
 * Returns null for anything else.
 */
export function parseFilterTime(raw: string, timezone: string, bound: TimeBound): number | null {
  const text = raw.trim();
  const withOffset = parseIsoTime(text);
  if (withOffset !== null) return withOffset;
  const local = LOCAL_DATE_TIME.exec(text);
  if (local) {
    const [, y, mo, d, h, mi, s = '00', frac = ''] = local;
    if (!validDate(Number(y), Number(mo), Number(d)) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
    const ms = frac ? Number(frac.slice(1, 4).padEnd(3, '0')) : 0;
    return zonedTimeToEpoch(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)), timezone) + ms;
  }
  const date = DATE_ONLY.exec(text);
  if (date) {
    const [y, mo, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    if (!validDate(y, mo, d)) return null;
    if (bound === 'from') return zonedTimeToEpoch(Date.UTC(y, mo - 1, d), timezone);
    return zonedTimeToEpoch(Date.UTC(y, mo - 1, d + 1), timezone) - 1;
  }
  return null;
}
