/**
 * The dispatcher: claims due messages under a lease, sends each (performAttempt), and records the
 * outcome. It knows nothing of orders or HTTP routes: it sends stored bytes.
 *
 * Fairness (SPEC §4):
 * - at most `concurrency` requests in flight, at most `maxInFlightPerSubscription` to one
 *   subscription; claimed messages over that cap wait here (their lease kept alive, at most a few
 *   caps' worth per subscription, the rest go straight back to the queue) without taking a slot,
 *   and a saturated subscription is left out of the next claims until it has room again;
 * - a slot is freed when the HTTP exchange ends; the outcome is written afterwards, in batches,
 *   so the database's commit latency does not cap the request rate (writes that pile up past
 *   `concurrency` hold back new claims);
 * - first attempts are claimed before retries, and retries may use at most half the slots, so a
 *   backlog of retries never delays a new message.
 */
import type { Logger } from 'pino';
import type { Database } from '../db/connection.js';
import { performAttempt, type AttemptResult } from './attempt.js';
import type { SigningKeyLookup } from './signer.js';
import type { Sender } from './http-sender.js';
import { DeliveryLog } from './delivery-log.js';
import { OutcomeWriter } from './outcome-writer.js';
import { claimDue, extendLeases, nextDueAt, pruneFinished, releaseClaims, releaseStrandedHeld, type ClaimedMessage, type ClaimKind } from './queue.js';

export interface DispatcherOptions {
  database: Database;
  sender: Sender;
  workerId: string;
  concurrency: number;
  maxInFlightPerSubscription: number;
  leaseMs: number;
  pollIntervalMs: number;
  retryBaseMs: number;
  retentionDays: number;
  version: string;
  /** the subscriptions' own signing keys (server.ts wires src/webhooks/signing-keys.ts); absent: uuids sign. */
  signingKeys?: SigningKeyLookup;
  log: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /** observers for metrics; called synchronously, must not throw. */
  onClaim?: (kind: ClaimKind, count: number, durationMs: number) => void;
  onAttempt?: (message: ClaimedMessage, result: AttemptResult) => void;
}

const MAX_CLAIM_BATCH = 100;
/** claimed messages one subscription may have waiting here, in caps (× maxInFlightPerSubscription). */
const WAITING_CAPS = 8;

export class Dispatcher {
  private readonly held = new Map<number, ClaimedMessage>();
  private readonly sendingPerSub = new Map<string, number>();
  private readonly waitingPerSub = new Map<string, ClaimedMessage[]>();
  private readonly sends = new Set<Promise<void>>();
  private readonly writer: OutcomeWriter;
  private readonly deliveryLog: DeliveryLog;
  private sending = 0;
  private retriesSending = 0;
  private running = false;
  private mayHaveMore = false;
  private wakeUp: (() => void) | null = null;
  private wakePending = false;
  private loopDone: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private retryTimerAt = Infinity;
  /** something was due but could not be claimed: wake on the next finished send. */
  private dueButBlocked = false;
  /** subscriptions left out of the last claim because they were saturated here. */
  private excluded = new Set<string>();
  /** outcomes sent but not yet written. */
  private pendingWrites = 0;
  /**
   * How many first attempts the last claim could actually keep. Claiming far more than the
   * subscriptions' caps allow only to give the rest back costs two writes per message, so the
   * next claim asks for about as many as were kept.
   */
  private claimHint = MAX_CLAIM_BATCH;

  constructor(private readonly o: DispatcherOptions) {
    this.writer = new OutcomeWriter(o.database, o.workerId);
    this.deliveryLog = new DeliveryLog(o.log);
  }

  get inFlight(): number {
    return this.sending;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
    const heartbeat = setInterval(() => void this.heartbeat(), Math.max(50, Math.floor(this.o.leaseMs / 3)));
    const prune = setInterval(() => void this.prune(), 60_000);
    heartbeat.unref();
    prune.unref();
    this.timers.push(heartbeat, prune);
  }

