// End to end in a real browser (Debian's chromium driven by playwright-core), JavaScript OFF:
// an operator signs in, subscribes a local receiver, an order arrives through the API, the
// receiver fails it (500); from the overview the operator finds the failed message, sees why,
// resends it, and sees it delivered. Screenshots go to test-results/dashboard/ (git-ignored);
// with UPDATE_DOC_SCREENSHOTS=1 the ones the docs use are written to docs/images/ as well.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import pino from 'pino';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createApiUser, createStore } from '../../src/admin/stores.js';
import { loadConfig } from '../../src/config.js';
import { parseAllowList } from '../../src/delivery/network-guard.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const CHROMIUM = '/usr/bin/chromium';
// STACK.md: the flags for Debian's chromium in a container; the profile is a fresh temp folder.
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(process.cwd(), 'test-results', 'dashboard');
const DOC_IMAGES = join(process.cwd(), 'docs', 'images');
const skip = existsSync(CHROMIUM) ? false : `skipped: no chromium at ${CHROMIUM}; install it with "apt-get install -y --no-install-recommends chromium" (.ci/run does this)`;

let server: RunningServer;
let receiver: Receiver;
let context: BrowserContext;
let profile: string;
let dataDir: string;
let user: { email: string; apiKey: string };
/** the receiver fails the first delivery with a 500, then accepts everything (unless `failing`). */
let received = 0;
let failing = false;

/** At the current width, neither the page nor any box in it scrolls sideways. */
async function assertNoSidewaysScroll(page: Page, what: string): Promise<void> {
  const page_ = (await page.evaluate('[document.scrollingElement.scrollWidth, window.innerWidth]')) as [number, number];
  assert.ok(page_[0] <= page_[1], `${what} is ${page_[0]}px wide in a ${page_[1]}px window`);
  const boxes = (await page.evaluate(`[...document.querySelectorAll('.scroll, pre, table')].filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth)`)) as string[];
  assert.deepEqual(boxes, [], `${what}: boxes that scroll sideways`);
}

async function shot(page: Page, name: string, doc = false): Promise<void> {
  const file = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: !doc });
  if (doc && process.env['UPDATE_DOC_SCREENSHOTS'] === '1') await copyFile(file, join(DOC_IMAGES, `dashboard-${name}.png`));
}

before(async () => {
  if (skip) return;
  await mkdir(SHOTS, { recursive: true });
  if (process.env['UPDATE_DOC_SCREENSHOTS'] === '1') await mkdir(DOC_IMAGES, { recursive: true });
  dataDir = await mkdtemp(join(tmpdir(), 'storehook-e2e-'));
  profile = await mkdtemp(join(tmpdir(), 'storehook-chromium-'));
  receiver = await startReceiver(() => {
    received += 1;
    return received === 1 || failing
      ? { status: 500, headers: { 'content-type': 'text/plain' }, body: 'Order import failed: ERP database is locked (try again later)' }
      : { status: 200, body: 'imported' };
  });
  server = await startServer({
    config: {
      ...loadConfig({}, {}),
      port: 0,
      host: '127.0.0.1',
      dataDir,
      logLevel: 'silent',
      allowTargets: parseAllowList('127.0.0.0/8'),
      // Long enough that the dispatcher's own retry cannot deliver before the operator resends:
      // this test proves the resend path, not the retry schedule.
      retryBaseMs: 60_000,
      pollIntervalMs: 100,
    },
    dispatcher: true,
    api: true,
    seedDemo: false,
    logger: pino({ level: 'silent' }),
  });
  await createStore(server.database.kysely, { name: 'Kauppa', plan: 'advanced', timezone: 'Europe/Helsinki' });
  user = await createApiUser(server.database.kysely, 'Kauppa', 'operator@kauppa.example');
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    javaScriptEnabled: false,
    viewport: { width: 1100, height: 760 },
    locale: 'en-GB',
  });
});

