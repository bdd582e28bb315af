/**
 * What a webhook message can be doing, in one place.
 *
 * Stored (`webhook_messages.status`, the tuple in db/schema.ts):
 * - pending: waiting for an attempt (its first, or a retry), or being sent under a lease;
 * - held: its subscription is disabled; sent once it is enabled again, or discarded;
 * - blocked: its subscription delivers in order, and an earlier message of the same order (its
 *   ordering key) is unfinished; it becomes pending when that one is delivered or fails for good
 *   (ordering.ts);
 * - delivered: a 2xx answer;
 * - failed: every attempt it was allowed (max_attempts) failed.
 *
 * Shown (the dashboard's words), derived from the stored state and the lease:
 * waiting (first attempt due), sending (a worker holds its lease now), retrying (an attempt failed,
 * another is scheduled), held, blocked, delivered, failed.
 */
import { MESSAGE_STATUSES, type MessageStatus } from '../db/schema.js';

export { MESSAGE_STATUSES, type MessageStatus };

export const SHOWN_STATES = ['waiting', 'sending', 'retrying', 'held', 'blocked', 'delivered', 'failed'] as const;
export type ShownState = (typeof SHOWN_STATES)[number];

/** The columns a shown state is derived from. */
export interface StateColumns {
  status: MessageStatus;
  attempt_count: number;
  locked_until: number | null;
}

export function shownState(m: StateColumns, now: number): ShownState {
  if (m.status !== 'pending') return m.status;
  // A claim moves next_attempt_at to the lease's end, so a message being sent is never also
  // "waiting for its next attempt": the lease decides (see nextAttemptShown).
  if (m.locked_until !== null && m.locked_until > now) return 'sending';
  return m.attempt_count > 0 ? 'retrying' : 'waiting';
}

/**
 * When the next attempt is due, as a person should read it: null unless the message is waiting or
 * retrying. While a worker sends it, next_attempt_at holds the lease's end (when another worker may
 * take it over should this one die), which is not a scheduled attempt.
 */
export function nextAttemptShown(m: StateColumns & { next_attempt_at: number | null }, now: number): number | null {
  const state = shownState(m, now);
  return state === 'waiting' || state === 'retrying' ? m.next_attempt_at : null;
}
