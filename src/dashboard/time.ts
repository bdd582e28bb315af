/**
 * Times on the dashboard: shown in the store's time zone, with the exact UTC value in the
 * `<time datetime>` attribute and in a `title` (the hover text). Times typed into forms use the
 * same format (`2026-05-02 10:15`, the store's zone) in plain text inputs: a `datetime-local`
 * input would show the browser's locale format instead, next to ISO times everywhere else.
 */
import { parseIsoTime } from '../time.js';
import { html, type SafeHtml } from './html.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallTime(ms: number, timeZone: string): WallTime {
  const parts: Record<string, string> = {};
  for (const p of partsFormatter(timeZone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026-05-02 10:15:00 +03:00`: wall time in the given zone, with its offset (abbreviations are ambiguous). */
export function formatLocal(ms: number, timeZone: string): string {
  const w = wallTime(ms, timeZone);
  const offsetMin = Math.round(offsetAt(ms, timeZone) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)} ${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function utcIso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `<time datetime="…Z" title="… UTC">local time</time>`; a dash for null. */
export function timeTag(ms: number | null | undefined, timeZone: string): SafeHtml {
  if (ms === null || ms === undefined) return html`<span class="muted">—</span>`;
  const iso = utcIso(ms);
  return html`<time datetime="${iso}" title="${iso.replace('T', ' ').replace('Z', ' UTC')}">${formatLocal(ms, timeZone)}</time>`;
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
function offsetAt(ms: number, timeZone: string): number {
  const w = wallTime(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

/** The value of a time input: the instant as wall time in the zone, `2026-05-02 10:15`. */
export function toLocalInput(ms: number, timeZone: string): string {
  const w = wallTime(ms, timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`;
}

const LOCAL_INPUT = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** The HTML `pattern` of a time input: the shape LOCAL_INPUT reads (the browser checks it first). */
export const LOCAL_INPUT_PATTERN = LOCAL_INPUT.source.slice(1, -1);

/** A wall time typed to the minute (no seconds): as an upper bound it means the end of that minute. */
export function isMinuteInput(raw: string): boolean {
  return /[T ]\d{2}:\d{2}$/.test(raw.trim());
}

/**
 * Reads a time a person typed: `2026-05-02 10:15` wall time in the store's zone, or an ISO-8601
 * value with an offset. Null when it is neither. In a DST gap the later reading is taken.
 */
export function parseLocalInput(raw: string, timeZone: string): number | null {
  const text = raw.trim();
  const m = LOCAL_INPUT.exec(text);
  if (!m) return parseIsoTime(text);
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const guess = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(guess).getUTCDate() !== d) return null;
  let utc = guess - offsetAt(guess, timeZone);
  const second = offsetAt(utc, timeZone);
  if (guess - second !== utc) utc = guess - second;
  return utc;
}

/** `850 ms`, `2.4 s`, `5 min 3 s`, `3 h 10 min`, `2 d 4 h`. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  if (abs < 60_000) return `${(abs / 1000).toFixed(abs < 10_000 ? 1 : 0)} s`;
  const s = Math.floor(abs / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86_400)} d${Math.floor((s % 86_400) / 3600) ? ` ${Math.floor((s % 86_400) / 3600)} h` : ''}`;
}

/** `5 min ago` / `in 30 s`. */
export function relative(ms: number, now: number): string {
  const diff = ms - now;
  if (Math.abs(diff) < 1000) return 'now';
  return diff < 0 ? `${formatDuration(-diff)} ago` : `in ${formatDuration(diff)}`;
}
