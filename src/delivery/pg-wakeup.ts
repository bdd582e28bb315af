/**
 * PostgreSQL LISTEN on the outbox channel: every dispatcher wakes the moment any process commits
 * messages. A dedicated connection, reconnected with backoff; polling covers the gaps.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { WAKE_CHANNEL } from '../db/channels.js';

export interface WakeListener {
  close(): Promise<void>;
}

export function listenForWakeups(databaseUrl: string, onWake: () => void, log: Pick<Logger, 'warn' | 'info'>): WakeListener {
  let client: pg.Client | null = null;
  let closed = false;
  let backoff = 250;
  let retryTimer: NodeJS.Timeout | null = null;

  const connect = async () => {
    if (closed) return;
    const c = new pg.Client({ connectionString: databaseUrl, keepAlive: true, connectionTimeoutMillis: 5000 });
    client = c;
    c.on('notification', () => onWake());
    c.on('error', (err) => {
      log.warn({ err: err.message }, 'wake-up connection lost; polling until it is back');
      reconnect(c);
    });
    c.on('end', () => reconnect(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${WAKE_CHANNEL}`);
      backoff = 250;
      // Anything committed while we were away: look now.
      onWake();
    } catch {
      reconnect(c);
    }
  };

  const reconnect = (c: pg.Client) => {
    if (closed || client !== c) return;
    client = null;
    c.removeAllListeners('end');
    c.end().catch(() => undefined);
    retryTimer = setTimeout(() => void connect(), backoff);
    retryTimer.unref();
    backoff = Math.min(backoff * 2, 5000);
  };

  void connect();
  return {
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const c = client;
      client = null;
      if (c) {
        c.removeAllListeners('end');
        await c.end().catch(() => undefined);
      }
    },
  };
}
