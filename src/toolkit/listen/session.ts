/**
 * One `storehook listen` session: opens the store's live stream (GET /api/v1/webhooks/listen,
 * Server-Sent Events) from the developer's machine, prints every event, forwards it to a local
 * URL signed with the session secret, and reconnects by itself, resuming after the last event id
 * it saw (`Last-Event-ID`), so events committed while it was away are not missed.
 */
import { createHmac } from 'node:crypto';
import { decodeSecret, WebhookVerificationError } from '../../sdk/verify.js';
import { parseRetryAfter } from '../../client/index.js';
import { EXIT, localTime, ToolkitError, type Server } from '../common.js';
import { Forwarder, type ForwardResult } from './forwarder.js';
import { SseParser, type SseEvent } from './sse.js';
import { summarize } from './summary.js';

export interface ListenOptions {
  server: Server;
  /** null: every topic */
  topics: string[] | null;
  expands: string[];
  forwardTo?: string | undefined;
  /** signs forwarded messages (whsec_… or a uuid); default: sessionSecret(server) */
  secret?: string | undefined;
  /** resume after this event id at the first connection */
  sinceId?: number | undefined;
  json: boolean;
  forwardTimeoutMs?: number;
  maxForwardAttempts?: number;
  /** no byte (not even a keep-alive) for this long: the connection is dead, reconnect (default 45 s) */
  idleTimeoutMs?: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  forwardInitialDelayMs?: number;
  out?: (line: string) => void;
  fetch?: typeof fetch;
}

/**
 * The default session secret: stable for one server + API user (so a receiver configured once
 * keeps verifying across `listen` runs), unguessable without the API key, and not the key itself.
 */
export function sessionSecret(server: Server): string {
  const mac = createHmac('sha256', server.apiKey).update(`storehook listen session secret\n${server.url}\n${server.email.toLowerCase()}`).digest();
  return `whsec_${mac.toString('base64')}`;
}

type Outcome = { kind: 'ended'; reason: string } | { kind: 'retry'; reason: string; waitMs?: number };

export interface ListenStats {
  received: number;
  forwarded: number;
  dropped: number;
}

export class ListenSession {
  /** the last event id received (the resume point) */
  lastId: number | null;
  readonly stats: ListenStats = { received: 0, forwarded: 0, dropped: 0 };
  readonly secret: string;
  private readonly key: Uint8Array;
  private readonly forwarder: Forwarder | null;
  private readonly out: (line: string) => void;
  private readonly fetchImpl: typeof fetch;
  private connectedOnce = false;
  /** when the current connection started streaming; 0 when it did not */
  private streamedAt = 0;
  private readyCount = 0;
  private shutdownReason: string | null = null;

  constructor(private readonly o: ListenOptions) {
    this.lastId = o.sinceId ?? null;
    this.out = o.out ?? ((line) => process.stdout.write(`${line}\n`));
    this.fetchImpl = o.fetch ?? globalThis.fetch;
    this.secret = o.secret ?? sessionSecret(o.server);
    try {
      this.key = decodeSecret(this.secret);
    } catch (err) {
      throw new ToolkitError(`--secret: ${err instanceof WebhookVerificationError ? err.message : String(err)}`, EXIT.usage);
    }
    if (o.forwardTo !== undefined) {
      let target: URL;
      try {
        target = new URL(o.forwardTo);
      } catch {
        throw new ToolkitError(`--forward-to ${JSON.stringify(o.forwardTo)} is not a URL; use e.g. http://localhost:3000/hooks`, EXIT.usage);
      }
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new ToolkitError('--forward-to must be an http:// or https:// URL', EXIT.usage);
      this.forwarder = new Forwarder({
        url: target.toString(),
        key: this.key,
        timeoutMs: o.forwardTimeoutMs ?? 10_000,
        maxAttempts: o.maxForwardAttempts ?? 5,
        ...(o.forwardInitialDelayMs !== undefined ? { initialDelayMs: o.forwardInitialDelayMs } : {}),
        ...(o.fetch ? { fetch: o.fetch } : {}),
        onResult: (r) => this.printForward(r),
      });
    } else {
      this.forwarder = null;
    }
  }

  private emit(human: string, json: Record<string, unknown>): void {
    this.out(this.o.json ? JSON.stringify({ time: new Date().toISOString(), ...json }) : human);
  }

  /** Events received but not yet forwarded. */
  pending() {
    return this.forwarder?.pending() ?? [];
  }

