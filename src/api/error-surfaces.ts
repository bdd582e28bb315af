/**
 * Which format an error is answered in, by path. JSON `{code, error, message}` everywhere, except
 * where an add-on registered its own (the legacy XML bridge at /webhooks/…). Errors that happen
 * before a route is found (a bad URL, headers too large, a timed-out body) are answered here too,
 * so they reach a legacy client as XML like its other errors. Add-ons register themselves: the
 * core never imports them.
 */
import { STATUS_CODES } from 'node:http';

export interface ErrorSurface {
  /** true for the request paths (no query string) this surface answers. */
  matches(path: string): boolean;
  contentType: string;
  render(status: number, message: string): string;
}

export interface RenderedError {
  contentType: string;
  body: string;
}

// Keyed by the HTTP server, which every encapsulated Fastify context of one app shares.
const registry = new WeakMap<object, ErrorSurface[]>();

export function addErrorSurface(server: object, surface: ErrorSurface): void {
  const list = registry.get(server) ?? [];
  list.push(surface);
  registry.set(server, list);
}

export function pathOf(url: string | undefined): string {
  const raw = url ?? '';
  const q = raw.indexOf('?');
  return q < 0 ? raw : raw.slice(0, q);
}

export function surfaceFor(server: object, path: string): ErrorSurface | undefined {
  return registry.get(server)?.find((s) => s.matches(path));
}

export const JSON_ERROR_TYPE = 'application/json; charset=utf-8';

export function jsonError(status: number, message: string): string {
  return JSON.stringify({ code: status, error: STATUS_CODES[status] ?? 'Error', message });
}

/** The error body for `path` on this server: its surface's, or the JSON shape. */
export function renderForSurface(server: object, path: string, status: number, message: string): RenderedError {
  const surface = surfaceFor(server, path);
  if (surface) return { contentType: surface.contentType, body: surface.render(status, message) };
  return { contentType: JSON_ERROR_TYPE, body: jsonError(status, message) };
}
