/**
 * The integrator commands: `storehook listen`, `storehook trigger`, `storehook verify`
 * (docs/integrators.md). Each has --help with an example, --json for scripts, and the exit codes
 * of EXIT (common.ts).
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ORDER_EXPANDS } from '../orders/expands.js';
import { ORDER_TOPICS } from '../orders/events.js';
import { DEFAULT_TOLERANCE_SEC } from '../sdk/verify.js';
import { EXIT, EXIT_CODES_HELP, exitWith, resolveServer, ToolkitError, usageExit, withServerOptions, type Server, type ServerOptions } from './common.js';
import { makeClient } from './common.js';
import { ListenSession, sessionSecret } from './listen/session.js';
import { checkOrderOption, describeTrigger, parseTopic, trigger, TRIGGER_TOPICS, type TriggerStep } from './trigger.js';
import { diagnose, type Diagnosis } from './verify/diagnose.js';
import { CaptureError, parseHeadersFile } from './verify/headers-file.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

function positiveInt(name: string, raw: string | undefined, min = 1): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new ToolkitError(`${name} must be an integer ≥ ${min} (got ${JSON.stringify(raw)})`, EXIT.usage);
  return Number(raw);
}

function checkTopics(topics: string[] | undefined): string[] | null {
  if (!topics || topics.length === 0 || topics.includes('*')) return null;
  const unknown = topics.filter((t) => !(ORDER_TOPICS as readonly string[]).includes(t));
  if (unknown.length) throw new ToolkitError(`unknown topic ${unknown.map((u) => `"${u}"`).join(', ')}; topics: ${ORDER_TOPICS.join(', ')}`, EXIT.usage);
  return [...new Set(topics)];
}

function checkExpands(expands: string[] | undefined): string[] {
  const unknown = (expands ?? []).filter((e) => !(ORDER_EXPANDS as readonly string[]).includes(e));
  if (unknown.length) throw new ToolkitError(`unknown expand ${unknown.map((u) => `"${u}"`).join(', ')}; allowed: ${ORDER_EXPANDS.join(', ')}`, EXIT.usage);
  return [...new Set(expands ?? [])];
}

interface ListenFlags extends ServerOptions {
  topic?: string[];
  expand?: string[];
  forwardTo?: string;
  secret?: string;
  printSecret?: boolean;
  sinceId?: string;
  forwardTimeout?: string;
  maxAttempts?: string;
  json?: boolean;
}

async function listenAction(flags: ListenFlags): Promise<void> {
  let server: Server | undefined;
  try {
    server = resolveServer(flags);
    const topics = checkTopics(flags.topic);
    const expands = checkExpands(flags.expand);
    if (flags.printSecret) {
      const secret = flags.secret ?? sessionSecret(server);
      out(flags.json ? JSON.stringify({ secret }) : secret);
      process.exit(EXIT.ok);
    }
    const session = new ListenSession({
      server,
      topics,
      expands,
      forwardTo: flags.forwardTo,
      secret: flags.secret,
      sinceId: positiveInt('--since-id', flags.sinceId, 0),
      json: flags.json ?? false,
      forwardTimeoutMs: positiveInt('--forward-timeout', flags.forwardTimeout) ?? 10_000,
      maxForwardAttempts: positiveInt('--max-attempts', flags.maxAttempts) ?? 5,
      out,
    });
    const stop = new AbortController();
    const onSignal = () => {
      if (stop.signal.aborted) process.exit(130);
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    await session.run(stop.signal);
    const waiting = session.pending();
    const summary = { type: 'stopped', received: session.stats.received, forwarded: session.stats.forwarded, dropped: session.stats.dropped, waiting: waiting.length, last_event_id: session.lastId };
    if (flags.json) out(JSON.stringify({ time: new Date().toISOString(), ...summary }));
    else {
      out(`Stopped: ${summary.received} events received, ${summary.forwarded} forwarded${summary.dropped ? `, ${summary.dropped} given up` : ''}.`);
      if (waiting.length) out(`${waiting.length} not forwarded yet (${waiting.map((w) => w.messageId).slice(0, 5).join(', ')}${waiting.length > 5 ? ', …' : ''}); replay them with --since-id ${waiting[0]!.eventId - 1}`);
      else if (session.lastId !== null) out(`To continue later where this stopped: --since-id ${session.lastId}`);
    }
    process.exit(EXIT.ok);
  } catch (err) {
    exitWith(err, server);
  }
}

interface TriggerFlags extends ServerOptions {
  order?: string;
  json?: boolean;
}

async function triggerAction(topicRaw: string, flags: TriggerFlags): Promise<void> {
  let server: Server | undefined;
  try {
    const topic = parseTopic(topicRaw);
    server = resolveServer(flags);
    const orderId = positiveInt('--order', flags.order);
    checkOrderOption(topic, orderId);
    const api = makeClient(server, (r) => process.stderr.write(`storehook: ${r.status === 429 ? 'rate limited' : 'server busy'}; retrying in ${Math.ceil(r.waitMs / 1000)} s (retry ${r.retry})\n`));
    if (!flags.json) out(orderId ? `Triggering ${topic} on order ${orderId} at ${server.url}` : `Triggering ${topic} at ${server.url}: ${describeTrigger(topic)}`);
    const step = (s: TriggerStep) => {
      if (!flags.json) out(`  ${s.method.padEnd(5)} /api/v1${s.path}  ${s.action}: ${s.result}`);
    };
    const result = await trigger(api, topic, step, orderId);
    if (flags.json) out(JSON.stringify(result, null, 2));
    else {
      const others = result.emitted.filter((t) => t !== topic);
      out(`✔ ${topic} emitted for ${result.resource.replace('_', ' ')} ${result.id}${others.length ? ` (the change also emitted ${others.join(', ')})` : ''}`);
    }
    process.exit(EXIT.ok);
  } catch (err) {
    exitWith(err, server);
  }
}

interface VerifyFlags {
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

async function verifyAction(flags: VerifyFlags): Promise<void> {
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

export function registerToolkitCommands(program: Command): void {
  const listen = withServerOptions(program.command('listen'))
    .description("Stream the store's events to this machine live and forward them, signed, to a local receiver")
    .addOption(new Option('-t, --topic <topics>', `only these topics (comma list or repeated; default all): ${ORDER_TOPICS.join(', ')}`).argParser(list))
    .addOption(new Option('-e, --expand <expands>', `include these parts of the order (comma list): ${ORDER_EXPANDS.join(', ')}`).argParser(list))
    .option('-f, --forward-to <url>', 'POST each event to this URL, e.g. http://localhost:3000/hooks')
    .addOption(new Option('--secret <secret>', 'sign forwarded events with this whsec_… secret instead of the session secret').env('STOREHOOK_LISTEN_SECRET'))
    .option('--print-secret', 'print the session secret and exit')
    .option('--since-id <id>', 'start by replaying the events after this id (events are kept 7 days)')
    .option('--forward-timeout <ms>', 'how long the local receiver may take to answer (default 10000)')
    .option('--max-attempts <n>', 'attempts for an event the receiver refuses or is too slow for, before giving up on it (default 5); a receiver that is down is retried until it is up')
    .option('--json', 'print one JSON object per line (start, secret, ready, event, forward, disconnected, stopped)')
    .addHelpText(
      'after',
      `
It prints the session secret (whsec_…) first: give it to your receiver to verify what listen
forwards. It is the same every run for this server and API user. listen reconnects by itself
and replays what was committed while it was away; a receiver that is down or slow does not lose
events: each one is kept and tried again.

Example:
  export STOREHOOK_URL=http://127.0.0.1:8080 STOREHOOK_EMAIL=demo@storehook.local STOREHOOK_API_KEY=shk_…
  storehook listen --topic order.created,order.cancelled --expand products --forward-to http://localhost:3000/hooks
${EXIT_CODES_HELP}`,
    )
    .action((flags: ListenFlags) => listenAction(flags));
  usageExit(listen);

  const triggerCmd = withServerOptions(program.command('trigger'))
    .description('Make the server emit a topic for real: a sample order for order.created, the matching change on a fresh sample order for the other order topics, a sample product or customer and its change for the others')
    .argument('<topic>', TRIGGER_TOPICS.join(', '))
    .option('--order <id>', 'order topics: make the change to this existing order instead of a fresh sample order')
    .option('--json', 'print {"topic","resource","id","order_id" (order topics),"steps","emitted"}')
    .addHelpText(
      'after',
      `
Topics and what trigger does:
${TRIGGER_TOPICS.map((t) => `  ${t.padEnd(26)} ${describeTrigger(t)}`).join('\n')}

Example:
  storehook trigger order.payment_updated
  storehook trigger order.comment_created --order 1234 --json
  storehook trigger stock_item.low
${EXIT_CODES_HELP}`,
    )
    .action((topic: string, flags: TriggerFlags) => triggerAction(topic, flags));
  usageExit(triggerCmd);

  const verify = program
    .command('verify')
    .description('Check a captured message, and say exactly why it does not verify (missing header, old timestamp, changed body, wrong key or key form)')
    .option('--uuid <uuid>', 'the subscription uuid (its signing key)')
    .option('--secret <secret>', "a whsec_… secret (a subscription's own secret, or the `storehook listen` session secret), or a whpk_… ed25519 public key (checks the v1a signatures)")
    .option('--headers <file>', 'the request headers: "Name: value" lines (a raw request works too) or a JSON object; - for stdin')
    .option('--body <file>', 'the raw request body, byte for byte (default: what follows the headers in the headers file); - for stdin')
    .option('--tolerance <seconds>', `allowed clock difference (default ${DEFAULT_TOLERANCE_SEC})`)
    .option('--now <time>', 'check as of this time (unix seconds or ISO-8601), e.g. the capture time')
    .option('--json', 'print {"ok","message_id","topic","checks","causes","secret_forms"}')
    .addHelpText(
      'after',
      `
Example:
  storehook verify --uuid 0b5c6b0e-8f0e-4d7c-9f1a-2b3c4d5e6f70 --headers headers.txt --body body.json
  storehook verify --secret whsec_… --headers request.txt --now 1714634172 --json
  storehook verify --secret whpk_… --headers request.txt   (a subscription that signs with ed25519)
${EXIT_CODES_HELP}`,
    )
    .action((flags: VerifyFlags) => verifyAction(flags));
  usageExit(verify);
}
