/**
 * What `storehook trigger <topic>` does (commands.ts registers it), around the scenarios of
 * trigger.ts: progress lines or --json, and one exit code. Loaded by its action only.
 */
import { EXIT, exitWith, makeClient, out, positiveInt, resolveServer, type Server, type ServerOptions } from './common.js';
import { checkOrderOption, describeTrigger, parseTopic, trigger, type TriggerStep } from './trigger.js';

export interface TriggerFlags extends ServerOptions {
  order?: string;
  json?: boolean;
}

export async function triggerCommand(topicRaw: string, flags: TriggerFlags): Promise<void> {
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
