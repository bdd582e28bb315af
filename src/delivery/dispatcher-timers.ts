/**
 * The dispatcher's two timers, apart from its loop: the lease heartbeat (every third of a lease,
 * the messages this worker holds keep their lease while their request or outcome write goes on)
 * and the housekeeping every minute (held messages of enabled subscriptions released, chains of
 * ordered delivery left without a head repaired, old finished messages pruned in small batches).
 */
import type { Logger } from 'pino';
import type { Database } from '../db/connection.js';
import { extendLeases, pruneFinished, releaseStrandedHeld, repairChains } from './queue.js';

export interface TimerOptions {
  database: Database;
  workerId: string;
  leaseMs: number;
  retentionDays: number;
  log: Pick<Logger, 'warn'>;
  /** the row ids this worker holds right now. */
  held(): readonly number[];
  /** messages became due (released held ones). */
  onDue(): void;
}

const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 500;
const PRUNE_BATCHES = 20;

export class DispatcherTimers {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly o: TimerOptions) {}

  start(): void {
    const heartbeat = setInterval(() => void this.heartbeat(), Math.max(50, Math.floor(this.o.leaseMs / 3)));
    const prune = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    heartbeat.unref();
    prune.unref();
    this.timers.push(heartbeat, prune);
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  async heartbeat(): Promise<void> {
    const held = this.o.held();
    if (held.length === 0) return;
    try {
      await extendLeases(this.o.database, this.o.workerId, held, Date.now(), this.o.leaseMs);
    } catch (err) {
      this.o.log.warn({ err }, 'lease heartbeat failed');
    }
  }

  async prune(): Promise<void> {
    const cutoff = Date.now() - this.o.retentionDays * 86_400_000;
    try {
      if ((await releaseStrandedHeld(this.o.database.kysely)) > 0) this.o.onDue();
    } catch (err) {
      this.o.log.warn({ err }, 'releasing held messages of enabled subscriptions failed');
    }
    try {
      // Ordered delivery's safety net: a chain left with blocked messages and no head (ordering.ts).
      if ((await repairChains(this.o.database.kysely, Date.now())) > 0) this.o.onDue();
    } catch (err) {
      this.o.log.warn({ err }, 'repairing ordered-delivery chains failed');
    }
    try {
      for (let i = 0; i < PRUNE_BATCHES; i++) {
        const deleted = await pruneFinished(this.o.database.kysely, cutoff, PRUNE_BATCH);
        if (deleted < PRUNE_BATCH) break;
      }
    } catch (err) {
      this.o.log.warn({ err }, 'pruning old messages failed');
    }
  }
}