  /**
   * Runs until `signal` aborts (resolves) or a problem that retrying cannot fix (rejects with a
   * ToolkitError: bad credentials, a server that is not storehook, unreachable at the start).
   */
  async run(signal: AbortSignal): Promise<void> {
    const { server } = this.o;
    this.emit(`storehook listen: ${server.url} as ${server.email}`, { type: 'start', url: server.url, email: server.email });
    const whence = this.o.secret !== undefined ? 'given with --secret' : 'the same every run for this server and API user';
    this.emit(`Session secret: ${this.secret}  (your receiver verifies forwarded messages with it; ${whence})`, { type: 'secret', secret: this.secret });
    if (this.forwarder) this.emit(`Forwarding to ${this.o.forwardTo}`, { type: 'forwarding', url: this.o.forwardTo });
    else this.emit('Not forwarding (add --forward-to http://localhost:3000/hooks to send events to your receiver)', { type: 'forwarding', url: null });

    const initial = this.o.reconnectInitialMs ?? 500;
    const max = this.o.reconnectMaxMs ?? 15_000;
    let delay = initial;
    try {
      while (!signal.aborted) {
        const outcome = await this.connect(signal);
        if (signal.aborted) break;
        // A connection that worked for a while starts the backoff over; repeated failures (or a
        // server that accepts and drops at once) double it.
        if (this.streamedAt && Date.now() - this.streamedAt > 5000) delay = initial;
        const wait = outcome.kind === 'retry' && outcome.waitMs !== undefined ? outcome.waitMs : delay;
        const resume = this.lastId === null ? '' : `, resuming after event ${this.lastId}`;
        this.emit(`${localTime()}  connection lost: ${outcome.reason}; reconnecting in ${(wait / 1000).toFixed(1)} s${resume}`, { type: 'disconnected', reason: outcome.reason, retry_in_ms: wait, last_event_id: this.lastId });
        await sleep(wait, signal);
        delay = Math.min(max, delay * 2);
      }
    } finally {
      this.forwarder?.stop();
    }
  }

