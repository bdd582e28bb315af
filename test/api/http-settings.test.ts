// The HTTP limits are settings like every other: a flag and a variable each, validated, listed by
// `storehook serve --help`, and applied to the server that listens.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, TIMER_MAX_MS } from '../../src/config.js';
import { startLiveServer } from '../helpers/live-server.js';

const BIN = fileURLToPath(new URL('../../bin/storehook.js', import.meta.url));

describe('HTTP limit settings', () => {
  it('has defaults, reads variables and flags (flags win), and refuses bad values naming the setting', () => {
    const defaults = loadConfig({}, {});
    assert.deepEqual(
      [defaults.httpHeadersTimeoutMs, defaults.httpRequestTimeoutMs, defaults.httpKeepAliveTimeoutMs, defaults.httpMaxConnections],
      [10_000, 30_000, 5_000, 500],
    );
    const fromEnv = loadConfig({}, { STOREHOOK_HTTP_REQUEST_TIMEOUT_MS: '12000', STOREHOOK_HTTP_MAX_CONNECTIONS: '100' });
    assert.equal(fromEnv.httpRequestTimeoutMs, 12_000);
    assert.equal(fromEnv.httpMaxConnections, 100);
    assert.equal(loadConfig({ httpKeepAliveTimeoutMs: '700' }, { STOREHOOK_HTTP_KEEP_ALIVE_TIMEOUT_MS: '9000' }).httpKeepAliveTimeoutMs, 700);
    assert.throws(() => loadConfig({}, { STOREHOOK_HTTP_REQUEST_TIMEOUT_MS: 'soon' }), (e: Error) => e instanceof ConfigError && /STOREHOOK_HTTP_REQUEST_TIMEOUT_MS \(--http-request-timeout-ms\) "soon"/.test(e.message));
    assert.throws(() => loadConfig({}, { STOREHOOK_HTTP_MAX_CONNECTIONS: '0' }), (e: Error) => e instanceof ConfigError && /STOREHOOK_HTTP_MAX_CONNECTIONS/.test(e.message));
    assert.throws(
      () => loadConfig({}, { STOREHOOK_HTTP_HEADERS_TIMEOUT_MS: '40000' }),
      (e: Error) => e instanceof ConfigError && /HEADERS_TIMEOUT_MS.*must not exceed STOREHOOK_HTTP_REQUEST_TIMEOUT_MS/.test(e.message),
    );
  });

  it('refuses a delay a Node.js timer cannot wait, for every setting that becomes one', () => {
    // Node fires a timer longer than 2^31 − 1 ms after 1 ms: an interval of "a month" would run
    // every millisecond. Each such setting takes the longest one and refuses one more.
    for (const env of ['STOREHOOK_CONNECT_TIMEOUT_MS', 'STOREHOOK_REQUEST_TIMEOUT_MS', 'STOREHOOK_LEASE_MS', 'STOREHOOK_HEALTH_CHECK_INTERVAL_MS', 'STOREHOOK_POLL_INTERVAL_MS', 'STOREHOOK_DB_POOL_WAIT_MS', 'STOREHOOK_HTTP_KEEP_ALIVE_TIMEOUT_MS']) {
      assert.doesNotThrow(() => loadConfig({}, { [env]: String(TIMER_MAX_MS) }), env);
      assert.throws(() => loadConfig({}, { [env]: String(TIMER_MAX_MS + 1) }), (e: Error) => e instanceof ConfigError && e.message.includes(env) && e.message.includes('2147483647'), env);
    }
    // Not a timer: how long a subscription may fail before it is disabled may be a month.
    assert.equal(loadConfig({}, { STOREHOOK_WEBHOOK_DISABLE_AFTER_MS: String(30 * 86_400_000) }).webhookDisableAfterMs, 30 * 86_400_000);
  });

  it('lists each in `storehook serve --help` with its variable', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'serve', '--help']);
    for (const [flag, env] of [
      ['--http-headers-timeout-ms', 'STOREHOOK_HTTP_HEADERS_TIMEOUT_MS'],
      ['--http-request-timeout-ms', 'STOREHOOK_HTTP_REQUEST_TIMEOUT_MS'],
      ['--http-keep-alive-timeout-ms', 'STOREHOOK_HTTP_KEEP_ALIVE_TIMEOUT_MS'],
      ['--http-max-connections', 'STOREHOOK_HTTP_MAX_CONNECTIONS'],
    ]) {
      assert.match(stdout, new RegExp(`${flag} <value>[\\s\\S]*?\\[${env}\\]`));
    }
  });

  it('applies them to the listening server', async () => {
    const s = await startLiveServer('sqlite', { httpHeadersTimeoutMs: 4000, httpRequestTimeoutMs: 7000, httpKeepAliveTimeoutMs: 1500 });
    try {
      const server = s.server.app.server;
      assert.equal(server.headersTimeout, 4000);
      assert.equal(server.requestTimeout, 7000);
      assert.equal(server.keepAliveTimeout, 1500);
    } finally {
      await s.close();
    }
  });
});
