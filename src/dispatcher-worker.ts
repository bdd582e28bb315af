/**
 * The body of the dispatcher's worker thread (dispatcher-thread.ts starts it): its own database
 * connection, its own HTTP sender, the ordinary Dispatcher. It talks to the main thread only by
 * messages: wake and stop come in; metrics events, the in-flight count, readiness and log lines
 * go out. Nothing here runs on the API's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { openDatabase } from './db/connection.js';
import { NetworkGuard, parseAllowList } from './delivery/network-guard.js';
import { dispatcherFor, healthSweepFor, senderFor } from './dispatcher-setup.js';
import { loggerOptions } from './log.js';
import type { ThreadSettings, ToMain, ToWorker } from './dispatcher-thread.js';

if (!parentPort) throw new Error('dispatcher-worker.ts runs only as a worker thread (dispatcher-thread.ts)');
const port = parentPort;
const settings = workerData as ThreadSettings;
const post = (message: ToMain) => port.postMessage(message);

// Lines go to the main thread, which writes them with the server's own logger (its destination,
// its format): one log stream, whatever the process was given.
const log = pino(loggerOptions(settings.logLevel), { write: (line: string) => post({ type: 'log', line }) }).child({ thread: 'dispatcher' });

async function main(): Promise<void> {
  const c = settings.config;
  const database = await openDatabase({ databaseUrl: c.databaseUrl, dataDir: c.dataDir, sqliteSync: c.sqliteSync, poolSize: 2 });
  const sender = senderFor(c, new NetworkGuard(parseAllowList(settings.allowTargets.join(','))));
  const dispatcher = dispatcherFor(c, {
    database,
    sender,
    workerId: settings.workerId,
    log,
    onClaim: (kind, count, durationMs) => post({ type: 'claim', kind, count, durationMs }),
    // The body stays here: the metrics need who and how, not the bytes.
    onAttempt: (message, result) => post({ type: 'attempt', message: { ...message, body: '' }, result }),
  });
  const health = healthSweepFor(c, { database, log, wake: () => dispatcher.wake() });
  const reportInFlight = setInterval(() => post({ type: 'inFlight', count: dispatcher.inFlight }), 500);
  port.on('message', (message: ToWorker) => {
    if (message.type === 'wake') dispatcher.wake();
    else if (message.type === 'stop') {
      clearInterval(reportInFlight);
      void (async () => {
        await health.stop();
        await dispatcher.stop(message.graceMs);
        await sender.close();
        await database.close();
        post({ type: 'stopped' });
        port.close();
      })();
    }
  });
  dispatcher.start();
  health.start();
  post({ type: 'ready' });
}

main().catch((err: unknown) => {
  log.error({ err }, 'the dispatcher thread could not start');
  throw err;
});
