/**
 * The dispatcher's slot and fairness accounting (SPEC §4), with no database and no timers: what a
 * claim may take, and what is in flight. Pure bookkeeping, unit-tested on its own
 * (test/delivery/slots.test.ts).
 *
 * - A message takes one of `concurrency` slots from its claim until its outcome is written (not
 *   only until its HTTP exchange ends): at most `concurrency` deliveries of a worker are ever
 *   unrecorded, which bounds the duplicates its crash can cause.
 * - At most `perSubscription` requests to one subscription are open at once; a claim gives a
 *   subscription no more than its room, so nothing claimed ever waits here.
 * - Retries may hold at most half the slots, so a backlog of retries never delays a new message.
 */
export interface SlotLimits {
  concurrency: number;
  perSubscription: number;
}

export interface ClaimRoom {
  /** messages to claim at most. */
  limit: number;
  /** subscriptions with less than `perSubscription` room, and their room (0: full). */
  room: Map<string, number>;
}

export class Slots {
  /** HTTP exchanges open. */
  private open = 0;
  private retriesOpen = 0;
  private readonly openPerSub = new Map<string, number>();
  /** exchanges over, outcome not yet written. */
  private unwritten = 0;
  /** subscriptions that answered 410 Gone and are not yet disabled in the database: no room. */
  private readonly paused = new Map<string, number>();

  constructor(readonly limits: SlotLimits) {}

  /** Deliveries this worker has started and not yet recorded. */
  get inFlight(): number {
    return this.open + this.unwritten;
  }

  /** Requests open right now. */
  get sending(): number {
    return this.open;
  }

  free(): number {
    return Math.max(0, this.limits.concurrency - this.open - this.unwritten);
  }

  /** What a claim of first attempts may take, at most `batch`. */
  firstAttempts(batch: number): ClaimRoom {
    return { limit: Math.min(batch, this.free()), room: this.roomPerSubscription() };
  }

  /** What a claim of retries may take, at most `batch`: also within half the slots. */
  retries(batch: number): ClaimRoom {
    const retryRoom = Math.floor(this.limits.concurrency / 2) - this.retriesOpen;
    return { limit: Math.max(0, Math.min(batch, this.free(), retryRoom)), room: this.roomPerSubscription() };
  }

  private roomPerSubscription(): Map<string, number> {
    const room = new Map<string, number>();
    for (const [sub, n] of this.openPerSub) room.set(sub, Math.max(0, this.limits.perSubscription - n));
    for (const sub of this.paused.keys()) room.set(sub, 0);
    return room;
  }

  /** A claimed message's request starts. */
  started(sub: string, isRetry: boolean): void {
    this.open++;
    if (isRetry) this.retriesOpen++;
    this.openPerSub.set(sub, (this.openPerSub.get(sub) ?? 0) + 1);
  }

  /**
   * Its request ended: the subscription's slot is free; the worker's slot stays taken until
   * `recorded` when there is an outcome to write.
   */
  ended(sub: string, isRetry: boolean, toWrite: boolean): void {
    this.open--;
    if (isRetry) this.retriesOpen--;
    const left = (this.openPerSub.get(sub) ?? 1) - 1;
    if (left > 0) this.openPerSub.set(sub, left);
    else this.openPerSub.delete(sub);
    if (toWrite) this.unwritten++;
  }

  /** Its outcome is written (or given up on). */
  recorded(): void {
    this.unwritten--;
  }

  /**
   * The subscription answered 410: nothing more is claimed for it until `resume` (its outcome,
   * which disables it, is written), or the claim would send it the next message meanwhile.
   */
  pause(sub: string): void {
    this.paused.set(sub, (this.paused.get(sub) ?? 0) + 1);
  }

  resume(sub: string): void {
    const left = (this.paused.get(sub) ?? 1) - 1;
    if (left > 0) this.paused.set(sub, left);
    else this.paused.delete(sub);
  }

  /** Requests open to one subscription. */
  openTo(sub: string): number {
    return this.openPerSub.get(sub) ?? 0;
  }
}
