/**
 * Outgoing webhook POSTs (SPEC §4) over one shared undici Agent whose connector applies the
 * network guard on the address actually dialled. `send()` never throws for a delivery
 * failure: every outcome is a SendResult with a coarse error class.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { Agent, buildConnector, errors, request } from 'undici';
import { GuardError, type NetworkGuard } from './network-guard.js';

export type ErrorClass =
  | 'http_status'
  | 'timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns_error'
  | 'tls_error'
  | 'blocked_target'
  | 'network_error';

export interface SendResult {
  /** True only for a 2xx answer received (and its excerpt read) within the timeout. */
  ok: boolean;
  statusCode?: number;
  durationMs: number;
  errorClass?: ErrorClass;
  errorMessage?: string;
  /** The first maxResponseBytes bytes of the response body, as UTF-8. */
  responseBody: string;
  /** Raw Retry-After header value, if any. */
  retryAfter?: string;
}

export interface SendRequest {
  url: string;
  body: string | Buffer;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

export interface SenderOptions {
  guard: NetworkGuard;
  /** DNS resolution and TCP/TLS connect are each bounded by this (default 5000). */
  connectTimeoutMs?: number;
  /** Whole attempt: connect + headers + capped body read (default 15000). */
  totalTimeoutMs?: number;
  /** Response excerpt cap; reading stops there (default 16384). */
  maxResponseBytes?: number;
  userAgent: string;
  /** Cap on pooled connections per origin (default: undici's, unlimited). */
  maxConnectionsPerOrigin?: number;
  /** Extra trusted CA(s) for HTTPS targets (tests, private PKI). */
  tlsCa?: string | Buffer;
}

export interface Sender {
  send(req: SendRequest): Promise<SendResult>;
  close(): Promise<void>;
}

interface PeerSocket {
  remoteAddress?: string | undefined;
  destroy(error?: Error): unknown;
}

/**
 * Post-connect check on the peer actually reached (DNS rebinding, or anything that made the
 * socket land elsewhere than the checked address). Destroys the socket and returns the
 * refusal if the peer is refused or unknown; returns undefined if it may be used.
 */
export function checkConnectedSocket(socket: PeerSocket, guard: NetworkGuard): GuardError | undefined {
  const peer = socket.remoteAddress;
  let refusal: GuardError | undefined;
  if (peer === undefined || peer === '') {
    // No peer address means the socket is already gone; never hand it to undici.
    refusal = new GuardError('(unknown peer)', 'socket has no remote address after connect');
  } else {
    const c = guard.classify(peer);
    if (!c.allowed) refusal = new GuardError(peer, c.reason ?? 'refused');
  }
  if (refusal !== undefined) socket.destroy();
  return refusal;
}

type Connector = buildConnector.connector;

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Wraps undici's connector so every new connection is guarded before and after dialling. */
function guardedConnector(guard: NetworkGuard, connectTimeoutMs: number, ca?: string | Buffer): Connector {
  const base = buildConnector({ timeout: connectTimeoutMs, ...(ca !== undefined ? { ca } : {}) });

  return (options, callback) => {
    // Dial checked IPs in resolver order; like net's own multi-address connect, fall back to
    // the next address only when this one is unreachable (never on TLS or guard errors).
    const dial = (addresses: readonly string[], i = 0): void => {
      const address = addresses[i] as string;
      // undici derives TLS SNI and the certificate name from options.host (the original name),
      // so replacing hostname with the checked IP keeps certificate verification intact.
      base({ ...options, hostname: address }, (err, socket) => {
        if (err !== null) {
          const code = (err as { code?: unknown }).code;
          if (i + 1 < addresses.length && typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
            dial(addresses, i + 1);
          } else {
            callback(err, null);
          }
          return;
        }
        const refusal = checkConnectedSocket(socket, guard);
        if (refusal !== undefined) callback(refusal, null);
        else callback(null, socket);
      });
    };

    // undici already strips IPv6 brackets, but be defensive.
    const host = options.hostname.replace(/^\[(.*)\]$/, '$1');

    if (net.isIP(host) !== 0) {
      // A connect.lookup hook is never called for IP literals: check the literal here.
      try {
        guard.checkAddress(host);
      } catch (err) {
        callback(err as Error, null);
        return;
      }
      dial([host]);
      return;
    }

    // getaddrinfo cannot be cancelled; bound the wait with the connect timeout instead.
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      callback(new errors.ConnectTimeoutError(`DNS lookup of ${host} timed out after ${connectTimeoutMs} ms`), null);
    }, connectTimeoutMs);
    guard.resolve(host).then(
      (addrs) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // resolve() never returns an empty list, and every entry has been checked.
        dial(addrs.map((a) => a.address));
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        callback(err instanceof Error ? err : new Error(String(err)), null);
      },
    );
  };
}

