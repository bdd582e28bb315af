/**
 * What `storehook listen` does (commands.ts registers it): stream the store's events and forward
 * them. Loaded by its action only.
 */
import { ORDER_EXPANDS } from '../orders/expands.js';
import { ORDER_TOPICS } from '../orders/topics.js';
import { EXIT, exitWith, out, positiveInt, resolveServer, ToolkitError, type Server, type ServerOptions } from './common.js';
import { ListenSession, sessionSecret } from './listen/session.js';

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

export interface ListenFlags extends ServerOptions {
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

export async function listenCommand(flags: ListenFlags): Promise<void> {
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
