/**
 * The health sweep's decisions as a pure function of a subscription's row (src/webhooks/health.ts):
 * the thresholds for a disable time, and what `decide` does at each point of the timeline.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SubscriptionRow } from '../../src/db/schema.js';
import { decide, DISABLED_LEVEL, healthPolicy, withoutSecrets } from '../../src/webhooks/health.js';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;

function row(health: Partial<SubscriptionRow>): SubscriptionRow {
  return {
    status: 'active',
    failing_since: null,
    last_failure_at: null,
    last_success_at: null,
    consecutive_failures: 0,
    alert_level: 0,
    disabled_at: null,
    disabled_by: null,
    ...health,
  } as SubscriptionRow;
}

describe('health policy', () => {
  it('announces at 24 h and a day before the default 5 days, and scales down for a short disable time', () => {
    assert.deepEqual(healthPolicy(5 * DAY), { disableAfterMs: 5 * DAY, thresholds: [DAY, 4 * DAY], stillFailingMs: DAY });
    assert.deepEqual(healthPolicy(1500), { disableAfterMs: 1500, thresholds: [300, 1200], stillFailingMs: 300 });
    // step = min(24 h, D / 5): 24 h from 5 days up, a fifth below.
    assert.deepEqual(healthPolicy(10 * DAY).thresholds, [DAY, 9 * DAY]);
    assert.deepEqual(healthPolicy(2 * DAY).thresholds, [0.4 * DAY, 1.6 * DAY]);
  });

  it('decides along the timeline', () => {
    const p = healthPolicy(5 * DAY);
    const failingFor = (ms: number, extra: Partial<SubscriptionRow> = {}) => row({ failing_since: NOW - ms, last_failure_at: NOW - 1000, consecutive_failures: 9, ...extra });
    assert.equal(decide(row({}), NOW, p), null, 'healthy');
    assert.equal(decide(failingFor(DAY - 1), NOW, p), null, 'not yet 24 h');
    assert.deepEqual(decide(failingFor(DAY), NOW, p), { topic: 'subscription.failing', level: 1 });
    assert.equal(decide(failingFor(2 * DAY, { alert_level: 1 }), NOW, p), null, 'announced once');
    assert.deepEqual(decide(failingFor(4 * DAY, { alert_level: 1 }), NOW, p), { topic: 'subscription.failing', level: 2 });
    assert.deepEqual(decide(failingFor(5 * DAY, { alert_level: 2 }), NOW, p), { topic: 'subscription.disabled', disable: true });
    // Quiet: the last failure is older than a day, so not disabled until the next one fails.
    assert.equal(decide(failingFor(5 * DAY, { alert_level: 2, last_failure_at: NOW - DAY - 1 }), NOW, p), null);
    // A success ended the run after an announcement.
    assert.deepEqual(decide(row({ alert_level: 1 }), NOW, p), { topic: 'subscription.recovered' });
    // Enabled again after a disablement (counters reset, level kept), even if failing again since.
    assert.deepEqual(decide(row({ alert_level: DISABLED_LEVEL }), NOW, p), { topic: 'subscription.recovered' });
    assert.deepEqual(decide(failingFor(1000, { alert_level: DISABLED_LEVEL }), NOW, p), { topic: 'subscription.recovered' });
    // Disabled: a 410 is announced once; an operator's or an announced one needs nothing.
    assert.deepEqual(decide(row({ status: 'disabled', disabled_by: 'gone' }), NOW, p), { topic: 'subscription.disabled', disable: false });
    assert.equal(decide(row({ status: 'disabled', disabled_by: 'gone', alert_level: DISABLED_LEVEL }), NOW, p), null);
    assert.equal(decide(row({ status: 'disabled', disabled_by: 'operator', alert_level: 1 }), NOW, p), null);
  });

  it('names a receiver in an alert without its query or credentials', () => {
    assert.equal(withoutSecrets('https://user:pw@erp.example.com:8443/hooks/in?token=abc#x'), 'https://erp.example.com:8443/hooks/in');
    assert.equal(withoutSecrets('http://127.0.0.1:9/'), 'http://127.0.0.1:9/');
    assert.equal(withoutSecrets('not a url'), '');
  });
});
