/**
 * Errors of the legacy bridge, answered the way old clients detect them: an XML document whose root
 * is a bare `<error>` element (one real client greps for the literal `<error>`, so no attributes),
 * holding a readable message, with a fitting HTTP status. Never HTML, never JSON.
 */
import type { FastifyReply } from 'fastify';
import { XML_CONTENT_TYPE } from '../webhooks/topics.js';
import { el, xmlDocument } from './xml.js';

export class LegacyError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'LegacyError';
  }
}

export const badRequest = (message: string) => new LegacyError(400, message);

/** Shows a client-supplied value inside a message: quoted, control characters spelled out, cut short. */
export function shown(value: string, max = 60): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(cut);
}

export function errorDocument(message: string): string {
  return xmlDocument(el('error', {}, message));
}

export function sendXml(reply: FastifyReply, status: number, body: string, headers: Record<string, string> = {}): FastifyReply {
  reply.code(status).header('content-type', XML_CONTENT_TYPE).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  return reply.send(body);
}

export function sendXmlError(reply: FastifyReply, status: number, message: string, headers: Record<string, string> = {}): FastifyReply {
  return sendXml(reply, status, errorDocument(message), headers);
}
