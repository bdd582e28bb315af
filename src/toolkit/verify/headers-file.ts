/**
 * Reads a captured request's headers in the forms people actually have them in:
 * - a JSON object (`JSON.stringify(req.headers)`, a log line, a Svix/Stripe-style dump);
 * - `Name: value` lines, optionally after a request line (`POST /hooks HTTP/1.1`) and with
 *   curl's `> ` prefix; anything after the first blank line is the body (a raw request capture,
 *   e.g. from `nc -l`), returned separately so `--body` may be left out.
 */

export interface ParsedCapture {
  /** lower-cased names; repeated headers joined with a space (as Standard Webhooks reads them) */
  headers: Record<string, string>;
  /** the bytes after the header block, when the file held a whole request */
  body: Buffer | null;
}

export class CaptureError extends Error {}

export function parseHeadersFile(raw: Buffer): ParsedCapture {
  const text = raw.toString('utf8');
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new CaptureError(`the headers file looks like JSON but does not parse (${(err as Error).message})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CaptureError('the headers file must be a JSON object of header names to values');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      const v = Array.isArray(value) ? value.map(String).join(' ') : value === null || value === undefined ? '' : String(value);
      add(headers, name, v);
    }
    return { headers, body: null };
  }

  // Header lines end at the first empty line; what follows (if anything) is the body, byte for byte.
  const headers: Record<string, string> = {};
  const sep = findBlankLine(raw);
  const head = (sep ? raw.subarray(0, sep.start) : raw).toString('utf8');
  const lines = head.split(/\r\n|\n|\r/);
  for (const [i, rawLine] of lines.entries()) {
    const line = rawLine.replace(/^[<>] /, '');
    if (line.trim() === '') continue;
    if (i === 0 && /^(?:[A-Z]+ \S+ HTTP\/\d(?:\.\d)?|HTTP\/\d(?:\.\d)? \d{3})/.test(line)) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new CaptureError(`line ${i + 1} of the headers file is not "Name: value": ${JSON.stringify(line.slice(0, 60))}`);
    add(headers, line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const body = sep && sep.end < raw.length ? raw.subarray(sep.end) : null;
  return { headers, body };
}

function add(headers: Record<string, string>, name: string, value: string): void {
  const key = name.toLowerCase();
  headers[key] = headers[key] === undefined ? value : `${headers[key]} ${value}`;
}

function findBlankLine(raw: Buffer): { start: number; end: number } | null {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { start: crlf, end: crlf + 4 };
  if (lf >= 0) return { start: lf, end: lf + 2 };
  return null;
}
