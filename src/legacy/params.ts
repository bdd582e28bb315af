/**
 * Request parameters of the legacy actions, from the query string and the body alike (old clients
 * put `key` in either). Bodies come form-encoded or as multipart/form-data (PHP's cURL sends the
 * latter when given an array), in UTF-8 or, from old Latin-1 integrations, ISO-8859-1/Windows-1252:
 * a body or query that is not valid UTF-8 and names no charset is read as Windows-1252.
 *
 * The body reaches the handler as a `RawBody` whose bytes sit in a private field, so the API's
 * JSON-oriented body hooks see nothing to inspect; every check and every error here is XML.
 */
import type { FastifyRequest } from 'fastify';
import { badRequest, LegacyError, shown } from './errors.js';
import { hasInvalidXmlChars } from './xml.js';

const MAX_PARAMS = 100;
const MAX_ORDER_ID = 2 ** 53 - 1;
/** The latest unix second accepted: 9999-12-31T23:59:59Z. */
const MAX_UNIX_SECONDS = 253_402_300_799;

export class RawBody {
  readonly #bytes: Buffer;
  readonly #type: string;
  constructor(bytes: Buffer, contentType: string | undefined) {
    this.#bytes = bytes;
    this.#type = contentType ?? '';
  }
  get bytes(): Buffer {
    return this.#bytes;
  }
  get contentType(): string {
    return this.#type;
  }
}

function charsetOf(contentType: string): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return m?.[1]?.toLowerCase();
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin = new TextDecoder('windows-1252');

function decodeBytes(bytes: Uint8Array, charset: string | undefined): string {
  if (charset === undefined || charset === 'utf-8' || charset === 'utf8') {
    try {
      return utf8.decode(bytes);
    } catch {
      if (charset !== undefined) throw badRequest('The request says charset=utf-8 but holds bytes that are not UTF-8; send UTF-8 (or say charset=iso-8859-1).');
      return latin.decode(bytes);
    }
  }
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    throw new LegacyError(415, `The charset ${shown(charset)} is not supported; send UTF-8 or ISO-8859-1.`);
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** `a+b%26c` → the bytes of `a b&c`; a `%` not followed by two hex digits stays as it is. */
function percentDecode(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === 0x2b) out[n++] = 0x20;
    else if (c === 0x25 && i + 2 < raw.length && hexValue(raw[i + 1]!) >= 0 && hexValue(raw[i + 2]!) >= 0) {
      out[n++] = hexValue(raw[i + 1]!) * 16 + hexValue(raw[i + 2]!);
      i += 2;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}

function splitBytes(bytes: Uint8Array, separator: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === separator) {
      parts.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

/** `application/x-www-form-urlencoded` (and query strings) → name/value pairs. */
export function parseUrlEncoded(raw: Uint8Array, charset: string | undefined): [string, string][] {
  const parts = splitBytes(raw, 0x26).filter((part) => part.length > 0);
  // Refuse before decoding: a 1 MiB body of `a&a&…` must not be decoded 250,000 times.
  if (parts.length > MAX_PARAMS) throw badRequest(`The request has ${parts.length} parameters; at most ${MAX_PARAMS} are read.`);
  const pairs: [string, string][] = [];
  for (const part of parts) {
    const eq = part.indexOf(0x3d);
    const name = eq < 0 ? part : part.subarray(0, eq);
    const value = eq < 0 ? new Uint8Array() : part.subarray(eq + 1);
    pairs.push([decodeBytes(percentDecode(name), charset), decodeBytes(percentDecode(value), charset)]);
  }
  return pairs;
}

/** The simple fields of a `multipart/form-data` body (file parts are refused). */
export function parseMultipart(body: Buffer, contentType: string): [string, string][] {
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^";\s]{1,200}))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw badRequest('The multipart/form-data body has no boundary in its Content-Type.');
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const next = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const malformed = () => badRequest('The multipart/form-data body is malformed; send the form fields again (or form-encoded).');
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw malformed();
  const pairs: [string, string][] = [];
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return pairs;
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) throw malformed();
    const headerEnd = body.indexOf('\r\n\r\n', pos + 2, 'latin1');
    if (headerEnd < 0) throw malformed();
    const headers = body.subarray(pos + 2, headerEnd).toString('utf8');
    const end = body.indexOf(next, headerEnd + 4);
    if (end < 0) throw malformed();
    const disposition = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(headers)?.[1] ?? '';
    const name = /(?:^|;)\s*name\s*=\s*"([^"]*)"/i.exec(disposition)?.[1] ?? /(?:^|;)\s*name\s*=\s*([^;\s]+)/i.exec(disposition)?.[1];
    if (name === undefined) throw malformed();
    if (/(?:^|;)\s*filename\*?\s*=/i.test(disposition)) throw badRequest(`The form field ${shown(name)} is a file upload; the legacy actions take plain text fields only.`);
    const partType = /^content-type:\s*(.*)$/im.exec(headers)?.[1] ?? '';
    pairs.push([name, decodeBytes(body.subarray(headerEnd + 4, end), charsetOf(partType))]);
    if (pairs.length > MAX_PARAMS) throw badRequest(`The request has more than ${MAX_PARAMS} parameters.`);
    pos = end + 2;
  }
}

