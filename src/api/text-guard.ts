/**
 * Refuses text that no store field should hold: control characters (other than tab, newline and
 * carriage return) and lone UTF-16 surrogates, which JSON can smuggle in as `\u0000` or `\ud800`.
 */
import type { FieldError } from '../errors.js';

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** How deep a request body may nest; deeper JSON would overflow the stack of every recursive walk. */
export const MAX_JSON_DEPTH = 64;

/** Walks a parsed JSON value and reports the first field holding forbidden characters (or nested too deep). */
export function findForbiddenText(value: unknown, path: string[] = []): FieldError | null {
  if (path.length > MAX_JSON_DEPTH && value !== null && typeof value === 'object') {
    return { field: path[0] ?? 'body', message: `nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep; flatten it` };
  }
  if (typeof value === 'string') {
    const m = FORBIDDEN.exec(value);
    if (!m) return null;
    const code = m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return { field: path.join('.') || 'body', message: `contains the control or invalid character U+${code}; remove it` };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findForbiddenText(value[i], [...path, String(i)]);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const keyProblem = findForbiddenText(key, [...path, '(key)']);
      if (keyProblem) return keyProblem;
      const found = findForbiddenText(child, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}