const DNS_CODES = new Set([
  'dns_error',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EAI_NODATA',
  'ENODATA',
  'ESERVFAIL',
  'ENOTIMP',
  'EBADNAME',
]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** Every error in the chain: the error itself, its causes, and AggregateError members. */
function errorChain(err: unknown): Array<{ code?: string; message: string; library?: string }> {
  const out: Array<{ code?: string; message: string; library?: string }> = [];
  const queue: unknown[] = [err];
  const seen = new Set<unknown>();
  while (queue.length > 0 && out.length < 20) {
    const e = queue.shift();
    if (e === null || e === undefined || seen.has(e)) continue;
    seen.add(e);
    if (typeof e !== 'object') {
      out.push({ message: String(e) });
      continue;
    }
    const rec = e as { code?: unknown; message?: unknown; library?: unknown; cause?: unknown; errors?: unknown };
    out.push({
      ...(typeof rec.code === 'string' ? { code: rec.code } : {}),
      message: typeof rec.message === 'string' ? rec.message : String(e),
      ...(typeof rec.library === 'string' ? { library: rec.library } : {}),
    });
    queue.push(rec.cause);
    if (Array.isArray(rec.errors)) queue.push(...(rec.errors as unknown[]));
  }
  return out;
}

function isTlsCode(code: string): boolean {
  // Node TLS codes (ERR_TLS_*, ERR_SSL_*), OpenSSL verify codes (…CERT…), EPROTO.
  return code === 'EPROTO' || /^ERR_(TLS|SSL)_/.test(code) || /CERT|SELF_SIGNED|_SIGNATURE/.test(code);
}

/** Maps a thrown delivery error to its class, most specific evidence first. */
export function classifyError(err: unknown): ErrorClass {
  const chain = errorChain(err);
  const codes = chain.map((e) => e.code).filter((c): c is string => c !== undefined);
  if (err instanceof GuardError || codes.includes('blocked_target')) return 'blocked_target';
  if (codes.some((c) => DNS_CODES.has(c))) return 'dns_error';
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return 'timeout';
  // A peer that hangs up mid-handshake (e.g. https:// to a plain-HTTP port) is a TLS failure,
  // though Node reports it as ECONNRESET: say so, not "connection reset".
  if (codes.some(isTlsCode) || chain.some((e) => e.library === 'SSL routines' || e.message.includes('before secure TLS connection was established'))) return 'tls_error';
  if (codes.includes('ECONNREFUSED')) return 'connection_refused';
  if (codes.some((c) => RESET_CODES.has(c))) return 'connection_reset';
  return 'network_error';
}

function describe(err: unknown): string {
  const chain = errorChain(err);
  const first = chain[0];
  if (first === undefined) return 'unknown error';
  // The innermost cause is usually the informative one (e.g. ECONNREFUSED 127.0.0.1:1).
  const last = chain[chain.length - 1] ?? first;
  const msg = last === first ? first.message : `${first.message}: ${last.message}`;
  const trimmed = msg.trim();
  return trimmed.length > 500 ? `${trimmed.slice(0, 500)}…` : trimmed;
}

interface CappedBody {
  text: string;
  error?: unknown;
}

/**
 * Reads at most `cap` bytes, then destroys the stream so an endless or huge body neither
 * hangs the attempt nor grows memory (undici then closes the connection).
 */
async function readCapped(body: AsyncIterable<unknown> & { destroy(): unknown }, cap: number): Promise<CappedBody> {
  const chunks: Buffer[] = [];
  let n = 0;
  let error: unknown;
  try {
    if (cap > 0) {
      for await (const chunk of body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
        const take = Math.min(buf.length, cap - n);
        if (take > 0) {
          chunks.push(buf.subarray(0, take));
          n += take;
        }
        if (n >= cap) break;
      }
    }
  } catch (err) {
    error = err;
  } finally {
    body.destroy();
  }
  // StringDecoder.write() holds back a trailing partial UTF-8 sequence instead of emitting U+FFFD.
  const text = new StringDecoder('utf8').write(Buffer.concat(chunks, n));
  return error === undefined ? { text } : { text, error };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

class TotalTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`delivery attempt exceeded the total timeout of ${ms} ms`);
    this.name = 'TotalTimeoutError';
  }
}

