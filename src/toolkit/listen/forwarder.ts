/**
 * Forwards streamed events to the developer's local receiver, one at a time and in order, signed
 * like real deliveries (Standard Webhooks headers, `webhook-id` = the event's id) with the
 * session secret. A failed event stays at the head of the queue and is tried again:
 * - receiver unreachable (down, restarting): until it answers, backing off to 30 s;
 * - receiver answered non-2xx or too slowly: up to `maxAttempts` times, then it is dropped
 *   (printed with the `--since-id` that replays it), so one bad event cannot block the rest.
 */
import { performance } from 'node:perf_hooks';
import { deliveryHeaders, sign } from '../../delivery/signer.js';
import { VERSION } from '../../version.js';

export interface ForwardItem {
  /** the stream's event id */
  eventId: number;
  /** `webhook-id`: the body's `id` (e.g. `evt_42`), the receiver's idempotency key */
  messageId: string;
  topic: string;
  /** the exact JSON text streamed; the signed and sent bytes */
  body: string;
  /** attempts made so far */
  attempts: number;
}

export interface ForwardResult {
  item: ForwardItem;
  ok: boolean;
  status: number | null;
  durationMs: number;
  /** why it failed, in a few words */
  error: string | null;
  /** `unreachable` is retried without limit; `refused` and `timeout` count towards maxAttempts */
  kind: 'ok' | 'unreachable' | 'refused' | 'timeout';
  /** when it will be tried again (ms); null when delivered or dropped */
  retryInMs: number | null;
  dropped: boolean;
  /** events waiting behind this one */
  waiting: number;
}

export interface ForwarderOptions {
  url: string;
  key: Uint8Array;
  timeoutMs: number;
  maxAttempts: number;
  onResult: (result: ForwardResult) => void;
  /** first retry delay; doubles up to maxDelayMs */
  initialDelayMs?: number;
  maxDelayMs?: number;
  fetch?: typeof fetch;
}

function describeFetchError(err: unknown, timeoutMs: number): { kind: 'unreachable' | 'timeout'; error: string } {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return { kind: 'timeout', error: `no answer within ${timeoutMs} ms (slow receiver?)` };
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return { kind: 'unreachable', error: 'connection refused: is your receiver running?' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'unreachable', error: `cannot resolve the host (${code})` };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return { kind: 'unreachable', error: 'the receiver closed the connection' };
  return { kind: 'unreachable', error: e.cause?.message ?? e.message };
}

export class Forwarder {
  private readonly queue: ForwardItem[] = [];
  private running = false;
  private stopped = false;
  private wakeSleep: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly o: ForwarderOptions) {
    this.fetchImpl = o.fetch ?? globalThis.fetch;
  }

  enqueue(item: Omit<ForwardItem, 'attempts'>): void {
    if (this.stopped) return;
    this.queue.push({ ...item, attempts: 0 });
    if (!this.running) void this.pump();
  }

  /** Events not yet forwarded, oldest first. */
  pending(): readonly ForwardItem[] {
    return this.queue;
  }

  /** Stops forwarding (an in-flight request is left to finish or time out). */
  stop(): void {
    this.stopped = true;
    this.wakeSleep?.();
  }

  /** Resolves when nothing is waiting. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async pump(): Promise<void> {
    this.running = true;
    let delay = this.o.initialDelayMs ?? 1000;
    try {
      while (!this.stopped && this.queue.length > 0) {
        const item = this.queue[0]!;
        item.attempts += 1;
        const result = await this.send(item);
        if (this.stopped) break;
        if (result.ok) {
          this.queue.shift();
          delay = this.o.initialDelayMs ?? 1000;
          this.o.onResult({ ...result, retryInMs: null, dropped: false, waiting: this.queue.length });
          continue;
        }
        const giveUp = result.kind !== 'unreachable' && item.attempts >= this.o.maxAttempts;
        if (giveUp) {
          this.queue.shift();
          this.o.onResult({ ...result, retryInMs: null, dropped: true, waiting: this.queue.length });
          continue;
        }
        this.o.onResult({ ...result, retryInMs: delay, dropped: false, waiting: this.queue.length - 1 });
        await this.sleep(delay);
        delay = Math.min(this.o.maxDelayMs ?? 30_000, delay * 2);
      }
    } finally {
      this.running = false;
      if (this.queue.length === 0 || this.stopped) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = () => {
        this.wakeSleep = null;
        done();
      };
    });
  }

  private async send(item: ForwardItem): Promise<Omit<ForwardResult, 'retryInMs' | 'dropped' | 'waiting'>> {
    const timestampSec = Math.floor(Date.now() / 1000);
    const headers = deliveryHeaders({
      messageId: item.messageId,
      timestampSec,
      signature: sign(Buffer.from(this.o.key), item.messageId, timestampSec, item.body),
      topic: item.topic,
      attempt: item.attempts,
      version: VERSION,
    });
    const started = performance.now();
    try {
      const res = await this.fetchImpl(this.o.url, { method: 'POST', headers, body: item.body, redirect: 'manual', signal: AbortSignal.timeout(this.o.timeoutMs) });
      const text = await res.text().catch(() => '');
      const durationMs = Math.round(performance.now() - started);
      if (res.status >= 200 && res.status < 300) return { item, ok: true, status: res.status, durationMs, error: null, kind: 'ok' };
      const excerpt = text.replace(/\s+/g, ' ').trim().slice(0, 120);
      const why = res.status >= 300 && res.status < 400 ? `redirect to ${res.headers.get('location') ?? '?'} (not followed)` : excerpt ? `answered ${JSON.stringify(excerpt)}` : 'non-2xx answer';
      return { item, ok: false, status: res.status, durationMs, error: why, kind: 'refused' };
    } catch (err) {
      const durationMs = Math.round(performance.now() - started);
      const { kind, error } = describeFetchError(err, this.o.timeoutMs);
      return { item, ok: false, status: null, durationMs, error, kind };
    }
  }
}