  /** Something may be due now (a commit, a notification, a freed slot). */
  wake(): void {
    this.wakePending = true;
    const resolve = this.wakeUp;
    this.wakeUp = null;
    resolve?.();
  }

  async stop(graceMs = 20_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    for (const t of this.timers) clearInterval(t);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.loopDone;
    // Messages claimed but not yet sent go back to the queue at once.
    const waiting = [...this.waitingPerSub.values()].flat();
    this.waitingPerSub.clear();
    for (const m of waiting) this.held.delete(m.id);
    await releaseClaims(this.o.database, this.o.workerId, waiting.map((m) => m.id), Date.now()).catch((err: unknown) => this.o.log.warn({ err }, 'could not release claims; their leases will expire'));
    // In-flight requests finish (bounded by the request timeout) and record their outcome.
    await Promise.race([Promise.allSettled([...this.sends]), new Promise((r) => setTimeout(r, graceMs).unref())]);
    await this.writer.drain();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.wakePending = false;
      let claimed = 0;
      try {
        claimed = await this.fill();
      } catch (err) {
        this.o.log.warn({ err }, 'claiming due messages failed; retrying after the poll interval');
        await this.sleep(this.o.pollIntervalMs);
        continue;
      }
      if (!this.running) break;
      if (this.wakePending) continue;
      await this.sleep(claimed > 0 ? this.o.pollIntervalMs : await this.untilNextDue());
    }
  }

  private async untilNextDue(): Promise<number> {
    try {
      const at = await nextDueAt(this.o.database.kysely);
      if (at === null) return this.o.pollIntervalMs;
      if (at <= Date.now()) {
        // Due, yet nothing was claimed: its subscription is at its in-flight cap, or our slots
        // are full. Looping at once would spin (and starve the event loop on
        // SQLite, whose driver never yields); a finished send wakes us, polling is the fallback.
        this.dueButBlocked = true;
        return this.o.pollIntervalMs;
      }
      return Math.min(this.o.pollIntervalMs, at - Date.now());
    } catch {
      return this.o.pollIntervalMs;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakePending || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private freeSlots(): number {
    // Waiting messages take no slot: a hanging subscription's backlog must not starve others.
    // Unwritten outcomes beyond one round of slots mean the database lags: claim less.
    return this.o.concurrency - this.sending - Math.max(0, this.pendingWrites - this.o.concurrency);
  }

  private saturatedSubscriptions(): string[] {
    const out = new Set<string>();
    const cap = this.o.maxInFlightPerSubscription;
    for (const [sub, list] of this.waitingPerSub) if (list.length >= cap) out.add(sub);
    for (const [sub, n] of this.sendingPerSub) if (n >= cap && (this.waitingPerSub.get(sub)?.length ?? 0) >= cap) out.add(sub);
    return [...out];
  }

  /** Claims until the slots are full or nothing is due; returns how many were claimed. */
  private async fill(): Promise<number> {
    let total = 0;
    this.mayHaveMore = false;
    while (this.running) {
      const free = this.freeSlots();
      if (free <= 0) {
        this.mayHaveMore = true;
        break;
      }
      const firstLimit = Math.min(MAX_CLAIM_BATCH, free, this.claimHint);
      const first = await this.claim('first', firstLimit);
      const retryRoom = Math.floor(this.o.concurrency / 2) - this.retriesSending - first.length;
      const retryLimit = Math.max(0, Math.min(MAX_CLAIM_BATCH, free - first.length, retryRoom));
      const retries = await this.claim('retry', retryLimit);
      const excess = [...first, ...retries].filter((m) => !this.dispatch(m));
      if (first.length > 0) {
        const kept = first.length - excess.filter((m) => m.attempt_count === 0).length;
        this.claimHint = Math.max(this.o.maxInFlightPerSubscription, Math.min(MAX_CLAIM_BATCH, excess.length ? kept : kept * 2));
      }
      if (excess.length) await releaseClaims(this.o.database, this.o.workerId, excess.map((m) => m.id), Date.now());
      total += first.length + retries.length - excess.length;
      const saturated = first.length === firstLimit || (retryLimit > 0 && retries.length === retryLimit);
      if (!saturated) break;
      // Everything claimed went to subscriptions that are now full: claiming again at once would
      // only scan past their rows. A send that frees room wakes the loop.
      const claimedSubs = new Set([...first, ...retries].map((m) => m.subscription_uuid));
      const stillOpen = [...claimedSubs].some((sub) => (this.waitingPerSub.get(sub)?.length ?? 0) < this.o.maxInFlightPerSubscription);
      if (!stillOpen && claimedSubs.size < this.o.concurrency / this.o.maxInFlightPerSubscription) {
        // Not `mayHaveMore`: a freed slot must not trigger a claim that skips these subscriptions'
        // rows one by one; each one wakes the loop itself when it has room again.
        for (const sub of claimedSubs) this.excluded.add(sub);
        break;
      }
      this.mayHaveMore = true;
    }
    return total;
  }

  private async claim(kind: ClaimKind, limit: number): Promise<ClaimedMessage[]> {
    if (limit <= 0) return [];
    const started = performance.now();
    const exclude = this.saturatedSubscriptions();
    for (const sub of exclude) this.excluded.add(sub);
    const claimed = await claimDue(this.o.database, {
      workerId: this.o.workerId,
      now: Date.now(),
      leaseMs: this.o.leaseMs,
      limit,
      kind,
      excludeSubscriptions: exclude,
    });
    this.o.onClaim?.(kind, claimed.length, performance.now() - started);
    return claimed;
  }

  /** Sends, or queues behind the subscription's cap; false (not kept) when that queue is full. */
  private dispatch(message: ClaimedMessage): boolean {
    const sub = message.subscription_uuid;
    if ((this.sendingPerSub.get(sub) ?? 0) >= this.o.maxInFlightPerSubscription) {
      const list = this.waitingPerSub.get(sub) ?? [];
      if (list.length >= WAITING_CAPS * this.o.maxInFlightPerSubscription) return false;
      list.push(message);
      this.waitingPerSub.set(sub, list);
      this.held.set(message.id, message);
      return true;
    }
    this.held.set(message.id, message);
    this.send(message);
    return true;
  }

  private send(message: ClaimedMessage): void {
    const sub = message.subscription_uuid;
    const isRetry = message.attempt_count > 0;
    this.sending++;
    if (isRetry) this.retriesSending++;
    this.sendingPerSub.set(sub, (this.sendingPerSub.get(sub) ?? 0) + 1);
    const task = this.deliver(message, isRetry);
    this.sends.add(task);
    void task.finally(() => this.sends.delete(task));
  }

  private async deliver(message: ClaimedMessage, isRetry: boolean): Promise<void> {
    let result: AttemptResult | null = null;
    try {
      result = await performAttempt(this.o.sender, message, { retryBaseMs: this.o.retryBaseMs, version: this.o.version, ...(this.o.signingKeys ? { signingKeys: this.o.signingKeys } : {}) });
    } catch (err) {
      // performAttempt does not throw for delivery failures; this is a bug. The lease expires and
      // the message is tried again, so nothing is lost.
      this.o.log.error({ err, messageId: message.message_id }, 'delivery attempt crashed');
    } finally {
      this.releaseSlot(message.subscription_uuid, isRetry, result?.outcome.kind === 'gone');
    }
    if (!result) {
      this.held.delete(message.id);
      return;
    }
    this.o.onAttempt?.(message, result);
    this.pendingWrites++;
    try {
      const held = await this.recordWithRetry(message, result);
      if (held) this.deliveryLog.recorded(message, result);
      if (held === false) this.o.log.warn({ messageId: message.message_id }, 'lease lost before the outcome was recorded; the new holder decides');
      else if (held && result.outcome.kind === 'gone') await this.giveBackWaiting(message.subscription_uuid);
      else if (held && result.outcome.kind === 'failed' && result.outcome.nextAttemptAt !== null) this.wakeAt(result.outcome.nextAttemptAt);
    } finally {
      this.pendingWrites--;
      this.held.delete(message.id);
      this.wakeIfRoom();
    }
  }

  private wakeIfRoom(): void {
    // Claim again once a quarter of the slots are free, not after every single completion.
    if (this.mayHaveMore && this.freeSlots() >= Math.max(1, Math.floor(this.o.concurrency / 4))) this.wake();
  }

  /** The HTTP exchange is over: free its slot, start the next waiting message, claim if useful. */
  private releaseSlot(sub: string, isRetry: boolean, gone: boolean): void {
    this.sending--;
    if (isRetry) this.retriesSending--;
    const left = (this.sendingPerSub.get(sub) ?? 1) - 1;
    if (left > 0) this.sendingPerSub.set(sub, left);
    else this.sendingPerSub.delete(sub);
    // After a 410 nothing more goes to that receiver; its waiting messages are given back.
    const queue = gone ? undefined : this.waitingPerSub.get(sub);
    const next = queue?.shift();
    if (queue && queue.length === 0) this.waitingPerSub.delete(sub);
    if (next && this.running) this.send(next);
    const roomAgain = this.excluded.has(sub) && (this.waitingPerSub.get(sub)?.length ?? 0) < this.o.maxInFlightPerSubscription;
    if (roomAgain) this.excluded.delete(sub);
    if (this.dueButBlocked || roomAgain) {
      this.dueButBlocked = false;
      this.wake();
    }
    this.wakeIfRoom();
  }

  /**
   * Writes the outcome, retrying while the database is briefly unavailable: the message stays held
   * (its lease kept alive by the heartbeat), so a database hiccup does not turn a delivered message
   * into a duplicate. Gives up only when stopping; then the lease expiry resends it (at least once).
   * Returns whether the lease was still held, or null when the outcome could not be written.
   */
  private async recordWithRetry(message: ClaimedMessage, result: AttemptResult): Promise<boolean | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.writer.record(result.attempt, result.outcome);
      } catch (err) {
        if (!this.running || attempt >= 30) {
          this.o.log.warn({ err, messageId: message.message_id }, 'could not record the outcome; the message will be sent again when its lease expires');
          return null;
        }
        if (attempt === 1) this.o.log.warn({ err, messageId: message.message_id }, 'recording the outcome failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(200 * attempt, 2000)));
      }
    }
  }

  /**
   * The subscription answered 410 and is disabled: the messages claimed for it and still waiting
   * here are not sent; they go back to the queue, held until it is enabled again.
   */
  private async giveBackWaiting(sub: string): Promise<void> {
    const waiting = this.waitingPerSub.get(sub);
    if (!waiting) return;
    this.waitingPerSub.delete(sub);
    for (const m of waiting) this.held.delete(m.id);
    await releaseClaims(this.o.database, this.o.workerId, waiting.map((m) => m.id), Date.now());
  }

  /** Wakes the loop when a retry scheduled by this worker falls due (sooner than the poll). */
  private wakeAt(at: number): void {
    if (at >= this.retryTimerAt) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimerAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryTimerAt = Infinity;
      this.wake();
    }, Math.max(0, at - Date.now()));
    this.retryTimer.unref();
  }

  private async heartbeat(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      await extendLeases(this.o.database, this.o.workerId, [...this.held.keys()], Date.now(), this.o.leaseMs);
    } catch (err) {
      this.o.log.warn({ err }, 'lease heartbeat failed');
    }
  }

  private async prune(): Promise<void> {
    const cutoff = Date.now() - this.o.retentionDays * 86_400_000;
    try {
      if ((await releaseStrandedHeld(this.o.database.kysely)) > 0) this.wake();
    } catch (err) {
      this.o.log.warn({ err }, 'releasing held messages of enabled subscriptions failed');
    }
    try {
      for (let i = 0; i < 20; i++) {
        const deleted = await pruneFinished(this.o.database.kysely, cutoff, 500);
        if (deleted < 500) break;
      }
    } catch (err) {
      this.o.log.warn({ err }, 'pruning old messages failed');
    }
  }
}
