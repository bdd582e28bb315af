/**
 * A bounded waiting room in front of the PostgreSQL pool. pg's own pool queues without limit and
 * reports a long wait with the same "timeout exceeded when trying to connect" it uses when the
 * server does not answer, so a burst of requests looked like an outage. Here a request waits for
 * one of the pool's connections at most `waitMs`, behind at most `queueLimit` others; past either
 * bound it fails at once with PoolBusyError, which the API answers as 503 "busy" + Retry-After.
 * pg's `connectionTimeoutMillis` then only measures real connecting.
 */
import type pg from 'pg';

export class PoolBusyError extends Error {
  readonly code = 'STOREHOOK_POOL_BUSY';
  constructor(message: string) {
    super(message);
    this.name = 'PoolBusyError';
  }
}

export interface PoolGateOptions {
  /** connections the pool may open (pg's `max`). */
  size: number;
  /** requests that may wait for a connection at once; more are refused at once. */
  queueLimit: number;
  /** how long one request may wait for a connection. */
  waitMs: number;
}

interface Waiter {
  grant(): void;
  timer: NodeJS.Timeout;
}

export class PoolGate {
  private inUse = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly options: PoolGateOptions) {}

  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Resolves when a connection slot is free; rejects with PoolBusyError when the wait is too long or the queue full. */
  acquire(): Promise<void> {
    if (this.inUse < this.options.size && this.waiting.length === 0) {
      this.inUse++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.queueLimit) {
      return Promise.reject(new PoolBusyError(`all ${this.options.size} database connections are in use and ${this.waiting.length} requests are already waiting`));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const at = this.waiting.indexOf(waiter);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(new PoolBusyError(`no database connection became free within ${this.options.waitMs} ms (all ${this.options.size} in use)`));
        }, this.options.waitMs),
      };
      this.waiting.push(waiter);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next.grant(); // the slot passes straight to the next waiter
    else this.inUse--;
  }

  /** The pool, as Kysely sees it: every checkout passes the gate, every release frees its slot. */
  wrap(pool: pg.Pool): { connect(): Promise<pg.PoolClient>; end(): Promise<void> } {
    return {
      connect: async () => {
        await this.acquire();
        let client: pg.PoolClient;
        try {
          client = await pool.connect();
        } catch (err) {
          this.release();
          throw err;
        }
        const release = client.release.bind(client);
        let released = false;
        client.release = (destroy?: boolean | Error) => {
          if (!released) {
            released = true;
            this.release();
          }
          return release(destroy);
        };
        return client;
      },
      end: () => pool.end(),
    };
  }
}