function bodyPairs(body: unknown): [string, string][] {
  if (!(body instanceof RawBody) || body.bytes.length === 0) return [];
  const type = body.contentType.toLowerCase();
  const mediaType = type.split(';')[0]!.trim();
  if (mediaType === '' || mediaType === 'application/x-www-form-urlencoded' || mediaType === 'text/plain') {
    return parseUrlEncoded(body.bytes, charsetOf(type));
  }
  if (mediaType === 'multipart/form-data') return parseMultipart(body.bytes, body.contentType);
  if (mediaType === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decodeBytes(body.bytes, charsetOf(type) ?? 'utf-8'));
    } catch (err) {
      if (err instanceof LegacyError) throw err;
      throw badRequest('The body is not valid JSON; the legacy actions take form fields (application/x-www-form-urlencoded).');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('A JSON body must be an object of parameters.');
    return Object.entries(parsed as Record<string, unknown>).map(([k, v]) => {
      if (typeof v === 'string') return [k, v];
      if (typeof v === 'number' || typeof v === 'boolean') return [k, String(v)];
      throw badRequest(`The parameter ${shown(k)} must be a string or a number.`);
    });
  }
  throw new LegacyError(415, `Content-Type ${shown(mediaType)} is not supported here: send form fields (application/x-www-form-urlencoded or multipart/form-data).`);
}

export class Params {
  constructor(private readonly values: Map<string, string>) {}
  get(name: string): string | undefined {
    return this.values.get(name);
  }
  has(name: string): boolean {
    return this.values.has(name);
  }
}

/** The query string's and the body's parameters together; one name given twice (with different values) is an error. */
export function readParams(request: FastifyRequest): Params {
  const url = request.raw.url ?? '';
  const q = url.indexOf('?');
  const query = q < 0 ? [] : parseUrlEncoded(Buffer.from(url.slice(q + 1), 'latin1'), undefined);
  const pairs = [...query, ...bodyPairs(request.body)];
  if (pairs.length > MAX_PARAMS) throw badRequest(`The request has ${pairs.length} parameters; at most ${MAX_PARAMS} are read.`);
  const values = new Map<string, string>();
  for (const [name, value] of pairs) {
    const before = values.get(name);
    if (before !== undefined && before !== value) throw badRequest(`The parameter ${shown(name)} is given twice with different values; give it once.`);
    values.set(name, value);
  }
  return new Params(values);
}

// ---- values ---------------------------------------------------------------------------------

/** A positive integer id such as an order number. */
export function parseId(name: string, raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') throw badRequest(`The ${name} parameter is missing: give the order number, e.g. ${name}=23.`);
  const text = raw.trim();
  if (!/^\d{1,16}$/.test(text) || Number(text) < 1 || Number(text) > MAX_ORDER_ID) {
    throw badRequest(`The ${name} parameter must be an order number (a positive whole number), not ${shown(raw)}.`);
  }
  return Number(text);
}

/** A unix timestamp in whole seconds (≥ 0). */
export function parseUnixSeconds(name: string, raw: string): number {
  const text = raw.trim();
  if (!/^\d{1,12}$/.test(text) || Number(text) > MAX_UNIX_SECONDS) {
    throw badRequest(`The ${name} parameter must be a unix timestamp in whole seconds, e.g. ${name}=1650000000, not ${shown(raw)}.`);
  }
  return Number(text);
}

/** `1,2,3` → [1, 2, 3], sorted, each at most once. */
export function parseIdList(name: string, raw: string, max: number): number[] {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length > max) throw new LegacyError(400, `The ${name} parameter lists ${parts.length} orders; at most ${max} per call. Split the list into several calls.`);
  const bad = parts.filter((p) => !/^\d{1,16}$/.test(p) || Number(p) < 1 || Number(p) > MAX_ORDER_ID);
  if (bad.length) throw badRequest(`The ${name} parameter must be order numbers separated by commas, e.g. ${name}=1,2,3; not valid: ${bad.slice(0, 3).map((b) => shown(b, 20)).join(', ')}.`);
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

/** `1`/`0` (also true/false, yes/no, on/off; absent or empty = the default). */
export function parseFlag(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  const v = raw.trim().toLowerCase();
  if (v === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw badRequest(`The ${name} parameter must be 1 or 0, not ${shown(raw)}.`);
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Free text to store (a comment): refuses what XML 1.0 cannot carry and the API refuses too. */
export function parseText(name: string, raw: string | undefined, maxLength: number): string {
  if (raw === undefined || raw.trim() === '') throw badRequest(`The ${name} parameter is missing or empty.`);
  if (raw.length > maxLength) throw badRequest(`The ${name} parameter is ${raw.length} characters long; at most ${maxLength}.`);
  const control = CONTROL.exec(raw);
  if (control || hasInvalidXmlChars(raw)) {
    const ch = control?.[0] ?? [...raw].find((c) => hasInvalidXmlChars(c)) ?? '?';
    const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw badRequest(`The ${name} parameter contains the control or invalid character U+${code}; remove it.`);
  }
  return raw;
}
