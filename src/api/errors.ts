/**
 * The one error format (SPEC §1): `{code, error, message, errors?}`, JSON always, never a stack.
 * Validation errors name each field and what is allowed.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { classifyFault, isClientAbort } from '../db/faults.js';
import { DomainError, type FieldError } from '../errors.js';
import { pathOf, renderForSurface, surfaceFor } from './error-surfaces.js';
import { FIRST_PROBLEM_ONLY } from './validation.js';

/** Problems listed in one error answer; the rest are counted, so a huge bad body gets a small answer. */
export const MAX_LISTED_ERRORS = 25;
/** A field name longer than this (a 1 MB JSON key) is cut in the answer. */
const MAX_FIELD_LENGTH = 120;

export function sendError(reply: FastifyReply, status: number, message: string, errors?: FieldError[]): FastifyReply {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({ code: status, error: STATUS_CODES[status] ?? 'Error', message, ...(errors?.length ? { errors } : {}) });
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function fieldOf(err: AjvError, context: string): string {
  const path = err.instancePath.replace(/^\//, '').split('/').filter(Boolean);
  if (err.keyword === 'required' && typeof err.params.missingProperty === 'string') path.push(err.params.missingProperty);
  if (err.keyword === 'additionalProperties' && typeof err.params.additionalProperty === 'string') path.push(err.params.additionalProperty);
  const joined = path.join('.') || context;
  return joined.length > MAX_FIELD_LENGTH ? `${joined.slice(0, MAX_FIELD_LENGTH)}…` : joined;
}

function describe(err: AjvError): string {
  switch (err.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field; remove it (see the API docs at /docs for the allowed fields)';
    case 'enum':
      return `must be one of ${(err.params.allowedValues as unknown[] | undefined)?.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'anyOf':
      return 'does not match any allowed type or value';
    case 'pattern':
      return `has the wrong format (${err.message ?? 'pattern mismatch'})`;
    case 'minProperties':
      return 'must contain at least one field to change';
    default:
      return err.message ?? `is not valid (${err.keyword})`;
  }
}

/**
 * ajv's errors → our field errors, dropping the noise a union produces for each branch. Formats at
 * most `limit` distinct problems and only counts the rest: a small body can still carry thousands.
 */
export function validationErrors(errors: AjvError[], context: string, limit = Number.MAX_SAFE_INTEGER): { listed: FieldError[]; more: number } {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  const listed: FieldError[] = [];
  let more = 0;
  for (const e of errors) {
    if (anyOfPaths.has(e.instancePath) && e.keyword !== 'anyOf') continue;
    if (listed.length >= limit) {
      more++;
      continue;
    }
    const field = fieldOf(e, context);
    const message = describe(e);
    const key = `${field}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    listed.push({ field, message });
  }
  return { listed, more };
}

/**
 * `sendError`, unless the path belongs to a surface with its own error format (the legacy XML
 * bridge): then that format, without the field list.
 */
export function respond(request: FastifyRequest, reply: FastifyReply, status: number, message: string, errors?: FieldError[]): FastifyReply {
  const path = pathOf(request.raw.url);
  if (!surfaceFor(request.server.server, path)) return sendError(reply, status, message, errors);
  const rendered = renderForSurface(request.server.server, path, status, message);
  return reply.code(status).type(rendered.contentType).send(rendered.body);
}

/** Bytes as the docs state limits: "64 KiB", "1 MiB". */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/**
 * Fastify's own errors from before routing (`frameworkErrors`): a URL that cannot be decoded, a
 * path parameter over the length limit. Answered like every other error, in the path's format.
 */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return respond(request, reply, 400, 'The URL path is not valid: it holds a "%" that is not followed by two hex digits, or bytes that are not UTF-8. Percent-encode the path as UTF-8.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return respond(request, reply, 414, 'A part of the URL path is too long (over 200 characters); check the id or name in the path.');
    default:
      request.log.error({ err: error }, 'framework error');
      return respond(request, reply, 500, 'Something went wrong on the server; it has been logged. Try again, and report it if it persists.');
  }
}

const where: Record<string, string> = { body: 'request body', querystring: 'query string', params: 'path', headers: 'headers' };

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError & { validationContext?: string }, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof DomainError) return respond(request, reply, error.status, error.message, error.errors);
    if (error.validation) {
      const context = error.validationContext ?? 'body';
      const { listed: errors, more: uncounted } = validationErrors(error.validation as AjvError[], context, MAX_LISTED_ERRORS);
      const summary = errors.map((e) => `${e.field} ${e.message}`).join('; ');
      const more = uncounted > 0 ? `; and ${uncounted} more problems (fix these and send again to see the rest)` : '';
      const firstOnly = (error.validation as object[]).some((e) => (e as Record<symbol, unknown>)[FIRST_PROBLEM_ONLY] === true)
        ? ' (the body is too large to list every problem: only the first is reported)'
        : '';
      return respond(request, reply, 400, `Invalid ${where[context] ?? context}: ${summary}${more}.${firstOnly}`, errors);
    }
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return respond(request, reply, 415, `Content-Type ${request.headers['content-type'] ?? '(none)'} is not supported: send JSON with "Content-Type: application/json".`);
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return respond(request, reply, 413, `The request body is larger than ${sizeText(request.routeOptions.bodyLimit ?? request.server.initialConfig.bodyLimit ?? 1024 * 1024)}, the limit of ${request.method} ${request.routeOptions.url ?? pathOf(request.url)}; send less data per request.`);
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return respond(request, reply, 400, 'The Content-Length header does not match the body.');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return respond(request, reply, 400, 'The body is empty but Content-Type says JSON: send a JSON object, or no Content-Type.');
    }
    if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return respond(request, reply, 400, `The body is not valid JSON (${error.message}). Check quotes, commas and brackets.`);
    }
    if (isClientAbort(request, error)) {
      request.log.info({ reason: error.message }, 'client closed the connection before the answer');
      return respond(request, reply, 400, 'The request was aborted before its body arrived.');
    }
    const fault = classifyFault(error);
    if (fault) {
      request.log.warn({ err: error }, fault.log);
      if (fault.retryAfter) reply.header('Retry-After', String(fault.retryAfter));
      return respond(request, reply, fault.status, fault.message);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return respond(request, reply, status, error.message);
    request.log.error({ err: error }, 'unhandled error');
    return respond(request, reply, 500, 'Something went wrong on the server; it has been logged. Try again, and report it if it persists.');
  });

  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url);
    const shownPath = path.length > 200 ? `${path.slice(0, 200)}…` : path;
    return respond(request, reply, 404, `No endpoint ${request.method} ${shownPath}. See /docs for the API reference.`);
  });
}
