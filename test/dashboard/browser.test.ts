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
/** the receiver fails the first delivery with a 500, then accepts everything. */
let received = 0;

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
    return received === 1
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
  // Readable at phone width: nothing scrolls sideways but the wide tables, inside their own box.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
  assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px at 390px wide`);
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