after(async () => {
  await context?.close().catch(() => undefined);
  await server?.close().catch(() => undefined);
  await receiver?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('finds a failed message from the overview, sees why, resends it and sees it delivered (real chromium, no JavaScript)', { skip, timeout: 120_000 }, async () => {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);

  // Sign in with the store's API credentials.
  await page.goto(`${server.url}/`);
  assert.match(page.url(), /\/sign-in$/);
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('API key').fill(user.apiKey);
  await shot(page, 'sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview of Kauppa' }).waitFor();
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'storehook_session');
  assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
  assert.equal(session?.sameSite, 'Strict');

  // Subscribe the receiver to order.created, with products.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Subscriptions' }).click();
  await page.getByRole('link', { name: 'New subscription' }).click();
  await page.getByLabel('order.created', { exact: false }).check();
  await page.getByRole('button', { name: 'Next: receiver URL and contents' }).click();
  await page.getByLabel('Receiver URL').fill(receiver.url);
  await page.getByLabel('products', { exact: true }).check();
  await page.getByRole('button', { name: 'Create subscription' }).click();
  await page.getByText('Subscription created: order.created messages now go to').waitFor();
  await shot(page, 'subscription');

  // An order arrives through the API; the dispatcher delivers its message, and the receiver fails it.
  const res = await fetch(`${server.url}/api/v1/orders`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${user.email}:${user.apiKey}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      customer_information: { first_name: 'Maija', last_name: 'Meikäläinen', email: 'maija@example.com', city: 'Helsinki', country: 'FI' },
      products: [{ product_code: 'TSHIRT-M', product_name: 'T-shirt M', quantity: 2, unit_price: 19.99, vat_rate: 25.5 }],
      shipping_costs: 4.9,
    }),
  });
  assert.equal(res.status, 200);
  const orderId = ((await res.json()) as { data: { id: number } }).data.id;
  await receiver.waitFor(1, 10_000);
  // The attempt is recorded just after the receiver answers.
  for (let i = 0; i < 100; i++) {
    const a = await server.database.kysely.selectFrom('webhook_attempts').select('id').executeTakeFirst();
    if (a) break;
    await new Promise((r) => setTimeout(r, 50));
  }

  // The overview: the failing subscription, with the reason, and the failed message.
  await page.getByRole('link', { name: 'Overview' }).click();
  const attention = page.locator('#attention + *');
  await attention.getByText('HTTP 500 Internal Server Error').first().waitFor();
  await page.getByText(`order.created · order ${orderId}`).waitFor();
  await shot(page, 'overview', true);
  // Readable at phone width: nothing scrolls sideways, not the page and not a table in its box.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await assertNoSidewaysScroll(page, 'the overview');
  await page.getByRole('link', { name: 'open the latest failed message' }).waitFor();
  await shot(page, 'overview-phone', true);
  await page.setViewportSize({ width: 1100, height: 760 });

  // The message: why it failed, the response, the next retry.
  await page.getByRole('link', { name: 'open the latest failed message' }).click();
  await page.getByRole('heading', { level: 1, name: /^Message msg_/ }).waitFor();
  const why = page.getByRole('region', { name: 'Why it failed' });
  await why.getByText('HTTP 500 Internal Server Error on attempt 1', { exact: false }).waitFor();
  await why.getByText('ERP database is locked', { exact: false }).waitFor();
  assert.match(await page.locator('dl.facts').first().innerText(), /Next retry\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0[23]:00/);
  await shot(page, 'message-failed', true);

  // Resend: delivered.
  await page.getByRole('button', { name: 'Resend now' }).click();
  await page.getByText('Resend: delivered. The receiver answered HTTP 200').waitFor();
  assert.match(await page.locator('dl.facts').first().innerText(), /State\s+delivered/);
  await page.getByRole('heading', { name: 'Attempt 2: delivered' }).waitFor();
  await shot(page, 'message-delivered');
  assert.equal(receiver.requests.length, 2);
  assert.equal(receiver.requests[1]!.headers['webhook-id'], receiver.requests[0]!.headers['webhook-id'], 'the same webhook-id');
  assert.equal(receiver.requests[1]!.headers['webhook-attempt'], '2');

  // Nothing left to fix.
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.getByText('Nothing needs attention').waitFor();
  await shot(page, 'overview-after');

  // Sign out.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You are signed out.').waitFor();
  assert.ok(!(await context.cookies()).some((c) => c.name === 'storehook_session'));
});

