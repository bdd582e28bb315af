/**
 * What a database error means for the caller. Every surface (JSON API, legacy XML, dashboard)
 * answers a fault with the same status and words; only the format differs.
 */
import type { FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from './connection.js';
import { isCorruption, isDiskFull } from './health.js';
import { PoolBusyError } from './pool-gate.js';

export type FaultKind = 'disk-full' | 'corrupt' | 'busy' | 'unavailable';

export interface StorageFault {
  kind: FaultKind;
  status: 503 | 507;
  message: string;
  /** seconds, for the Retry-After header. */
  retryAfter?: number;
  /** the log line (the error itself is logged beside it). */
  log: string;
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A database fault and its answer, or null when the error is something else. */
export function classifyFault(err: unknown): StorageFault | null {
  if (err instanceof PoolBusyError) {
    return { kind: 'busy', status: 503, retryAfter: 1, log: 'database pool busy', message: `The server is busy: ${err.message}. Retry after 1 s.` };
  }
  if (isDiskFull(err)) {
    return { kind: 'disk-full', status: 507, retryAfter: 60, log: 'disk full: a write failed', message: "The server's disk is full, so nothing can be saved right now; nothing was changed. Reading still works. Try again once the operator has freed space." };
  }
  if (isCorruption(err)) {
    return { kind: 'corrupt', status: 503, log: 'database file damaged', message: "The server's database file is damaged; the operator must restore it (see /healthz). Nothing was changed." };
  }
  if (isDatabaseUnavailable(err)) {
    return { kind: 'unavailable', status: 503, retryAfter: 5, log: 'database unavailable', message: 'The database is not reachable right now; try again shortly.' };
  }
  return null;
}

/**
 * True when the client went away mid-request (closed the socket, aborted the body): nothing can
 * be answered, and it says nothing about the database.
 */
export function isClientAbort(request: FastifyRequest, err: unknown): boolean {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : '';
  const clientGone = request.raw.destroyed || request.raw.socket?.destroyed === true;
  if (code === 'ECONNABORTED' || (code === 'ECONNRESET' && message === 'aborted')) return true;
  return clientGone && (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE');
}
