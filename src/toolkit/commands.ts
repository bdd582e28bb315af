/**
 * The integrator commands: `storehook listen`, `storehook trigger`, `storehook verify`
 * (docs/integrators.md). Each has --help with an example, --json for scripts, and the exit codes
 * of EXIT (common.ts).
 *
 * Registration only: each action loads its command module (listen-command.ts, trigger-command.ts,
 * verify-command.ts) when it runs, so `--help` loads none of them.
 */
import { Option, type Command } from 'commander';
import { ORDER_EXPANDS } from '../orders/expands.js';
import { ORDER_TOPICS } from '../orders/topics.js';
import { DEFAULT_TOLERANCE_SEC } from '../sdk/verify.js';
import { EXIT_CODES_HELP, usageExit, withServerOptions } from './common.js';
import type { ListenFlags } from './listen-command.js';
import { describeTrigger, TRIGGER_TOPICS } from './trigger.js';
import type { TriggerFlags } from './trigger-command.js';
import type { VerifyFlags } from './verify-command.js';

function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
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
    .action(async (flags: ListenFlags) => (await import('./listen-command.js')).listenCommand(flags));
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
    .action(async (topic: string, flags: TriggerFlags) => (await import('./trigger-command.js')).triggerCommand(topic, flags));
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
    .action(async (flags: VerifyFlags) => (await import('./verify-command.js')).verifyCommand(flags));
  usageExit(verify);
}