it('triage: folded attempts, no sideways scroll at 390 px, search and filters, success rate, resend all failed, recover opened directly, one time format', { skip, timeout: 120_000 }, async () => {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const db = server.database.kysely;
  await page.goto(`${server.url}/`);
  await page.getByLabel('E-mail').fill(user.email);
  await page.getByLabel('API key').fill(user.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview of Kauppa' }).waitFor();
  const sub = await db.selectFrom('webhook_subscriptions').select('uuid').executeTakeFirstOrThrow();

  // Two orders whose messages fail for good; the first has 45 attempts, all the same 500.
  failing = true;
  const before = receiver.requests.length;
  const orders: number[] = [];
  for (const name of ['Aino', 'Eino']) {
    const res = await fetch(`${server.url}/api/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${user.email}:${user.apiKey}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customer_information: { first_name: name, last_name: 'Virtanen', email: `${name.toLowerCase()}@example.com`, city: 'Oulu', country: 'FI' }, products: [{ product_code: 'MUG', product_name: 'Mug', quantity: 1, unit_price: 12.5, vat_rate: 25.5 }] }),
    });
    assert.equal(res.status, 200);
    orders.push(((await res.json()) as { data: { id: number } }).data.id);
  }
  await receiver.waitFor(before + 2, 10_000);
  const failed = await (async () => {
    for (let i = 0; i < 200; i++) {
      const rows = await db.selectFrom('webhook_messages').select(['id', 'message_id', 'order_id']).where('order_id', 'in', orders).where('attempt_count', '=', 1).orderBy('id').execute();
      if (rows.length === 2) return rows;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the two first attempts were not recorded');
  })();
  const first = failed[0]!;
  const firstAttempt = await db.selectFrom('webhook_attempts').selectAll().where('message_row_id', '=', first.id).executeTakeFirstOrThrow();
  await db.insertInto('webhook_attempts').values(Array.from({ length: 44 }, (_, i) => ({ ...firstAttempt, id: undefined, attempt_number: i + 2, started_at: firstAttempt.started_at + (i + 1) * 1000 }))).execute();
  await db.updateTable('webhook_messages').set({ attempt_count: 45 }).where('id', '=', first.id).execute();
  await db.updateTable('webhook_messages').set({ status: 'failed', next_attempt_at: null }).where('id', 'in', failed.map((m) => m.id)).execute();

  // At phone width: the message page is short, every response body closed; nothing scrolls sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${server.url}/subscriptions/${sub.uuid}/messages/${first.message_id}`);
  await page.getByRole('heading', { name: 'Attempts 1–45: failed 45 times, HTTP 500 Internal Server Error' }).waitFor();
  assert.equal(await page.locator('details[open]').count(), 0, 'response bodies are closed');
  const height = Number(await page.evaluate('document.scrollingElement.scrollHeight'));
  assert.ok(height < 5000, `45 attempts fold into a page ${height}px tall at 390px`);
  await shot(page, 'message-folded-phone');
  await assertNoSidewaysScroll(page, 'the message page');
  await page.goto(`${server.url}/`);
  await assertNoSidewaysScroll(page, 'the overview with failed messages');
  await page.goto(`${server.url}/orders/${orders[0]}`);
  await page.getByRole('heading', { level: 1, name: `Order ${orders[0]}` }).waitFor();
  await assertNoSidewaysScroll(page, 'the order page');
  await shot(page, 'order-phone');
  await page.setViewportSize({ width: 1100, height: 760 });

  // Search from the overview: by order id, then by the webhook-id a receiver logged.
  await page.goto(`${server.url}/`);
  await page.getByLabel('Find a message by message id, webhook-id or order id').fill(String(orders[1]));
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('heading', { level: 1, name: 'Messages' }).waitFor();
  assert.deepEqual(await page.locator('tbody code.muted').allInnerTexts(), [failed[1]!.message_id]);
  const webhookId = String(receiver.requests[before]!.headers['webhook-id']);
  await page.getByLabel('Message id, webhook-id or order id').fill(webhookId);
  await page.getByRole('button', { name: 'Search' }).click();
  assert.deepEqual(await page.locator('tbody code.muted').allInnerTexts(), [webhookId]);
  // Filters: state and the HTTP status of the last attempt.
  await page.getByLabel('Message id, webhook-id or order id').fill('');
  await page.getByLabel('State').selectOption('failed');
  await page.getByLabel('HTTP status').fill('500');
  await page.getByRole('button', { name: 'Search' }).click();
  assert.deepEqual((await page.locator('tbody code.muted').allInnerTexts()).sort(), failed.map((m) => m.message_id).sort());
  await page.getByLabel('HTTP status').fill('2xx');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No messages match.').waitFor();
  // One time format: a text input, read as typed, in the format every page shows.
  assert.equal(await page.locator('#f-from').getAttribute('type'), 'text');
  await page.getByLabel('Created from').fill('2000-01-01 00:00');
  await page.getByLabel('State').selectOption('');
  await page.getByLabel('HTTP status').fill('');
  await page.getByRole('button', { name: 'Search' }).click();
  assert.equal(await page.getByLabel('Created from').inputValue(), '2000-01-01 00:00');
  const all = await db.selectFrom('webhook_messages').select('id').execute();
  assert.equal(await page.locator('tbody tr').count(), all.length);

  // The success rate of the last 24 hours, as the attempts say.
  const attempts = await db.selectFrom('webhook_attempts').select(['error_class']).execute();
  const ok = attempts.filter((a) => a.error_class === null).length;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Subscriptions' }).click();
  const rate = await page.locator('td[data-label="Delivered (24 h)"]').innerText();
  assert.equal(rate.replace(/\s+/g, ' ').trim(), `${Math.floor((ok / attempts.length) * 100)}% (${ok} of ${attempts.length} attempts)`);

  // Resend all failed: the count, then the confirmation; the dispatcher delivers them.
  await page.getByRole('link', { name: 'order.created', exact: true }).click();
  failing = false;
  await page.getByRole('link', { name: 'Resend all 2 failed…' }).click();
  await page.getByText('2 failed messages (every one of this subscription', { exact: false }).waitFor();
  await page.getByRole('button', { name: 'Send 2 messages again' }).click();
  await page.getByText('2 failed messages are queued again').waitFor();
  for (let i = 0; i < 200; i++) {
    const rows = await db.selectFrom('webhook_messages').select('status').where('id', 'in', failed.map((m) => m.id)).execute();
    if (rows.every((r) => r.status === 'delivered')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await page.goto(`${server.url}/messages?q=${orders[0]}`);
  assert.equal((await page.locator('tbody td[data-label="State"]').innerText()).trim(), 'delivered');

  // A message a worker holds right now: "sending", and no next attempt beside it.
  const now = Date.now();
  await db.updateTable('webhook_messages').set({ status: 'pending', locked_by: 'elsewhere', locked_until: now + 60_000, next_attempt_at: now + 60_000 }).where('id', '=', first.id).execute();
  await page.reload();
  assert.equal((await page.locator('tbody td[data-label="State"]').innerText()).trim(), 'sending');
  assert.equal((await page.locator('tbody td[data-label="Next attempt"]').innerText()).trim(), 'being sent now');
  await db.updateTable('webhook_messages').set({ status: 'delivered', locked_by: null, locked_until: null, next_attempt_at: null }).where('id', '=', first.id).execute();

  // Recover opened directly: the form, its times in the shown format; counting works from there.
  await page.goto(`${server.url}/subscriptions/${sub.uuid}/recover`);
  await page.getByRole('heading', { level: 1, name: 'Recover failed messages' }).waitFor();
  assert.match(await page.getByLabel('Created from').inputValue(), /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  await page.getByLabel('Created from').fill('2000-01-01 00:00');
  await page.getByRole('button', { name: 'Count failed messages' }).click();
  await page.getByText('0 failed messages created between 2000-01-01 00:00:00 +02:00', { exact: false }).waitFor();
  await shot(page, 'recover');
});
