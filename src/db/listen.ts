/**
 * PostgreSQL LISTEN on one channel (`Database.listen`): every process hears the moment any process
 * commits a `notify` (dialect.ts). A dedicated connection with the pool's settings, reconnected
 * with backoff; the caller's polling covers the gaps.
 */
import pg from 'pg';
import type { Logger } from 'pino';

export interface Listener {
  close(): Promise<void>;
}

/** A listener that never hears anything: SQLite's one process wakes itself after each commit. */
export const SILENT_LISTENER: Listener = { close: async () => undefined };

/**
 * Calls `onNotify` for every notification on `channel`, and each time the connection is
 * (re)established: anything notified while it was away is lost, so the caller should look then.
 */
export function listenOn(settings: pg.ClientConfig, channel: string, onNotify: () => void, log: Pick<Logger, 'warn'>): Listener {
  let client: pg.Client | null = null;
  let closed = false;
  let backoff = 250;
  let retryTimer: NodeJS.Timeout | null = null;

  const connect = async () => {
    if (closed) return;
    const c = new pg.Client(settings);
    client = c;
    c.on('notification', () => onNotify());
    c.on('error', (err) => {
      log.warn({ err: err.message, channel }, 'notification connection lost; polling until it is back');
      reconnect(c);
    });
    c.on('end', () => reconnect(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${c.escapeIdentifier(channel)}`);
      backoff = 250;
      onNotify();
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