export function createSender(opts: SenderOptions): Sender {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  const totalTimeoutMs = opts.totalTimeoutMs ?? 15000;
  const maxResponseBytes = opts.maxResponseBytes ?? 16384;
  const { guard, userAgent } = opts;

  const agent = new Agent({
    connect: guardedConnector(guard, connectTimeoutMs, opts.tlsCa),
    ...(opts.maxConnectionsPerOrigin !== undefined ? { connections: opts.maxConnectionsPerOrigin } : {}),
    // Idle timers; the total deadline below is what bounds an attempt.
    headersTimeout: totalTimeoutMs,
    bodyTimeout: totalTimeoutMs,
  });

  async function send(req: SendRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);

    // A plain controller + timer instead of AbortSignal.any(): the listener and timer are
    // removed in `finally`, so long-lived caller signals accumulate nothing.
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort(new TotalTimeoutError(totalTimeoutMs));
    }, totalTimeoutMs);
    const onCallerAbort = (): void => ac.abort(req.signal?.reason);
    if (req.signal?.aborted) ac.abort(req.signal.reason);
    else req.signal?.addEventListener('abort', onCallerAbort, { once: true });

    const failure = (err: unknown, statusCode?: number, responseBody = ''): SendResult => {
      let errorClass: ErrorClass;
      let errorMessage: string;
      if (timedOut) {
        errorClass = 'timeout';
        errorMessage = `total timeout of ${totalTimeoutMs} ms exceeded`;
      } else if (req.signal?.aborted) {
        // Caller cancellation (e.g. shutdown) is not the receiver's fault; say so plainly.
        errorClass = 'network_error';
        errorMessage = `aborted by caller: ${describe(req.signal.reason)}`;
      } else {
        errorClass = classifyError(err);
        errorMessage = describe(err);
      }
      return {
        ok: false,
        ...(statusCode !== undefined ? { statusCode } : {}),
        durationMs: elapsed(),
        errorClass,
        errorMessage,
        responseBody,
      };
    };

    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': userAgent };
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;

      // undici 7 request() never follows redirects (no redirect interceptor installed).
      const res = await request(req.url, {
        dispatcher: agent,
        method: 'POST',
        body: req.body,
        headers,
        signal: ac.signal,
        headersTimeout: totalTimeoutMs,
        bodyTimeout: totalTimeoutMs,
      });
      const statusCode = res.statusCode;
      const retryAfter = headerValue(res.headers['retry-after']);
      const excerpt = await readCapped(res.body, maxResponseBytes);
      const is2xx = statusCode >= 200 && statusCode < 300;

      if (is2xx && excerpt.error !== undefined) {
        // The answer was not complete within the deadline (or the peer broke off): failure.
        return failure(excerpt.error, statusCode, excerpt.text);
      }
      if (is2xx && timedOut) return failure(new TotalTimeoutError(totalTimeoutMs), statusCode, excerpt.text);

      const result: SendResult = {
        ok: is2xx,
        statusCode,
        durationMs: elapsed(),
        responseBody: excerpt.text,
        ...(retryAfter !== undefined ? { retryAfter } : {}),
      };
      if (!is2xx) {
        result.errorClass = 'http_status';
        result.errorMessage = `HTTP ${statusCode}`;
      }
      return result;
    } catch (err) {
      return failure(err);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return {
    send,
    async close(): Promise<void> {
      await agent.close();
    },
  };
}