  private async connect(signal: AbortSignal): Promise<Outcome> {
    const { server } = this.o;
    const params = new URLSearchParams();
    if (this.o.topics) params.set('topic', this.o.topics.join(','));
    if (this.o.expands.length) params.set('expand', this.o.expands.join(','));
    const url = `${server.url}/api/v1/webhooks/listen${params.size ? `?${params}` : ''}`;
    const aborter = new AbortController();
    const onAbort = () => aborter.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let idleTimer: NodeJS.Timeout | undefined;
    let idled = false;
    const idleMs = this.o.idleTimeoutMs ?? 45_000;
    const touch = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idled = true;
        aborter.abort();
      }, idleMs);
    };
    this.shutdownReason = null;
    this.streamedAt = 0;
    try {
      touch();
      let res: Response;
      try {
        res = await this.fetchImpl(url, {
          headers: {
            accept: 'text/event-stream',
            authorization: `Basic ${Buffer.from(`${server.email}:${server.apiKey}`, 'utf8').toString('base64')}`,
            'user-agent': 'storehook-listen',
            ...(this.lastId !== null ? { 'last-event-id': String(this.lastId) } : {}),
          },
          signal: aborter.signal,
        });
      } catch (err) {
        if (signal.aborted) return { kind: 'ended', reason: 'stopped' };
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const why = idled ? `no answer within ${idleMs / 1000} s` : e.cause?.code === 'ECONNREFUSED' ? 'connection refused' : (e.cause?.code ?? e.cause?.message ?? e.message);
        if (!this.connectedOnce) throw new ToolkitError(`cannot reach ${server.url}: ${why} (is \`storehook serve\` running there? check --url/STOREHOOK_URL)`, EXIT.unreachable);
        return { kind: 'retry', reason: why };
      }
      if (res.status !== 200) return await this.refused(res);
      const type = res.headers.get('content-type') ?? '';
      if (!type.startsWith('text/event-stream') || !res.body) {
        await res.body?.cancel().catch(() => undefined);
        throw new ToolkitError(`${server.url} answered ${type || 'something'} instead of an event stream: is it a storehook server? (check --url)`, EXIT.unreachable);
      }
      this.connectedOnce = true;
      this.streamedAt = Date.now();
      const parser = new SseParser((event) => this.onEvent(event));
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          touch();
          parser.push(decoder.decode(chunk, { stream: true }));
        }
      } catch (err) {
        if (signal.aborted) return { kind: 'ended', reason: 'stopped' };
        if (idled) return { kind: 'retry', reason: `no data for ${idleMs / 1000} s` };
        const e = err as Error & { cause?: { code?: string } };
        return { kind: 'retry', reason: e.cause?.code ?? e.message };
      }
      return { kind: 'ended', reason: this.shutdownReason ?? 'the server closed the stream' };
    } finally {
      clearTimeout(idleTimer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** A non-200 answer to the stream request: fatal (credentials, usage, not storehook) or retry. */
  private async refused(res: Response): Promise<Outcome> {
    const text = await res.text().catch(() => '');
    let message = '';
    try {
      const body = JSON.parse(text) as { message?: unknown };
      if (typeof body.message === 'string') message = body.message;
    } catch {
      // not a storehook error body
    }
    const url = this.o.server.url;
    switch (res.status) {
      case 401:
        throw new ToolkitError(`${url} refused the credentials (401): check --email/STOREHOOK_EMAIL and --key/STOREHOOK_API_KEY`, EXIT.auth);
      case 403:
        throw new ToolkitError(`${url}: ${message || 'forbidden'} (403)`, EXIT.auth);
      case 400:
        throw new ToolkitError(message || `${url} refused the request (400)`, EXIT.usage);
      case 404:
        throw new ToolkitError(`${url} has no live stream endpoint (404${message ? `: ${message}` : ''}): is it a storehook server with \`listen\` support? (check --url)`, EXIT.unreachable);
      case 429: {
        const waitMs = parseRetryAfter(res.headers.get('retry-after')) ?? 5000;
        return { kind: 'retry', reason: message || 'too many requests (429)', waitMs };
      }
    }
    if (!this.connectedOnce) throw new ToolkitError(`${url} failed (${res.status})${message ? `: ${message}` : ''}`, EXIT.unreachable);
    return { kind: 'retry', reason: `the server answered ${res.status}${message ? `: ${message}` : ''}` };
  }

  private onEvent(event: SseEvent): void {
    switch (event.event) {
      case 'ready': {
        const info = safeJson(event.data) as { store?: string; topics?: string[]; last_event_id?: number; resumed?: boolean } | null;
        const topics = this.o.topics ? this.o.topics.join(', ') : `all (${info?.topics?.length ?? '?'})`;
        if (this.lastId === null && typeof info?.last_event_id === 'number') this.lastId = info.last_event_id;
        this.readyCount++;
        const human =
          this.readyCount > 1
            ? `${localTime()}  reconnected; resuming after event ${this.lastId}`
            : `Ready: store "${info?.store ?? '?'}", topics: ${topics}${info?.resumed ? `, replaying from after event ${this.lastId}` : ''}. Waiting for events (Ctrl-C to quit).`;
        this.emit(human, { type: 'ready', store: info?.store, topics: info?.topics, last_event_id: this.lastId, resumed: info?.resumed ?? false });
        return;
      }
      case 'warning':
      case 'error': {
        const message = (safeJson(event.data) as { message?: string } | null)?.message ?? event.data ?? '';
        this.emit(`${localTime()}  ${event.event}: ${message}`, { type: event.event, message });
        return;
      }
      case 'shutdown':
        this.shutdownReason = 'the server is shutting down';
        return;
      case 'message': {
        if (event.id !== undefined && /^\d+$/.test(event.id)) this.lastId = Number(event.id);
        if (event.data === null) return;
        const body = safeJson(event.data) as { id?: string; topic?: string; created_at?: string; data?: Record<string, unknown> } | null;
        if (!body || typeof body.id !== 'string' || typeof body.topic !== 'string') {
          this.emit(`${localTime()}  (unreadable event ${event.id ?? '?'} skipped)`, { type: 'unreadable', id: event.id });
          return;
        }
        this.stats.received++;
        const summary = summarize(body.topic, body.data as never);
        this.emit(`${localTime()}  ${body.topic.padEnd(24)} ${body.id.padEnd(9)} ${summary}`, { type: 'event', event_id: this.lastId, id: body.id, topic: body.topic, created_at: body.created_at, summary, event: body });
        this.forwarder?.enqueue({ eventId: Number(event.id ?? 0), messageId: body.id, topic: body.topic, body: event.data });
        return;
      }
    }
  }

  private printForward(r: ForwardResult): void {
    const target = this.o.forwardTo;
    const status = r.status === null ? 'ERR' : String(r.status);
    const base = { type: 'forward', id: r.item.messageId, event_id: r.item.eventId, attempt: r.item.attempts, ok: r.ok, status: r.status, duration_ms: r.durationMs, error: r.error, retry_in_ms: r.retryInMs, dropped: r.dropped, waiting: r.waiting };
    if (r.ok) {
      this.stats.forwarded++;
      this.emit(`${localTime()}    → ${r.item.messageId} ${status} POST ${target} (${r.durationMs} ms)${r.item.attempts > 1 ? ` on attempt ${r.item.attempts}` : ''}`, base);
      return;
    }
    if (r.dropped) {
      this.stats.dropped++;
      this.emit(
        `${localTime()}    → ${r.item.messageId} ${status} ${r.error}; gave up on it after ${r.item.attempts} attempts (replay it with --since-id ${r.item.eventId - 1})`,
        base,
      );
      return;
    }
    const behind = r.waiting > 0 ? `, ${r.waiting} more waiting` : '';
    this.emit(`${localTime()}    → ${r.item.messageId} ${status} ${r.error} (${r.durationMs} ms); keeping it, next try in ${Math.round((r.retryInMs ?? 0) / 100) / 10} s${behind}`, base);
  }
}

function safeJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
