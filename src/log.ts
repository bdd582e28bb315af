/**
 * Logger options shared by every process. Secrets never reach a log line: credentials and
 * signatures are redacted, and `key=` query parameters (legacy bridge) are masked in URLs.
 */
import type { LoggerOptions } from 'pino';

export function redactUrl(url: string): string {
  return url.replace(/([?&](?:key|api_key|token)=)[^&#]*/gi, '$1***');
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
