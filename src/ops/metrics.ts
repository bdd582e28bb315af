/**
 * Prometheus metrics (`GET /metrics`). Counters and histograms are fed by the dispatcher's
 * observers and the HTTP server's response hook; the queue and failing-subscription gauges are
 * read from the database at scrape time, so every process reports the same shared state and
 * nothing drifts. Node and process metrics keep their standard names (no prefix) so common
 * dashboards find them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/connection.js';
import type { AttemptResult } from '../delivery/attempt.js';
import type { ClaimedMessage, ClaimKind } from '../delivery/queue.js';
import { uuidFingerprint } from '../log.js';
import { failingSubscriptions, queueGauges, type FailingSubscriptions, type QueueGauges } from '../delivery/queue-views.js';
import { subscriptionStateCounts, type SubscriptionStateCounts } from '../webhooks/health-view.js';

/** Failing subscriptions listed one by one; the rest are only counted (bounded cardinality). */
export const FAILING_SUBSCRIPTIONS_LISTED = 50;
/** Scrape-time database reads are reused this long: every scraper of every process would recount. */
const SCRAPE_CACHE_MS = 5_000;

export interface Metrics {
  registry: Registry;
  onClaim(kind: ClaimKind, count: number, durationMs: number): void;
  onAttempt(message: ClaimedMessage, result: AttemptResult): void;
  /** one answered HTTP request; `route` is the route pattern, never the raw URL. */
  onRequest(method: string, route: string, status: number, seconds: number): void;
}

export function createMetrics(database: Database, role: string, inFlight: () => number): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry });

  const attempts = new Counter({
    name: 'storehook_delivery_attempts_total',
    help: 'Delivery attempts by outcome (delivered, or the error class)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'storehook_delivery_latency_seconds',
    help: 'From the commit that created a message to its 2xx answer',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600, 86400],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'storehook_attempt_duration_seconds',
    help: 'Duration of one delivery attempt (connect to end of the capped body read)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'storehook_delivery_failures_total',
    help: 'Failed delivery attempts (anything but a 2xx answer) by store, counted by this process',
    labelNames: ['store'],
    registers: [registry],
  });
  const requests = new Histogram({
    name: 'storehook_http_request_duration_seconds',
    help: 'HTTP requests answered by this process, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const claimSize = new Histogram({
    name: 'storehook_claim_batch_size',
    help: 'Messages claimed per claim query',
    labelNames: ['kind'],
    buckets: [0, 1, 2, 5, 10, 20, 50, 100],
    registers: [registry],
  });
  const claimTime = new Histogram({
    name: 'storehook_claim_duration_seconds',
    help: 'Time of one claim query',
    labelNames: ['kind'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'storehook_messages_in_flight',
    help: 'Requests this process has in flight now',
    registers: [registry],
    collect() {
      this.set(inFlight());
    },
  });
  // Counting a large backlog costs real time (and blocks the event loop on SQLite): reuse a
  // count for a few seconds rather than recount on every scrape.
  let cached: { at: number; counts: QueueGauges } | null = null;
  const queueCounts = async () => {
    const now = Date.now();
    if (cached && now - cached.at < SCRAPE_CACHE_MS) return cached.counts;
    cached = { at: now, counts: await queueGauges(database, now) };
    return cached.counts;
  };
  const queue = new Gauge({
    name: 'storehook_messages',
    help: 'Messages in the shared queue: due (pending, due now), scheduled (pending, due later), held (subscription disabled: kept, not sent), blocked (ordered delivery: behind an unfinished message of the same order), failed',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await queueCounts();
      for (const state of ['due', 'scheduled', 'held', 'blocked', 'failed'] as const) queue.set({ state }, counts[state]);
    },
  });

  let failingCache: { at: number; value: FailingSubscriptions } | null = null;
  const failing = async () => {
    const now = Date.now();
    if (failingCache && now - failingCache.at < SCRAPE_CACHE_MS) return failingCache.value;
    failingCache = { at: now, value: await failingSubscriptions(database, FAILING_SUBSCRIPTIONS_LISTED) };
    return failingCache.value;
  };
  // Labelled by fingerprint: the uuid is the subscription's signing key.
  const failingGauge = new Gauge({
    name: 'storehook_subscription_failing',
    help: `Subscriptions failing now (last attempt failed, not delivered since), by fingerprint: messages whose last attempt failed since its last delivery. Only the ${FAILING_SUBSCRIPTIONS_LISTED} with the most are listed; storehook_failing_subscriptions counts all`,
    labelNames: ['store', 'subscription'],
    registers: [registry],
    async collect() {
      const { top } = await failing();
      // a subscription that delivers again must vanish, not keep its last value
      failingGauge.reset();
      for (const s of top) failingGauge.set({ store: String(s.storeId), subscription: uuidFingerprint(s.subscriptionUuid) }, s.failingMessages);
    },
  });
  const failingTotal = new Gauge({
    name: 'storehook_failing_subscriptions',
    help: 'How many subscriptions are failing now, all of them (storehook_subscription_failing lists the first ones)',
    registers: [registry],
    async collect() {
      failingTotal.set((await failing()).total);
    },
  });

  // Subscription health (docs/webhooks.md, "Endpoint health"), from the shared database like the
  // queue: the sweep that disables runs in whichever worker takes the row, so a per-process
  // counter would be split between processes and lost on restart.
  let statesCache: { at: number; value: SubscriptionStateCounts } | null = null;
  const states = async () => {
    const now = Date.now();
    if (statesCache && now - statesCache.at < SCRAPE_CACHE_MS) return statesCache.value;
    statesCache = { at: now, value: await subscriptionStateCounts(database.kysely) };
    return statesCache.value;
  };
  const subscriptions = new Gauge({
    name: 'storehook_subscriptions',
    help: 'Subscriptions by health: healthy, failing (failed attempts and no success since), disabled (by anyone; see storehook_subscriptions_auto_disabled)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const s = await states();
      for (const state of ['healthy', 'failing', 'disabled'] as const) subscriptions.set({ state }, s[state]);
    },
  });
  const autoDisabled = new Gauge({
    name: 'storehook_subscriptions_auto_disabled',
    help: 'Subscriptions disabled automatically now, by cause: failing (failed for the disable time) or gone (the receiver answered 410); their messages are held',
    labelNames: ['by'],
    registers: [registry],
    async collect() {
      const s = await states();
      for (const by of ['failing', 'gone'] as const) autoDisabled.set({ by }, s.autoDisabled[by]);
    },
  });

  return {
    registry,
    onClaim(kind, count, durationMs) {
      claimSize.observe({ kind }, count);
      claimTime.observe({ kind }, durationMs / 1000);
    },
    onAttempt(message, result) {
      attempts.inc({ outcome: result.send.ok ? 'delivered' : (result.attempt.errorClass ?? 'network_error') });
      if (!result.send.ok) failures.inc({ store: String(message.store_id) });
      duration.observe(result.send.durationMs / 1000);
      if (result.outcome.kind === 'delivered') latency.observe(Math.max(0, result.outcome.at - message.created_at) / 1000);
    },
    onRequest(method, route, status, seconds) {
      requests.observe({ method, route, status: String(status) }, seconds);
    },
  };
}
