/**
 * Logger options shared by every process. Secrets never reach a log line: credentials and
 * signatures are redacted, `key=` query parameters (legacy bridge) are masked in URLs, and a
 * subscription uuid in a path — it is also the signing key — is replaced by a short fingerprint
 * that still lets an operator tell subscriptions apart.
 */
import { createHash } from 'node:crypto';
import pino, { type Logger, type LoggerOptions } from 'pino';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** A non-reversible tag for a subscription uuid, safe for logs. */
export function uuidFingerprint(uuid: string): string {
  return `sub#${createHash('sha256').update(uuid.toLowerCase()).digest('hex').slice(0, 10)}`;
}

export function redactUrl(url: string): string {
  return url.replace(/([?&](?:key|api_key|token)=)[^&#]*/gi, '$1***').replace(UUID, uuidFingerprint);
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["webhook-signature"]',
        'headers.authorization',
        'headers["webhook-signature"]',
        'res.headers["set-cookie"]',
        'apiKey',
        'api_key',
        'secret',
      ],
      censor: '***',
    },
    serializers: {
      req(req: { method: string; url: string; id: string; ip?: string; socket?: { remoteAddress?: string } }) {
        return { id: req.id, method: req.method, url: redactUrl(req.url), remoteAddress: req.ip ?? req.socket?.remoteAddress };
      },
    },
  };
}

/**
 * The process logger: JSON lines on stdout, for journald, Docker and log shippers; readable
 * colored lines (pino-pretty, in a worker thread) when stdout is a terminal.
 */
export function createLogger(level: string, stdout: { isTTY?: boolean } = process.stdout): Logger {
  const options = loggerOptions(level);
  if (!stdout.isTTY) return pino(options);
  return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,reqId' } } });
}
