/**
 * Sends one message immediately, outside the dispatcher loop (resend, test): claim it under a
 * lease like a worker would, attempt, record. Same code path, same guarantees.
 */
import type { Database } from '../db/connection.js';
import { inTransaction } from '../db/transaction.js';
import { performAttempt, type AttemptResult, type AttemptSettings } from './attempt.js';
import type { Sender } from './http-sender.js';
import { claimOne, recordOutcomeBatch } from './queue.js';

/** `promoted`: messages of ordered delivery its outcome made due (the next of its order). */
export type DeliverNowResult = { status: 'sent'; result: AttemptResult; promoted: number } | { status: 'busy' };

export async function deliverNow(
  database: Database,
  sender: Sender,
  rowId: number,
  storeId: number,
  settings: AttemptSettings & { workerId: string; leaseMs: number },
): Promise<DeliverNowResult> {
  const message = await claimOne(database, rowId, storeId, settings.workerId, Date.now(), settings.leaseMs);
  if (!message) return { status: 'busy' };
  const result = await performAttempt(sender, message, settings);
  const written = await inTransaction(database, (tx) => recordOutcomeBatch(tx.db, settings.workerId, [{ attempt: result.attempt, outcome: result.outcome }]));
  return { status: 'sent', result, promoted: written.promoted };
}
