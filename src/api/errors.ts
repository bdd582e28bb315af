/**
 * The one error format (SPEC §1): `{code, error, message, errors?}`, JSON always, never a stack.
 * Validation errors name each field and what is allowed.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { classifyFault, isClientAbort } from '../db/faults.js';
import { DomainError, type FieldError } from '../errors.js';

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
  const joined = path.join('.');
  return joined || context;
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

/** ajv's errors → our field errors, dropping the noise a union produces for each branch. */
export function validationErrors(errors: AjvError[], context: string): FieldError[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of errors) {
    if (anyOfPaths.has(e.instancePath) && e.keyword !== 'anyOf') continue;
    const field = fieldOf(e, context);
    const message = describe(e);
    const key = `${field}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ field, message });
  }
  return out;
}

const where: Record<string, string> = { body: 'request body', querystring: 'query string', params: 'path', headers: 'headers' };

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError & { validationContext?: string }, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof DomainError) return sendError(reply, error.status, error.message, error.errors);
    if (error.validation) {
      const context = error.validationContext ?? 'body';
      const errors = validationErrors(error.validation as AjvError[], context);
      const summary = errors.map((e) => `${e.field} ${e.message}`).join('; ');
      return sendError(reply, 400, `Invalid ${where[context] ?? context}: ${summary}.`, errors);
    }
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(reply, 415, `Content-Type ${request.headers['content-type'] ?? '(none)'} is not supported: send JSON with "Content-Type: application/json".`);
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(reply, 413, 'The request body is larger than 1 MiB; send less data per request.');
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendError(reply, 400, 'The Content-Length header does not match the body.');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(reply, 400, 'The body is empty but Content-Type says JSON: send a JSON object, or no Content-Type.');
    }
    if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return sendError(reply, 400, `The body is not valid JSON (${error.message}). Check quotes, commas and brackets.`);
    }
    if (isClientAbort(request, error)) {
      request.log.info({ reason: error.message }, 'client closed the connection before the answer');
      return sendError(reply, 400, 'The request was aborted before its body arrived.');
    }
    const fault = classifyFault(error);
    if (fault) {
      request.log.warn({ err: error }, fault.log);
      if (fault.retryAfter) reply.header('Retry-After', String(fault.retryAfter));
      return sendError(reply, fault.status, fault.message);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendError(reply, status, error.message);
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, 500, 'Something went wrong on the server; it has been logged. Try again, and report it if it persists.');
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    return sendError(reply, 404, `No endpoint ${request.method} ${path}. See /docs for the API reference.`);
  });
}
