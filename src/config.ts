/**
 * Every setting has a flag and an environment variable (SPEC §5a). One table below drives both
 * the CLI options and the parsing, so a setting cannot exist in one place and not the other.
 * A wrong value stops the start with one line naming the setting and what is allowed.
 */
import { parseAllowList, type AllowList } from './delivery/network-guard.js';

type Parser<T> = (raw: string) => T;

interface Setting<T> {
  env: string;
  flag: string;
  description: string;
  default: T;
  /** how --help shows the default, when the value itself does not read well */
  helpDefault?: string;
  parse: Parser<T>;
}

export class ConfigError extends Error {}

const positiveInt = (what: string, min = 1, max = Number.MAX_SAFE_INTEGER): Parser<number> => (raw) => {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new Error(`expected ${what} (an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`})`);
  }
  return Number(raw);
};

/** The longest delay a Node.js timer keeps: a longer one fires after 1 ms instead. */
export const TIMER_MAX_MS = 2_147_483_647;
/** Milliseconds that become a timer's delay (a timeout, an interval). */
const timerMs = (min: number): Parser<number> => positiveInt('milliseconds', min, TIMER_MAX_MS);

const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  throw new Error('expected true or false');
};

const oneOf = <T extends string>(allowed: readonly T[]): Parser<T> => (raw) => {
  if (!(allowed as readonly string[]).includes(raw)) throw new Error(`expected one of ${allowed.join(', ')}`);
  return raw as T;
};

const text: Parser<string> = (raw) => raw;

const databaseUrl: Parser<string | undefined> = (raw) => {
  if (raw === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new Error('expected a postgres:// or postgresql:// URL (unset it to use SQLite)');
  try {
    new URL(raw);
  } catch {
    throw new Error('expected a valid postgres:// URL');
  }
  return raw;
};

const host: Parser<string> = (raw) => {
  if (!raw.trim()) throw new Error('expected a host name or address, e.g. 127.0.0.1 or 0.0.0.0');
  return raw.trim();
};

const allowTargets: Parser<AllowList> = (raw) => parseAllowList(raw);

export const SETTINGS = {
  port: { env: 'PORT', flag: 'port', description: 'port the API listens on (0 picks a free one)', default: 8080, parse: positiveInt('a port', 0, 65535) },
  host: { env: 'HOST', flag: 'host', description: 'address the API listens on', default: '127.0.0.1', parse: host },
  databaseUrl: { env: 'DATABASE_URL', flag: 'database-url', description: 'postgres:// URL; unset = embedded SQLite', default: undefined, helpDefault: 'unset: SQLite in --data-dir', parse: databaseUrl },
  dataDir: { env: 'STOREHOOK_DATA_DIR', flag: 'data-dir', description: 'folder of the SQLite file', default: './data', parse: text },
  allowTargets: { env: 'STOREHOOK_ALLOW_TARGETS', flag: 'allow-targets', description: 'CIDRs the network guard lets through, e.g. 127.0.0.0/8,::1/128', default: parseAllowList(''), helpDefault: 'none: public addresses only', parse: allowTargets },
  retryBaseMs: { env: 'STOREHOOK_RETRY_BASE_MS', flag: 'retry-base-ms', description: 'first retry delay in ms; each later one doubles', default: 15_000, parse: positiveInt('milliseconds') },
  secretOverlapHours: { env: 'STOREHOOK_SECRET_OVERLAP_HOURS', flag: 'secret-overlap-hours', description: 'hours a rotated signing secret or ed25519 key keeps signing beside the new one', default: 24, parse: positiveInt('hours', 0, 720) },
  httpsOnly: { env: 'STOREHOOK_HTTPS_ONLY', flag: 'https-only', description: 'refuse http: subscription URLs', default: false, parse: bool },
  retentionDays: { env: 'STOREHOOK_RETENTION_DAYS', flag: 'retention-days', description: 'days finished messages are kept', default: 30, parse: positiveInt('days') },
  logLevel: { env: 'LOG_LEVEL', flag: 'log-level', description: 'pino log level', default: 'info', parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) },
  logRequests: { env: 'STOREHOOK_LOG_REQUESTS', flag: 'log-requests', description: 'on: one info line per API request once answered (health and metrics probes at debug); off: none', default: 'on', parse: oneOf(['on', 'off'] as const) },
  rateLimitPerSecond: { env: 'STOREHOOK_RATE_LIMIT_PER_SECOND', flag: 'rate-limit-per-second', description: 'API requests per second per API user (token refill); 0 turns the limit off', default: 50, parse: positiveInt('requests per second', 0) },
  rateLimitBurst: { env: 'STOREHOOK_RATE_LIMIT_BURST', flag: 'rate-limit-burst', description: 'API requests an API user may make at once (bucket size)', default: 200, parse: positiveInt('requests') },
  authFailuresPerMinute: { env: 'STOREHOOK_AUTH_FAILURES_PER_MINUTE', flag: 'auth-failures-per-minute', description: 'failed logins allowed per client address per minute', default: 30, parse: positiveInt('failures per minute') },
  maxSubscriptions: { env: 'STOREHOOK_MAX_SUBSCRIPTIONS', flag: 'max-subscriptions', description: 'webhook subscriptions per store', default: 100, parse: positiveInt('subscriptions') },
  connectTimeoutMs: { env: 'STOREHOOK_CONNECT_TIMEOUT_MS', flag: 'connect-timeout-ms', description: 'delivery connect timeout', default: 5_000, parse: timerMs(1) },
  requestTimeoutMs: { env: 'STOREHOOK_REQUEST_TIMEOUT_MS', flag: 'request-timeout-ms', description: 'delivery timeout in all (connect, answer, body)', default: 15_000, parse: timerMs(1) },
  deliveryConcurrency: { env: 'STOREHOOK_DELIVERY_CONCURRENCY', flag: 'delivery-concurrency', description: 'requests a dispatcher has in flight at most', default: 64, parse: positiveInt('requests') },
  maxInFlightPerSubscription: { env: 'STOREHOOK_MAX_IN_FLIGHT_PER_SUBSCRIPTION', flag: 'max-in-flight-per-subscription', description: 'requests in flight to one subscription at most (per dispatcher)', default: 8, parse: positiveInt('requests') },
  leaseMs: { env: 'STOREHOOK_LEASE_MS', flag: 'lease-ms', description: 'how long a claimed message stays reserved to its worker without a heartbeat', default: 60_000, parse: timerMs(100) },
  webhookDisableAfterMs: { env: 'STOREHOOK_WEBHOOK_DISABLE_AFTER_MS', flag: 'webhook-disable-after-ms', description: 'a subscription failing this long (and still failing) is disabled, its messages held; default 5 days (docs/webhooks.md, "Endpoint health")', default: 432_000_000, helpDefault: '432000000 (5 days)', parse: positiveInt('milliseconds', 1000) },
  healthCheckIntervalMs: { env: 'STOREHOOK_HEALTH_CHECK_INTERVAL_MS', flag: 'health-check-interval-ms', description: 'how often a dispatcher looks for failing, recovered and to-be-disabled subscriptions', default: 60_000, parse: timerMs(10) },
  pollIntervalMs: { env: 'STOREHOOK_POLL_INTERVAL_MS', flag: 'poll-interval-ms', description: 'fallback polling for due messages (commits wake the dispatcher at once)', default: 1_000, parse: timerMs(10) },
  // Faults: the PostgreSQL pool (docs/deploy.md, "Database pool") and the SQLite start-up check.
  dbPoolSize: { env: 'STOREHOOK_DB_POOL_SIZE', flag: 'db-pool-size', description: 'PostgreSQL connections per process (API and dispatcher together)', default: 10, parse: positiveInt('connections', 1, 1000) },
  dbPoolQueue: { env: 'STOREHOOK_DB_POOL_QUEUE', flag: 'db-pool-queue', description: 'requests that may wait for a PostgreSQL connection at once; more get 503 busy at once', default: 500, parse: positiveInt('requests', 0) },
  dbPoolWaitMs: { env: 'STOREHOOK_DB_POOL_WAIT_MS', flag: 'db-pool-wait-ms', description: 'how long a request waits for a PostgreSQL connection before 503 busy', default: 10_000, parse: timerMs(1) },
  sqliteCheckMaxMb: { env: 'STOREHOOK_SQLITE_CHECK_MAX_MB', flag: 'sqlite-check-max-mb', description: 'PRAGMA quick_check at start on SQLite files up to this size (MB); 0 turns it off', default: 1024, parse: positiveInt('megabytes', 0) },
  sqliteSync: { env: 'STOREHOOK_SQLITE_SYNC', flag: 'sqlite-sync', description: 'SQLite durability: normal survives process crashes, full also power loss', default: 'normal', parse: oneOf(['normal', 'full'] as const) },
  // Incoming connections: how long a client may take, and how many it may hold (docs/deploy.md, "Limits and timeouts").
  httpHeadersTimeoutMs: { env: 'STOREHOOK_HTTP_HEADERS_TIMEOUT_MS', flag: 'http-headers-timeout-ms', description: 'time a client has to send the request line and headers (408 after)', default: 10_000, parse: timerMs(1000) },
  httpRequestTimeoutMs: { env: 'STOREHOOK_HTTP_REQUEST_TIMEOUT_MS', flag: 'http-request-timeout-ms', description: 'time a client has to send a whole request, headers and body: a body that trickles is cut off (408)', default: 30_000, parse: timerMs(1000) },
  httpKeepAliveTimeoutMs: { env: 'STOREHOOK_HTTP_KEEP_ALIVE_TIMEOUT_MS', flag: 'http-keep-alive-timeout-ms', description: 'how long an idle keep-alive connection stays open between requests', default: 5_000, parse: timerMs(100) },
  httpMaxConnections: { env: 'STOREHOOK_HTTP_MAX_CONNECTIONS', flag: 'http-max-connections', description: 'open client connections at most; more are closed at once (keep it well under ulimit -n)', default: 500, parse: positiveInt('connections', 10) },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;
export type Config = { [K in keyof Settings]: ReturnType<Settings[K]['parse']> };
export type SettingName = keyof Settings;

/** camelCase option name as commander stores it, for a flag like `retry-base-ms`. */
export function optionKey(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Flags win over the environment, which wins over defaults. `flags` holds commander's parsed
 * options (strings, or `true` for a bare boolean flag).
 */
export function loadConfig(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const out: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, Setting<unknown>][]) {
    const fromFlag = flags[optionKey(setting.flag)];
    const raw = typeof fromFlag === 'string' ? fromFlag : fromFlag === true ? 'true' : env[setting.env];
    if (raw === undefined) {
      out[name] = setting.default;
      continue;
    }
    try {
      out[name] = setting.parse(raw);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const shown = setting.env === 'DATABASE_URL' ? '(the URL)' : JSON.stringify(raw);
      throw new ConfigError(`invalid ${setting.env} (--${setting.flag}) ${shown}: ${why}`);
    }
  }
  const config = out as Config;
  checkHttpTimeouts(config);
  return config;
}

/** Node refuses a headers timeout longer than the whole-request timeout; say so in the settings' words. */
function checkHttpTimeouts(config: Config): void {
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    throw new ConfigError(
      `invalid STOREHOOK_HTTP_HEADERS_TIMEOUT_MS (--http-headers-timeout-ms) ${config.httpHeadersTimeoutMs}: must not exceed STOREHOOK_HTTP_REQUEST_TIMEOUT_MS (${config.httpRequestTimeoutMs}), which covers the headers too`,
    );
  }
}
