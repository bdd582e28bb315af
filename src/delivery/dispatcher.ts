/**
 * The dispatcher's loop: claims due messages under a lease (claim.ts), sends each
 * (performAttempt), and records the outcome (outcome-writer.ts). It knows nothing of orders or
 * HTTP routes: it sends stored bytes. What a claim may take is decided by the slot accounting
 * (slots.ts); the lease heartbeat and pruning run on their own timers (dispatcher-timers.ts).
 *
 * Fairness (SPEC §4): a claim gives each subscription at most its free room under
 * `maxInFlightPerSubscription`, so everything claimed is sent at once and a hanging subscription's
 * backlog never takes a slot nor costs a claim anything (its lane is left alone while it is full).
 * First attempts are claimed before retries, and retries use at most half the slots.
 *
 * Crash safety: a message holds its slot until its outcome is written, so a killed worker leaves at
 * most `concurrency` deliveries unrecorded, and those (sent or not) are the only ones sent again.
 */
import type { Logger } from 'pino';
import type { Database } from '../db/connection.js';
import { TIMER_MAX_MS } from '../config.js';
import { performAttempt, type AttemptResult } from './attempt.js';
import type { SigningKeyLookup } from './signer.js';
import { claimDue } from './claim.js';
import { DispatcherTimers } from './dispatcher-timers.js';
import type { Sender } from './http-sender.js';
import { DeliveryLog } from './delivery-log.js';
import { OutcomeWriter } from './outcome-writer.js';
import { nextDueAt, type ClaimedMessage, type ClaimKind } from './queue.js';
import { Slots } from './slots.js';

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

/** What the server needs of a dispatcher, in this thread or in a worker thread (dispatcher-thread.ts). */
export interface DispatcherHandle {
  /** deliveries started and not yet recorded. */
  readonly inFlight: number;
  start(): void;
  /** Something may be due now (a commit, a notification). */
  wake(): void;
  stop(graceMs?: number): Promise<void>;
}

const MAX_CLAIM_BATCH = 100;

export class Dispatcher implements DispatcherHandle {
  private readonly held = new Map<number, ClaimedMessage>();
  private readonly sends = new Set<Promise<void>>();
  private readonly slots: Slots;
  private readonly writer: OutcomeWriter;
  private readonly deliveryLog: DeliveryLog;
  private readonly timers: DispatcherTimers;
  private running = false;
  private mayHaveMore = false;
  private wakeUp: (() => void) | null = null;
  private wakePending = false;
  private loopDone: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryTimerAt = Infinity;
  /** something was due but could not be claimed (its subscription full, or our slots): wake on the next freed slot. */
  private dueButBlocked = false;
  /** subscriptions a claim gave all their room: they may have more due, claim again once they have room. */
  private readonly filledLanes = new Set<string>();

  constructor(private readonly o: DispatcherOptions) {
    this.slots = new Slots({ concurrency: o.concurrency, perSubscription: o.maxInFlightPerSubscription });
    this.writer = new OutcomeWriter(o.database, o.workerId, () => this.wake());
    this.deliveryLog = new DeliveryLog(o.log);
    this.timers = new DispatcherTimers({
      database: o.database,
      workerId: o.workerId,
      leaseMs: o.leaseMs,
      retentionDays: o.retentionDays,
      log: o.log,
      held: () => [...this.held.keys()],
      onDue: () => this.wake(),
    });
  }

  get inFlight(): number {
    return this.slots.inFlight;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
    this.timers.start();
  }

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
    this.timers.stop();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.loopDone;
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
        // Due, yet nothing was claimed: its subscription is at its cap, or our slots are full.
        // Looping at once would spin; a freed slot wakes us, polling is the fallback.
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

