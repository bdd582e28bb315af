// `storehook listen` end to end, with real processes: a storehook server, `storehook listen`
// (through a TCP proxy the test can cut), and the node:http example receiver verifying with the
// session secret. Covers forwarding, a receiver that is down, a network drop and a server restart
// (nothing missed, nothing twice), Ctrl-C, human output, and bad input.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { StorehookClient } from '../../src/client/index.js';
import { forEachDialect } from '../helpers/database.js';
import { CuttableProxy, eventually, freePort, runCli, spawnCli, startExample, startStorehook, type Proc, type StorehookServer } from '../helpers/toolkit-processes.js';

const WAIT = 45_000;
const orderInput = (name: string) => ({ customer_information: { first_name: name, last_name: 'Virtanen' }, products: [{ product_code: 'TEA', product_name: 'Green tea', quantity: 1, unit_price: 7.5 }] });

forEachDialect('storehook listen end to end', (dialect) => {
  let server: StorehookServer;
  let api: StorehookClient;
  let proxy: CuttableProxy;
  let proxyUrl: string;
  let secret: string;
  let receiverPort: number;
  let receiver: Proc & { url: string };
  let listen: Proc;
  /** store event ids this suite has caused so far */
  let expectedEvents = 0;

  const events = () => listen.jsonLines().filter((l) => l.type === 'event');
  const processedIds = (p: Proc) => [...p.stdout().matchAll(/processed (\S+) (evt_\d+)/g)].map((m) => m[2]!);

  before(async () => {
    server = await startStorehook(dialect);
    api = new StorehookClient({ baseUrl: server.url, email: server.email, apiKey: server.apiKey });
    proxy = new CuttableProxy(server.port);
    proxyUrl = `http://127.0.0.1:${await proxy.start()}`;
    const env = { ...server.cliEnv, STOREHOOK_URL: proxyUrl };
    const printed = await runCli(['listen', '--print-secret'], env);
    assert.equal(printed.code, 0, printed.stderr);
    secret = printed.stdout.trim();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    receiverPort = await freePort();
    receiver = await startExample('node-http', secret, receiverPort);
    listen = spawnCli(['listen', '--forward-to', receiver.url, '--expand', 'products', '--json'], env);
    await listen.waitFor(/"type":"ready"/, WAIT);
  });

  after(async () => {
    await listen?.stop('SIGKILL');
    await receiver?.stop();
    await proxy?.close();
    await server?.cleanup();
  });

  it('prints each event and forwards it, signed with the session secret it printed, to the receiver', async () => {
    const lines = listen.jsonLines();
    assert.equal(lines.find((l) => l.type === 'secret')!.secret, secret, 'the secret printed at start is the one --print-secret gives');
    const a = await api.orders.create(orderInput('Aino'));
    const b = await api.orders.create(orderInput('Eino'));
    expectedEvents += 2;
    await eventually('the receiver processed both', () => processedIds(receiver).length >= 2, WAIT);
    const got = events();
    assert.deepEqual(got.map((e) => e.event.data.id), [a.id, b.id]);
    assert.deepEqual(got.map((e) => e.topic), ['order.created', 'order.created']);
    assert.match(got[0]!.summary, new RegExp(`^order ${a.id} · OPEN · 7\\.50 EUR · Aino Virtanen · 1 product$`));
    assert.equal(got[0]!.event.data.products.length, 1, '--expand products');
    const forwards = listen.jsonLines().filter((l) => l.type === 'forward');
    assert.ok(forwards.length >= 2 && forwards.every((f) => f.ok && f.status === 200 && typeof f.duration_ms === 'number'));
    assert.deepEqual(processedIds(receiver), got.map((e) => e.id));
  });

  it('keeps an event while the receiver is down, and forwards it once the receiver is back', async () => {
    await receiver.stop();
    const order = await api.orders.create(orderInput('Kaisa'));
    expectedEvents += 1;
    const failed = await eventually('a failed forward', () => listen.jsonLines().find((l) => l.type === 'forward' && !l.ok && l.id === `evt_${expectedEvents}`), WAIT);
    assert.match(failed.error, /connection refused: is your receiver running\?/);
    assert.equal(failed.dropped, false);
    assert.ok(failed.retry_in_ms > 0);
    receiver = await startExample('node-http', secret, receiverPort);
    await receiver.waitFor(new RegExp(`processed order\\.created evt_${expectedEvents}`), WAIT);
    assert.equal(events().at(-1)!.event.data.id, order.id);
  });

  it('reconnects after the network drops and misses nothing committed meanwhile', async () => {
    const before = listen.jsonLines().filter((l) => l.type === 'disconnected').length;
    await proxy.cut();
    await eventually('listen noticed', () => listen.jsonLines().filter((l) => l.type === 'disconnected').length > before, WAIT);
    // While listen is cut off: five events (three orders, and a cancel emits two).
    const orders = [];
    for (const name of ['Liisa', 'Matti', 'Pekka']) orders.push(await api.orders.create(orderInput(name)));
    await api.orders.cancel(orders[1]!.id);
    expectedEvents += 5;
    await proxy.resume();
    await eventually(`all ${expectedEvents} events`, () => events().length >= expectedEvents, WAIT);
    await eventually('all forwarded', () => processedIds(receiver).includes(`evt_${expectedEvents}`), WAIT);
    const ids = events().map((e) => Number(e.event_id));
    assert.deepEqual(ids, Array.from({ length: expectedEvents }, (_, i) => i + 1), 'every event once, in order');
    const disconnected = listen.jsonLines().filter((l) => l.type === 'disconnected').at(-1)!;
    assert.equal(disconnected.last_event_id, expectedEvents - 5, 'it resumed after the last event it had seen');
    assert.deepEqual(events().slice(-5).map((e) => e.topic), ['order.created', 'order.created', 'order.created', 'order.cancelled', 'order.updated']);
  });

  it('survives a server restart: told it is shutting down, reconnects, resumes', async () => {
    const before = listen.jsonLines().filter((l) => l.type === 'disconnected').length;
    await server.restart();
    const order = await api.orders.create(orderInput('Ritva'));
    expectedEvents += 1;
    await eventually('the event after the restart', () => events().some((e) => e.event.data.id === order.id), WAIT);
    const drops = listen.jsonLines().filter((l) => l.type === 'disconnected').slice(before);
    assert.ok(drops.length >= 1);
    assert.equal(drops[0]!.reason, 'the server is shutting down');
    await eventually('forwarded', () => processedIds(receiver).includes(`evt_${expectedEvents}`), WAIT);
    const ids = events().map((e) => Number(e.event_id));
    assert.deepEqual(ids, Array.from({ length: expectedEvents }, (_, i) => i + 1));
    assert.doesNotMatch(receiver.stdout(), /duplicate/, 'nothing was forwarded twice');
  });

  it('stops on Ctrl-C with a summary, exit code 0', async () => {
    const code = await listen.stop('SIGINT');
    assert.equal(code, 0);
    const stopped = listen.jsonLines().at(-1)!;
    assert.equal(stopped.type, 'stopped');
    assert.equal(stopped.received, expectedEvents);
    assert.equal(stopped.forwarded, expectedEvents);
    assert.equal(stopped.waiting, 0);
    assert.equal(stopped.last_event_id, expectedEvents);
  });

  if (dialect === 'sqlite') {
    it('prints readable lines for people, and replays with --since-id', async () => {
      const human = spawnCli(['listen', '--topic', 'order.created', '--since-id', String(expectedEvents - 1), '--forward-to', receiver.url], { ...server.cliEnv, STOREHOOK_URL: proxyUrl });
      try {
        await human.waitFor(/Ready: store "demo", topics: order\.created, replaying from after event \d+\. Waiting for events \(Ctrl-C to quit\)\./, WAIT);
        assert.match(human.stdout(), /^storehook listen: http:\/\/127\.0\.0\.1:\d+ as demo@storehook\.local\nSession secret: whsec_\S+ {2}\(/);
        // The replayed event is the one after the restart; then a new one arrives live.
        await human.waitFor(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}order\.created {12}evt_\d+ +order \d+ · OPEN · 7\.50 EUR · Ritva Virtanen/, WAIT);
        await api.orders.create(orderInput('Sanna'));
        await human.waitFor(/order\.created {12}evt_\d+ +order \d+ · OPEN · 7\.50 EUR · Sanna Virtanen/, WAIT);
        await human.waitFor(/ {4}→ evt_\d+ 200 POST http:\/\/127\.0\.0\.1:\d+\/hooks \(\d+ ms\)/, WAIT);
        await human.waitFor(/→ evt_\d+ 200 POST .*\n(?:.*\n)*.*→ evt_\d+ 200 POST/, WAIT);
        assert.equal(await human.stop('SIGINT'), 0);
        assert.match(human.stdout(), /Stopped: 2 events received, 2 forwarded\.\nTo continue later where this stopped: --since-id \d+\n$/);
      } finally {
        await human.stop('SIGKILL');
      }
    });

    it('ends bad input with one clear line and a documented exit code', async () => {
      const closed = await freePort();
      const runs = await Promise.all([
        runCli(['listen', '--topic', 'order.shipped'], server.cliEnv),
        runCli(['listen'], { ...server.cliEnv, STOREHOOK_API_KEY: 'shk_wrong' }),
        runCli(['listen', '--url', `http://127.0.0.1:${closed}`], server.cliEnv),
        runCli(['listen', '--url', receiver.url.replace(/\/hooks$/, '')], server.cliEnv),
        runCli(['listen', '--forward-to', 'localhost:3000'], server.cliEnv),
      ]);
      const [topic, creds, nothing, notStorehook, badForward] = runs;
      const oneLine = (r: (typeof runs)[number], code: number, re: RegExp) => {
        assert.equal(r.code, code, r.stdout + r.stderr);
        assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
        assert.match(r.stderr, re);
      };
      oneLine(topic!, 2, /^storehook: unknown topic "order\.shipped"; topics: order\.created, /);
      oneLine(creds!, 3, /refused the credentials \(401\): check --email\/STOREHOOK_EMAIL and --key\/STOREHOOK_API_KEY/);
      oneLine(nothing!, 4, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${closed}: connection refused \\(is \`storehook serve\` running there\\? check --url/STOREHOOK_URL\\)`));
      oneLine(notStorehook!, 4, /has no live stream endpoint \(404.*is it a storehook server/);
      oneLine(badForward!, 2, /--forward-to must be an http:\/\/ or https:\/\/ URL|--forward-to "localhost:3000" is not a URL/);
    });

    it('has --help with an example and the exit codes', async () => {
      const help = await runCli(['listen', '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Example:\n {2}export STOREHOOK_URL=/);
      assert.match(help.stdout, /storehook listen --topic order\.created,order\.cancelled --expand products --forward-to http:\/\/localhost:3000\/hooks/);
      assert.match(help.stdout, /Exit codes:\n {2}0 {2}success/);
      assert.match(help.stdout, /\(env: STOREHOOK_API_KEY\)/);
    });
  }
});
