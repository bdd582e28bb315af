/**
 * Retry policy (SPEC §4, MCF): after a failure, up to 15 retries; retry k is sent
 * base × 2^(k−1) after the previous attempt ended (base 15 s: 15 s … 4096 min ≈ 68.3 h),
 * 16 attempts in all. Pure functions only: the dispatcher owns clocks and storage.
 */

export const MAX_RETRIES = 15;
/** The first attempt plus every retry. */
export const MAX_ATTEMPTS = MAX_RETRIES + 1;

function assertBase(baseMs: number): void {
  if (!Number.isFinite(baseMs) || baseMs <= 0) {
    throw new RangeError(`retry base must be a positive number of ms, got ${baseMs}`);
  }
}

/** Delay before retry `retryNumber` (1..15): baseMs × 2^(retryNumber−1). */
export function retryDelayMs(retryNumber: number, baseMs: number): number {
  if (!Number.isInteger(retryNumber) || retryNumber < 1 || retryNumber > MAX_RETRIES) {
    throw new RangeError(`retry number must be an integer in 1..${MAX_RETRIES}, got ${retryNumber}`);
  }
  assertBase(baseMs);
  return baseMs * 2 ** (retryNumber - 1);
}

export interface NextAttemptInput {
  /** Attempts already made, including the one that just failed (≥ 1). */
  attemptsMade: number;
  /** When that attempt ended (epoch ms): the delay counts from here, not from its start. */
  attemptEndedAtMs: number;
  baseMs: number;
  /**
   * The receiver's Retry-After, in ms from the attempt's end (see parseRetryAfter). The caller
   * passes it only for 429/503. It may stretch the wait up to 2× the scheduled delay, never
   * shorten it: a receiver must not be able to make us retry faster than the schedule, nor
   * park a message for days.
   */
  retryAfterMs?: number | undefined;
  /** the message's own limit (its max_attempts, 1 for a one-shot message); at most MAX_ATTEMPTS. */
  maxAttempts?: number | undefined;
}

/** When to send the next attempt (epoch ms), or null when the message's attempts are used up. */
export function nextAttemptAt(input: NextAttemptInput): number | null {
  const { attemptsMade, attemptEndedAtMs, baseMs, retryAfterMs } = input;
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) {
    throw new RangeError(`attemptsMade must be an integer ≥ 1, got ${attemptsMade}`);
  }
  if (attemptsMade >= Math.min(input.maxAttempts ?? MAX_ATTEMPTS, MAX_ATTEMPTS)) return null;
  const scheduled = retryDelayMs(attemptsMade, baseMs);
  let delay = scheduled;
  if (retryAfterMs !== undefined && !Number.isNaN(retryAfterMs)) {
    delay = Math.min(Math.max(retryAfterMs, scheduled), 2 * scheduled);
  }
  return attemptEndedAtMs + delay;
}

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

// RFC 9110 §5.6.7: recipients must accept all three HTTP-date forms. Date.parse is not used:
// it accepts almost anything ("1", "2024"), which would turn garbage into a date.
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850 =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function utc(year: number, month: string, day: number, h: number, m: number, s: number): number | undefined {
  const mon = MONTHS[month];
  if (mon === undefined || h > 23 || m > 59 || s > 60) return undefined;
  const ms = Date.UTC(year, mon, day, h, m, Math.min(s, 59));
  // Reject impossible days (e.g. 31 Feb) that Date.UTC would roll into the next month.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  return ms;
}

function parseHttpDate(v: string, nowMs: number): number | undefined {
  let m = IMF_FIXDATE.exec(v);
  if (m) return utc(Number(m[3]), m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = RFC850.exec(v);
  if (m) {
    // Two-digit year: the most recent year ending in those digits that is not > 50 years ahead.
    const nowYear = new Date(nowMs).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + Number(m[3]);
    if (year > nowYear + 50) year -= 100;
    return utc(year, m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  m = ASCTIME.exec(v);
  if (m) return utc(Number(m[6]), m[1]!, Number(m[2]!.trim()), Number(m[3]), Number(m[4]), Number(m[5]));
  return undefined;
}

/**
 * Parse a Retry-After header into ms from `nowMs`. Accepts delta-seconds and HTTP-dates;
 * anything else is undefined (ignored, the normal schedule applies). Dates in the past and
 * negative deltas give 0 (the clamp in nextAttemptAt then applies the scheduled delay).
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^-?\d+$/.test(v)) {
    const sec = Number(v);
    return sec <= 0 ? 0 : sec * 1000;
  }
  const at = parseHttpDate(v, nowMs);
  if (at === undefined) return undefined;
  return Math.max(0, at - nowMs);
}
