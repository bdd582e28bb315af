/**
 * The limits every surface shares (JSON API v1 and v0, legacy `/webhooks/*`, dashboard sign-in):
 * one failed-login limit per client address and one request rate per API user. A process builds
 * one `Limiters` and hands it to each surface, so a client cannot get a fresh allowance by
 * switching surface.
 *
 * Several API processes (PostgreSQL): failed logins are counted in the database
 * (`login_failures`), so the limit holds across processes; each process remembers the addresses
 * it found blocked, so allowed requests cost no extra query, and a process that has not yet seen
 * an address fail lets one more failure through before it blocks too. The request rate is per
 * process (docs/api.md): counting every request in the database would cost a round trip each.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { Database } from '../db/connection.js';
import { sharedByProcesses } from '../db/dialect.js';
import type { Schema } from '../db/schema.js';
import { FailureWindow, TokenBuckets } from './rate-limit.js';

export interface LoginFailureLimiter {
  /** seconds this address must wait before trying again; 0 when it may try now. */
  blockedFor(address: string): Promise<number>;
  /** counts one failed login from this address. */
  record(address: string): Promise<void>;
}

export interface Limiters {
  loginFailures: LoginFailureLimiter;
  /** requests per API user (key: the user id; legacy callers use `legacy:<store id>`). */
  perUser: TokenBuckets;
}

const WINDOW_MS = 60_000;

/** One process's memory: exact when one process serves (SQLite, or a single API process). */
export class MemoryLoginFailures implements LoginFailureLimiter {
  private readonly window: FailureWindow;
  constructor(limitPerMinute: number, now: () => number = Date.now) {
    this.window = new FailureWindow(limitPerMinute, now);
  }

  async blockedFor(address: string): Promise<number> {
    return this.window.blockedFor(address);
  }

  async record(address: string): Promise<void> {
    this.window.record(address);
  }
}

/** Failures counted in the database, shared by every process on it (see the file comment). */
export class SharedLoginFailures implements LoginFailureLimiter {
  /** what this process saw on its own: the limit still holds if the database write fails. */
  private readonly local: MemoryLoginFailures;
  /** address → when its block (as the database counted it) ends. */
  private readonly blockedUntil = new Map<string, number>();
  private lastPrune = 0;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly limitPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.local = new MemoryLoginFailures(limitPerMinute, now);
  }

  async blockedFor(address: string): Promise<number> {
    const local = await this.local.blockedFor(address);
    const until = this.blockedUntil.get(address);
    if (until === undefined) return local;
    const left = until - this.now();
    if (left <= 0) {
      this.blockedUntil.delete(address);
      return local;
    }
    return Math.max(local, Math.ceil(left / 1000));
  }

  async record(address: string): Promise<void> {
    await this.local.record(address);
    const at = this.now();
    const cutoff = at - WINDOW_MS;
    await this.db.insertInto('login_failures').values({ address, at }).execute();
    const row = await this.db
      .selectFrom('login_failures')
      .select((eb) => [eb.fn.countAll<number>().as('failures'), eb.fn.min<number>('at').as('oldest')])
      .where('address', '=', address)
      .where('at', '>', cutoff)
      .executeTakeFirst();
    if (row && Number(row.failures) >= this.limitPerMinute) this.blockedUntil.set(address, Number(row.oldest) + WINDOW_MS);
    if (at - this.lastPrune > WINDOW_MS) {
      this.lastPrune = at;
      await this.db.deleteFrom('login_failures').where('at', '<=', cutoff).execute();
      for (const [key, until] of this.blockedUntil) if (until <= at) this.blockedUntil.delete(key);
    }
  }
}

export function createLimiters(database: Database, config: Pick<Config, 'authFailuresPerMinute' | 'rateLimitPerSecond' | 'rateLimitBurst'>, now: () => number = Date.now): Limiters {
  return {
    loginFailures:
      sharedByProcesses(database.dialect)
        ? new SharedLoginFailures(database.kysely, config.authFailuresPerMinute, now)
        : new MemoryLoginFailures(config.authFailuresPerMinute, now),
    perUser: new TokenBuckets(config.rateLimitPerSecond, config.rateLimitBurst, now),
  };
}
