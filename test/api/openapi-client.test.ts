// The OpenAPI document is usable by the tools integrators use: openapi-typescript generates types
// from the live document of a real server on 127.0.0.1, a small openapi-fetch client written
// against them typechecks (tsc, strict), and its calls work against that server.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { forEachDialect } from '../helpers/database.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';
import { PUBLIC_TARGET } from '../helpers/webhooks-app.js';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

// What an integrator would write. `id: created.id` only typechecks if path ids are integers, and
// the @ts-expect-error lines fail the build if a wrong call were accepted.
const CLIENT = `
import createClient from 'openapi-fetch';
import type { components, paths } from './schema.js';

type Order = components['schemas']['Order'];
type Subscription = components['schemas']['Subscription'];

export async function run(baseUrl: string, authorization: string, hookUrl: string): Promise<{ created: Order; one: Order; listed: number[]; hook: Subscription; missing: number }> {
  const client = createClient<paths>({ baseUrl, headers: { authorization } });
  const made = await client.POST('/api/v1/orders', {
    body: { customer_information: { first_name: 'Maija', email: 'maija@example.com' }, products: [{ product_code: 'A-1', product_name: 'Widget', quantity: 2, unit_price: 10.5 }] },
  });
  if (!made.data) throw new Error('create failed: ' + made.error?.message);
  const created: Order = made.data.data;
  const got = await client.GET('/api/v1/orders/{id}', { params: { path: { id: created.id }, query: { expand: 'products' } } });
  if (!got.data) throw new Error('get failed: ' + got.error?.message);
  const list = await client.GET('/api/v1/orders', { params: { query: { page_size: 10, sort: 'id-desc' } } });
  if (!list.data) throw new Error('list failed: ' + list.error?.message);
  const sub = await client.POST('/api/v1/webhooks', { body: { topic: 'order.created', url: hookUrl, expands: ['products'] } });
  if (!sub.data) throw new Error('subscribe failed: ' + sub.error?.message);
  const absent = await client.GET('/api/v1/orders/{id}', { params: { path: { id: 999999 } } });
  // @ts-expect-error path ids are integers, not strings
  await client.GET('/api/v1/orders/{id}', { params: { path: { id: String(created.id) } } });
  // @ts-expect-error an order needs its products
  await client.POST('/api/v1/orders', { body: { customer_information: {} } });
  return { created, one: got.data.data, listed: list.data.data.map((o) => o.id), hook: sub.data.data, missing: absent.response.status };
}
`;

const TSCONFIG = {
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM'], strict: true, noEmit: true, noUncheckedIndexedAccess: true, skipLibCheck: false, types: [] },
  files: ['client.ts'],
};

forEachDialect('a client generated from the OpenAPI document', (dialect) => {
  let s: LiveServer;
  let dir: string;
  before(async () => {
    s = await startLiveServer(dialect);
    dir = mkdtempSync(join(tmpdir(), 'storehook-openapi-client-'));
    // the generated client resolves openapi-fetch as an integrator's project would: from node_modules
    symlinkSync(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
  });
  after(async () => {
    await s?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('generates types from the live document, typechecks calls made with openapi-fetch, and the calls work', async () => {
    const baseUrl = `http://127.0.0.1:${s.port}`;
    const schema = astToString(await openapiTS(new URL(`${baseUrl}/api/v1/openapi.json`)));
    // the component names a generator sees
    for (const name of ['Order', 'Payment', 'Shipment', 'Subscription', 'Delivery', 'Error']) assert.match(schema, new RegExp(`\\b${name}: \\{`), `no ${name} type`);
    assert.doesNotMatch(schema, /"def-\d+"/);
    writeFileSync(join(dir, 'schema.d.ts'), schema);
    writeFileSync(join(dir, 'client.ts'), CLIENT);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');

    const checked = await promisify(execFile)(process.execPath, [tsc, '-p', dir]).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    assert.equal(checked, '', `tsc found errors in the generated client:\n${checked}`);

    // the same file, run against the server (this test runs under tsx, so it loads .ts)
    const client = (await import(pathToFileURL(join(dir, 'client.ts')).href)) as { run: (baseUrl: string, auth: string, hookUrl: string) => Promise<RunResult> };
    const result = await client.run(baseUrl, s.auth, `${PUBLIC_TARGET}/hooks`);
    assert.equal(result.one.id, result.created.id);
    assert.equal(result.one.products?.[0]?.product_code, 'A-1');
    assert.equal(result.listed[0], result.created.id);
    assert.equal(result.hook.topic, 'order.created');
    assert.match(result.hook.uuid, /^[0-9a-f-]{36}$/);
    assert.equal(result.missing, 404);
  });
});

interface RunResult {
  created: { id: number };
  one: { id: number; products?: { product_code: string }[] };
  listed: number[];
  hook: { topic: string; uuid: string };
  missing: number;
}
