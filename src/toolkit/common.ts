/**
 * What the integrator commands (`listen`, `trigger`, `verify`) share: exit codes, the server and
 * credentials options, and turning client errors into one clear line.
 */
import { Option, type Command } from 'commander';
import { ApiError, ConnectionError, StorehookClient, type RetryInfo } from '../client/index.js';

/** Exit codes scripts can rely on (documented in docs/integrators.md and every command's --help). */
export const EXIT = {
  /** done; for `verify`: the message is valid */
  ok: 0,
  /** `verify`: the message is not valid; `trigger`: the API refused a step (e.g. 409) */
  failed: 1,
  /** bad usage: a missing or wrong option, an unknown topic, an unreadable file */
  usage: 2,
  /** the server refused the credentials (401) or the plan (403) */
  auth: 3,
  /** the server cannot be reached, or is not a storehook server, or failed (5xx) */
  unreachable: 4,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success (verify: the message is valid)
  1  verify: the message is not valid; trigger: the API refused a step
  2  usage: bad or missing option, unknown topic, unreadable file
  3  authentication: wrong e-mail or API key (401), or plan without API access (403)
  4  the server cannot be reached, is not storehook, or failed`;

/** An error with a one-line message and the exit code to end with. */
export class ToolkitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'ToolkitError';
  }
}

/** One line on stdout: the commands' output (errors go to stderr through exitWith). */
export const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** A whole-number option (--order, --since-id, --tolerance, …), or undefined when not given. */
export function positiveInt(name: string, raw: string | undefined, min = 1): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new ToolkitError(`${name} must be an integer ≥ ${min} (got ${JSON.stringify(raw)})`, EXIT.usage);
  return Number(raw);
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface ServerOptions {
  url?: string;
  email?: string;
  key?: string;
}

/** Adds --url, --email and --key (with their environment variables) to a command. */
export function withServerOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', `the storehook server (default ${DEFAULT_URL})`).env('STOREHOOK_URL'))
    .addOption(new Option('--email <email>', "the API user's e-mail").env('STOREHOOK_EMAIL'))
    .addOption(new Option('--key <api-key>', 'the API key').env('STOREHOOK_API_KEY'));
}

export interface Server {
  url: string;
  email: string;
  apiKey: string;
}

export function resolveServer(opts: ServerOptions): Server {
  const url = (opts.url ?? DEFAULT_URL).trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ToolkitError(`--url ${JSON.stringify(url)} is not a URL; use e.g. ${DEFAULT_URL}`, EXIT.usage);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ToolkitError(`--url must start with http:// or https:// (got ${JSON.stringify(url)})`, EXIT.usage);
  if (!opts.email || !opts.key) {
    const missing = [!opts.email && '--email (STOREHOOK_EMAIL)', !opts.key && '--key (STOREHOOK_API_KEY)'].filter(Boolean).join(' and ');
    throw new ToolkitError(`no API credentials: pass ${missing}; the demo store's are printed by the first \`storehook serve\``, EXIT.usage);
  }
  return { url: `${parsed.origin}${parsed.pathname.replace(/\/+$/, '').replace(/\/api\/v[01]$/, '')}`, email: opts.email, apiKey: opts.key };
}

export function makeClient(server: Server, onRetry?: (info: RetryInfo) => void): StorehookClient {
  return new StorehookClient({ baseUrl: server.url, email: server.email, apiKey: server.apiKey, maxRetries: 5, ...(onRetry ? { onRetry } : {}) });
}

/** One clear line (and the exit code) for whatever a command's API call threw. */
export function explain(err: unknown, server: { url: string }): ToolkitError {
  if (err instanceof ToolkitError) return err;
  if (err instanceof ApiError) {
    // Every storehook answer carries x-request-id; an error without one came from something else.
    if (err.requestId === undefined && err.status < 500) return new ToolkitError(`${server.url} answered ${err.status} to ${err.method} ${new URL(err.url).pathname} and is not a storehook server: check --url (STOREHOOK_URL)`, EXIT.unreachable);
    if (err.status === 401) return new ToolkitError(`${server.url} refused the credentials (401): check --email/STOREHOOK_EMAIL and --key/STOREHOOK_API_KEY`, EXIT.auth);
    if (err.status === 403) return new ToolkitError(`${server.url}: ${err.body.message} (403)`, EXIT.auth);
    if (err.status >= 500) return new ToolkitError(`${server.url} failed (${err.status}): ${err.body.message}`, EXIT.unreachable);
    if (err.status === 404 && /No endpoint/i.test(err.body.message)) return new ToolkitError(`${server.url} has no such endpoint (${err.method} ${new URL(err.url).pathname}): is it a storehook server, and the right --url?`, EXIT.unreachable);
    return new ToolkitError(`${err.method} ${new URL(err.url).pathname} → ${err.status}: ${err.body.message}`, EXIT.failed);
  }
  if (err instanceof ConnectionError) return new ToolkitError(`cannot reach ${server.url}: ${err.message.replace(/^\S+ \S+: /, '')}`, EXIT.unreachable);
  return new ToolkitError(err instanceof Error ? err.message : String(err), EXIT.failed);
}

/** Ends the process with the error's line on stderr and its exit code. */
export function exitWith(err: unknown, server: { url: string } = { url: DEFAULT_URL }): never {
  const e = explain(err, server);
  process.stderr.write(`storehook: ${e.message}\n`);
  process.exit(e.exitCode);
}

/** `2026-05-02 10:15:02` in local time. */
export function localTime(date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

/** Makes commander's own usage errors (unknown option, missing argument) exit with EXIT.usage. */
export function usageExit(cmd: Command): Command {
  return cmd.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : EXIT.usage);
  });
}
