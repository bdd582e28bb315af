/**
 * What the operator hears about deliveries: a warn line when a subscription starts failing (once,
 * not per attempt), when a message fails for good, and when a 410 disables a subscription; each
 * names the store and the subscription's fingerprint, never its uuid (the signing key). Every
 * attempt has a debug line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuidFingerprint } from '../../src/log.js';
import { forEachDialect } from '../helpers/database.js';
import { captureLogs } from '../helpers/log-capture.js';
import { perTestFixtures, waitUntil } from '../helpers/engine.js';

const { engine, receiver } = perTestFixtures();

interface Line {
  level: number;
  msg: string;
  store?: number;
  subscription?: string;
  messageId?: string;
  attempt?: number;
  status?: number;
}


const WARN = 40;
const DEBUG = 20;

forEachDialect('delivery log lines', (dialect) => {
  test('warns once when a subscription starts failing, and again when a message fails for good', async () => {
    const log = captureLogs<Line>('debug');
    const down = await receiver(() => ({ status: 500, body: 'down' }));
    const e = await engine(dialect, { config: { retryBaseMs: 600_000 }, logger: log.logger });
    const sub = await e.subscribe(down.url);
    const fingerprint = uuidFingerprint(sub.uuid);
    await e.createOrder('first');
    await e.createOrder('second');
    const startsFailing = (l: Line) => l.level === WARN && /started failing/.test(l.msg);
    // both first attempts recorded: two debug lines
    await waitUntil('two attempts logged', () => log.lines().filter((l) => l.level === DEBUG && l.msg === 'delivery attempt').length === 2 || null);
    const warned = log.lines().filter(startsFailing);
    assert.equal(warned.length, 1, `one warning for the subscription, not one per message:\n${log.text()}`);
    assert.equal(warned[0]!.store, e.storeId);
    assert.equal(warned[0]!.subscription, fingerprint);
    assert.equal(warned[0]!.status, 500);

    // The last attempt of one message: it fails for good.
    const [first] = await e.messages(sub.uuid);
    await e.dueNow(first!.id, 15);
    const forGood = await waitUntil('failed for good logged', () => log.lines().find((l) => l.level === WARN && /failed for good/.test(l.msg)));
    assert.equal(forGood.store, e.storeId);
    assert.equal(forGood.subscription, fingerprint);
    assert.equal(forGood.messageId, first!.message_id);
    assert.equal(forGood.attempt, 16);
    assert.equal(log.lines().filter(startsFailing).length, 1, 'still failing: no second "started failing"');
    assert.ok(!log.text().includes(sub.uuid), 'the subscription uuid is never logged');
  });

  test('warns when a 410 disables a subscription, with the store and the fingerprint', async () => {
    const log = captureLogs<Line>('debug');
    const gone = await receiver(() => ({ status: 410, body: 'gone' }));
    const e = await engine(dialect, { logger: log.logger });
    const sub = await e.subscribe(gone.url);
    await e.createOrder('to a receiver that is gone');
    const line = await waitUntil('410 logged', () => log.lines().find((l) => l.level === WARN && /disabled/.test(l.msg) && /410/.test(l.msg)));
    assert.equal(line.store, e.storeId);
    assert.equal(line.subscription, uuidFingerprint(sub.uuid));
    assert.ok(!log.text().includes(sub.uuid), 'the subscription uuid is never logged');
  });
});
