/**
 * Refuses text that no store field should hold: control characters (other than tab, newline and
 * carriage return) and lone UTF-16 surrogates, which JSON can smuggle in as `\u0000` or `\ud800`.
 */
import type { FieldError } from '../errors.js';

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** How deep a request body may nest; deeper JSON would overflow the stack of every recursive walk. */
export const MAX_JSON_DEPTH = 64;

interface Found {
  /** the path from the problem up to the root, reversed: cheaper to build only when found. */
  reversedPath: string[];
  message: string;
}

function walk(value: unknown, depth: number): Found | null {
  if (depth > MAX_JSON_DEPTH && value !== null && typeof value === 'object') {
    return { reversedPath: [], message: `nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep; flatten it` };
  }
  if (typeof value === 'string') {
    const m = FORBIDDEN.exec(value);
    if (!m) return null;
    const code = m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return { reversedPath: [], message: `contains the control or invalid character U+${code}; remove it` };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = walk(value[i], depth + 1);
      if (found) {
        found.reversedPath.push(String(i));
        return found;
      }
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      const keyProblem = walk(key, depth + 1);
      if (keyProblem) {
        keyProblem.reversedPath.push('(key)');
        return keyProblem;
      }
      const found = walk((value as Record<string, unknown>)[key], depth + 1);
      if (found) {
        found.reversedPath.push(key);
        return found;
      }
    }
  }
  return null;
}

/**
 * Walks a parsed JSON value and reports the first field holding forbidden characters (or nested
 * too deep). Allocates nothing per value on the way, so a huge body costs one pass.
 */
export function findForbiddenText(value: unknown): FieldError | null {
  const found = walk(value, 0);
  if (!found) return null;
  const path = found.reversedPath.reverse();
  if (found.message.startsWith('nests')) return { field: path[0] ?? 'body', message: found.message };
  return { field: path.join('.') || 'body', message: found.message };
}