  /** Claims until the slots are full or nothing more can be taken; returns how many were claimed. */
  private async fill(): Promise<number> {
    let total = 0;
    this.mayHaveMore = false;
    while (this.running) {
      if (this.slots.free() <= 0) {
        this.mayHaveMore = true;
        break;
      }
      const first = await this.claim('first');
      const retries = await this.claim('retry');
      total += first.claimed + retries.claimed;
      // A claim that filled its limit, or walked as many lanes as it could, may have left more.
      if (!first.more && !retries.more) break;
      this.mayHaveMore = true;
    }
    return total;
  }

  private async claim(kind: ClaimKind): Promise<{ claimed: number; more: boolean }> {
    const room = kind === 'first' ? this.slots.firstAttempts(MAX_CLAIM_BATCH) : this.slots.retries(MAX_CLAIM_BATCH);
    if (room.limit <= 0) return { claimed: 0, more: false };
    const started = performance.now();
    const result = await claimDue(this.o.database, {
      workerId: this.o.workerId,
      now: Date.now(),
      leaseMs: this.o.leaseMs,
      limit: room.limit,
      kind,
      perLane: this.o.maxInFlightPerSubscription,
      room: room.room,
    });
    this.o.onClaim?.(kind, result.messages.length, performance.now() - started);
    const perSub = new Map<string, number>();
    for (const m of result.messages) perSub.set(m.subscription_uuid, (perSub.get(m.subscription_uuid) ?? 0) + 1);
    for (const [sub, n] of perSub) if (n >= (room.room.get(sub) ?? this.o.maxInFlightPerSubscription)) this.filledLanes.add(sub);
    for (const m of result.messages) this.send(m);
    return { claimed: result.messages.length, more: result.messages.length >= room.limit || result.lanes >= room.limit };
  }

  private send(message: ClaimedMessage): void {
    const isRetry = message.attempt_count > 0;
    this.held.set(message.id, message);
    this.slots.started(message.subscription_uuid, isRetry);
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
      const gone = result?.outcome.kind === 'gone';
      if (gone) this.slots.pause(message.subscription_uuid);
      this.slots.ended(message.subscription_uuid, isRetry, result !== null);
      this.afterSlotFreed(message.subscription_uuid);
    }
    if (!result) {
      this.held.delete(message.id);
      return;
    }
    this.o.onAttempt?.(message, result);
    try {
      const held = await this.recordWithRetry(message, result);
      if (held) this.deliveryLog.recorded(message, result);
      if (held === false) this.o.log.warn({ messageId: message.message_id }, 'lease lost before the outcome was recorded; the new holder decides');
      else if (held && result.outcome.kind === 'failed' && result.outcome.nextAttemptAt !== null) this.wakeAt(result.outcome.nextAttemptAt);
    } finally {
      if (result.outcome.kind === 'gone') this.slots.resume(message.subscription_uuid);
      this.slots.recorded();
      this.held.delete(message.id);
      this.afterSlotFreed();
    }
  }

  /** A subscription's request ended or a worker slot came free: claim again if that helps. */
  private afterSlotFreed(sub?: string): void {
    // A subscription that may have more due gets its next batch once half its cap is free.
    if (sub !== undefined && this.filledLanes.has(sub) && this.slots.openTo(sub) <= Math.floor(this.o.maxInFlightPerSubscription / 2)) {
      this.filledLanes.delete(sub);
      this.wake();
      return;
    }
    if (this.dueButBlocked) {
      // Something due was held back by a full subscription or full slots: look again.
      this.dueButBlocked = false;
      this.wake();
      return;
    }
    // Claim again once a quarter of the slots are free, not after every single completion.
    if (this.mayHaveMore && this.slots.free() >= Math.max(1, Math.floor(this.o.concurrency / 4))) this.wake();
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

  /** Wakes the loop when a retry scheduled by this worker falls due (sooner than the poll). */
  private wakeAt(at: number): void {
    if (at >= this.retryTimerAt) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimerAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryTimerAt = Infinity;
      this.wake();
      // A retry further away than a timer can wait is found by the poll long before.
    }, Math.min(TIMER_MAX_MS, Math.max(0, at - Date.now())));
    this.retryTimer.unref();
  }
}
