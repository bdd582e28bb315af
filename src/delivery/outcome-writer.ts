/**
 * Writes attempt outcomes in batches: every outcome that finishes while a commit is running goes
 * into the next transaction together. One commit per batch instead of per message is most of the
 * dispatcher's throughput on SQLite, and each caller still learns whether its own write held. On
 * PostgreSQL a batch is one statement (outcome-batch-pg.ts).
 */
import type { Database } from '../db/connection.js';
import { inTransaction } from '../db/transaction.js';
import { recordChainedOutcomesInTransaction, recordOutcomesInOneStatement, splitForOneStatement } from './outcome-batch-pg.js';
import { recordOutcomeBatch, type AttemptRecord, type Outcome, type OutcomeRecord } from './queue.js';

interface Pending {
  attempt: AttemptRecord;
  outcome: Outcome;
  resolve(held: boolean): void;
  reject(err: unknown): void;
}

export class OutcomeWriter {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly database: Database,
    private readonly workerId: string,
    /** a batch made blocked messages due (ordered delivery): claim again. */
    private readonly onPromoted: () => void = () => {},
  ) {}

  /** Resolves true once committed, false if the lease had been lost (nothing written). */
  record(attempt: AttemptRecord, outcome: Outcome): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ attempt, outcome, resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Yield once so outcomes finishing in the same tick join the batch.
    await new Promise((r) => setImmediate(r));
    while (this.queue.length) {
      // Written in row-id order, the order every multi-row writer of the queue locks in, so a
      // batch and a lease heartbeat on the same rows never deadlock (PostgreSQL).
      const batch = this.queue.splice(0, 500).sort((a, b) => a.attempt.rowId - b.attempt.rowId);
      try {
        const held = await this.write(batch);
        batch.forEach((p, i) => p.resolve(held[i]!));
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.flushing = null;
  }

  /**
   * PostgreSQL: one statement per batch, one round trip; the outcomes that finish a message of
   * ordered delivery (and every batch with a 410) in a transaction. SQLite: one transaction.
   */
  private async write(batch: readonly OutcomeRecord[]): Promise<boolean[]> {
    const split = this.database.dialect === 'postgres' ? splitForOneStatement(batch) : null;
    if (!split) return this.inTransaction(batch);
    const held = new Map<OutcomeRecord, boolean>();
    if (split.oneStatement.length) {
      const written = await recordOutcomesInOneStatement(this.database.kysely, this.workerId, split.oneStatement);
      split.oneStatement.forEach((r, i) => held.set(r, written[i]!));
    }
    if (split.chained.length) {
      const result = await inTransaction(this.database, (tx) => recordChainedOutcomesInTransaction(tx.db, this.workerId, split.chained));
      if (result.promoted > 0) this.onPromoted();
      split.chained.forEach((r, i) => held.set(r, result.held[i]!));
    }
    return batch.map((r) => held.get(r)!);
  }

  private async inTransaction(batch: readonly OutcomeRecord[]): Promise<boolean[]> {
    const result = await inTransaction(this.database, (tx) => recordOutcomeBatch(tx.db, this.workerId, batch));
    if (result.promoted > 0) this.onPromoted();
    return result.held;
  }

  /** Waits for everything queued so far to be written. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }
}
