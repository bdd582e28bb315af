/**
 * What `storehook verify` does (commands.ts registers it): read a captured message, diagnose its
 * signature, print the checks and exit 0 (valid) or 1. Loaded by its action only.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_TOLERANCE_SEC } from '../sdk/verify.js';
import { EXIT, exitWith, out, positiveInt, ToolkitError } from './common.js';
import { diagnose, type Diagnosis } from './verify/diagnose.js';
import { CaptureError, parseHeadersFile } from './verify/headers-file.js';

export interface VerifyFlags {
  uuid?: string;
  secret?: string;
  headers?: string;
  body?: string;
  tolerance?: string;
  now?: string;
  json?: boolean;
}

function readInput(path: string, what: string): Buffer {
  try {
    return path === '-' ? readFileSync(0) : readFileSync(path);
  } catch (err) {
    throw new ToolkitError(`cannot read the ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.usage);
  }
}

function parseNow(raw: string | undefined): number {
  if (raw === undefined) return Math.floor(Date.now() / 1000);
  if (/^\d{1,12}$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new ToolkitError(`--now must be unix seconds or an ISO-8601 time (got ${JSON.stringify(raw)})`, EXIT.usage);
  return Math.floor(ms / 1000);
}

function printDiagnosis(d: Diagnosis): void {
  out(`Message ${d.messageId ?? '(no webhook-id)'}${d.topic ? ` (${d.topic})` : ''}`);
  for (const c of d.checks) out(`  ${c.ok ? '✔' : '✘'} ${c.name.padEnd(10)} ${c.message}`);
  if (d.ok) {
    out('');
    out('VALID: a receiver with this secret accepts this message.');
    if (d.secretForms) out(`Receivers verify it with verify(rawBody, headers, '${d.secretForms.uuid}') from storehook/verify, or with ${d.secretForms.whsec} in any Standard Webhooks library.`);
    out('If your receiver still rejects it, it is not verifying the raw body bytes, or not with this secret.');
    return;
  }
  out('');
  const [first, ...rest] = d.causes;
  if (first) out(`Likely cause: ${first.message}`);
  for (const c of rest) out(`Also: ${c.message}`);
  out('NOT VALID');
}

export async function verifyCommand(flags: VerifyFlags): Promise<void> {
  try {
    if (!flags.uuid && !flags.secret) throw new ToolkitError('pass the key: --uuid <subscription uuid> or --secret <whsec_… or whpk_…>', EXIT.usage);
    if (flags.uuid && flags.secret) throw new ToolkitError('pass either --uuid or --secret, not both', EXIT.usage);
    if (!flags.headers) throw new ToolkitError('pass --headers <file> (the request headers as "Name: value" lines or a JSON object)', EXIT.usage);
    let capture;
    try {
      capture = parseHeadersFile(readInput(flags.headers, 'headers'));
    } catch (err) {
      if (err instanceof CaptureError) throw new ToolkitError(`--headers ${flags.headers}: ${err.message}`, EXIT.usage);
      throw err;
    }
    const body = flags.body !== undefined ? readInput(flags.body, 'body') : capture.body;
    if (body === null) throw new ToolkitError('pass --body <file> (the raw request body, byte for byte); the headers file has no body after its headers', EXIT.usage);
    const diagnosis = diagnose({
      headers: capture.headers,
      body,
      secret: (flags.uuid ?? flags.secret)!,
      given: flags.uuid ? 'uuid' : 'secret',
      toleranceSec: positiveInt('--tolerance', flags.tolerance, 0) ?? DEFAULT_TOLERANCE_SEC,
      nowSec: parseNow(flags.now),
    });
    if (flags.json) out(JSON.stringify({ ok: diagnosis.ok, message_id: diagnosis.messageId, topic: diagnosis.topic, checks: diagnosis.checks, causes: diagnosis.causes, secret_forms: diagnosis.secretForms }, null, 2));
    else printDiagnosis(diagnosis);
    process.exit(diagnosis.ok ? EXIT.ok : EXIT.failed);
  } catch (err) {
    exitWith(err);
  }
}
