/**
 * How a process builds its sender and its dispatcher from the settings: once, for both places that
 * run one (server.ts on the main thread, dispatcher-worker.ts in the SQLite dispatcher thread), so
 * the two cannot drift apart (the thread once lacked the signing-key lookup the main thread had).
 */
import type { Config } from './config.js';
import type { Database } from './db/connection.js';
import { Dispatcher, type DispatcherOptions } from './delivery/dispatcher.js';
import { createSender, type Sender } from './delivery/http-sender.js';
import type { NetworkGuard } from './delivery/network-guard.js';
import { VERSION } from './version.js';
import { HealthSweep, type HealthSweepOptions } from './webhooks/health.js';
import { signingKeyLookup } from './webhooks/signing-keys.js';

/** The settings both places have (the thread gets `Config` without its allow list, which is not cloneable). */
export type DeliverySettings = Pick<
  Config,
  | 'connectTimeoutMs'
  | 'requestTimeoutMs'
  | 'deliveryConcurrency'
  | 'maxInFlightPerSubscription'
  | 'leaseMs'
  | 'pollIntervalMs'
  | 'retryBaseMs'
  | 'retentionDays'
  | 'webhookDisableAfterMs'
  | 'healthCheckIntervalMs'
>;

export function senderFor(settings: DeliverySettings, guard: NetworkGuard): Sender {
  return createSender({ guard, connectTimeoutMs: settings.connectTimeoutMs, totalTimeoutMs: settings.requestTimeoutMs, userAgent: `storehook/${VERSION}` });
}

/** A dispatcher that signs with the subscriptions' own keys (a lookup of its own, cached 10 s). */
export function dispatcherFor(
  settings: DeliverySettings,
  parts: { database: Database; sender: Sender; workerId: string } & Pick<DispatcherOptions, 'log' | 'onClaim' | 'onAttempt'>,
): Dispatcher {
  return new Dispatcher({
    ...parts,
    concurrency: settings.deliveryConcurrency,
    maxInFlightPerSubscription: settings.maxInFlightPerSubscription,
    leaseMs: settings.leaseMs,
    pollIntervalMs: settings.pollIntervalMs,
    retryBaseMs: settings.retryBaseMs,
    retentionDays: settings.retentionDays,
    version: VERSION,
    signingKeys: signingKeyLookup(parts.database.kysely),
  });
}

/**
 * The subscription health sweep (src/webhooks/health.ts) runs wherever a dispatcher runs, beside
 * it: in the SQLite dispatcher thread (off the API's event loop, like the dispatcher's own
 * housekeeping), in `serve` with a dispatcher on the main thread, and in every `worker` on
 * PostgreSQL (several sweeping at once announce each change once: rows are taken `skip locked`).
 * It wakes the dispatcher it sits beside for the messages it enqueues.
 */
export function healthSweepFor(settings: DeliverySettings, parts: { database: Database; log: HealthSweepOptions['log']; wake(): void }): HealthSweep {
  return new HealthSweep({ database: parts.database, disableAfterMs: settings.webhookDisableAfterMs, intervalMs: settings.healthCheckIntervalMs, log: parts.log, wake: parts.wake });
}
