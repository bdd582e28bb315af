#!/usr/bin/env bash
# Packs storehook, installs the tarball into an empty project and uses it as an integrator would:
# storehook/verify and storehook/client from ESM, CommonJS and TypeScript (nodenext and bundler
# resolution, skipLibCheck off, so the published types must stand alone), then `npx storehook
# --version`, and `storehook serve` delivering a webhook (its dispatcher runs in a worker thread,
# whose entry file must be found in dist/ as .js). Catches a missing dist/, a file left out of the
# `files` list, and types that need a devDependency.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

work=$(mktemp -d "${TMPDIR:-/tmp}/storehook-package-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== npm pack (runs the build)"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
size=$(stat -c %s "$work/$tarball")
echo "$tarball: $size bytes"
# what must and must not be in it
listing=$(tar -tzf "$work/$tarball")
for must in package/dist/cli.js package/dist/sdk/verify.js package/dist/cjs/sdk/verify.js package/dist/client/index.d.ts package/bin/storehook.js; do
  grep -qx "$must" <<<"$listing" || { echo "the tarball lacks $must" >&2; exit 1; }
done
if grep -E '^package/(src|test|bench|\.ci)/|\.map$' <<<"$listing"; then
  echo "the tarball ships files it should not (above)" >&2
  exit 1
fi

echo "== install into an empty project"
project=$work/project
mkdir -p "$project"
cd "$project"
printf '{ "name": "consumer", "version": "1.0.0", "private": true }\n' >package.json
# No install scripts: the checks below never open a database, and better-sqlite3 would otherwise
# compile for minutes. TypeScript and Node types come from the repository's own install.
npm install --silent --no-audit --no-fund --ignore-scripts "$work/$tarball"
ln -s "$root/node_modules/typescript" node_modules/typescript
mkdir -p node_modules/@types && ln -s "$root/node_modules/@types/node" node_modules/@types/node

echo "== ESM import"
cat >esm.mjs <<'JS'
import { verify, WebhookVerificationError } from 'storehook/verify';
import { StorehookClient, ApiError } from 'storehook/client';
if (typeof verify !== 'function' || typeof WebhookVerificationError !== 'function') throw new Error('storehook/verify: missing exports');
if (typeof StorehookClient !== 'function' || typeof ApiError !== 'function') throw new Error('storehook/client: missing exports');
console.log('ESM: ok');
JS
node esm.mjs

echo "== CommonJS require"
cat >cjs.cjs <<'JS'
const { verify } = require('storehook/verify');
const { StorehookClient } = require('storehook/client');
if (typeof verify !== 'function' || typeof StorehookClient !== 'function') throw new Error('missing exports');
// the CommonJS build, not Node's require() of the ES module
if (!require.resolve('storehook/verify').includes('/dist/cjs/')) throw new Error(`require resolved ${require.resolve('storehook/verify')}`);
console.log('CommonJS: ok');
JS
node cjs.cjs

echo "== TypeScript (skipLibCheck: false)"
cat >use.ts <<'TS'
import { verify, WebhookVerificationError } from 'storehook/verify';
import { StorehookClient, ApiError, type Order, type Subscription } from 'storehook/client';

const client = new StorehookClient({ baseUrl: 'http://127.0.0.1:8080', email: 'erp@example.com', apiKey: 'shk_x' });
export async function firstOrder(): Promise<Order | undefined> {
  const page = await client.orders.list({ page_size: 1, status: 'open', sort: 'created_at-desc' });
  return page.data[0];
}
export const webhooks: Promise<Subscription[]> = client.webhooks.list().then((page) => page.data);
export function check(body: string, headers: Record<string, string>, secret: string): boolean {
  try {
    verify(body, headers, secret);
    return true;
  } catch (err) {
    if (err instanceof WebhookVerificationError || err instanceof ApiError) return false;
    throw err;
  }
}
TS
cp use.ts use.mts
cp use.ts use.cts
tsc=node_modules/typescript/bin/tsc
common='"strict": true, "skipLibCheck": false, "noEmit": true, "types": ["node"], "target": "ES2022"'
printf '{ "compilerOptions": { %s, "module": "nodenext", "moduleResolution": "nodenext" }, "files": ["use.mts", "use.cts"] }\n' "$common" >tsconfig.nodenext.json
printf '{ "compilerOptions": { %s, "module": "esnext", "moduleResolution": "bundler" }, "files": ["use.ts"] }\n' "$common" >tsconfig.bundler.json
node "$tsc" -p tsconfig.nodenext.json && echo 'TypeScript nodenext (ESM and CommonJS files): ok'
node "$tsc" -p tsconfig.bundler.json && echo 'TypeScript bundler: ok'

echo "== npx storehook --version"
version=$(npx --no-install storehook --version)
expected=$(node -p "require('$root/package.json').version")
[[ $version == "$expected" ]] || { echo "npx storehook --version printed '$version', expected '$expected'" >&2; exit 1; }
echo "storehook --version: $version"

echo "== storehook serve from the package delivers a webhook"
# The tarball was installed without install scripts: the repository's compiled better-sqlite3 stands in.
rm -rf node_modules/better-sqlite3
ln -s "$root/node_modules/better-sqlite3" node_modules/better-sqlite3
cat >serve.mjs <<'JS'
// Starts the installed `storehook serve` on an empty data dir, subscribes a local receiver, creates
// one order and waits for its webhook: the dispatcher thread really ran from dist/.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';

const deadline = setTimeout(() => fail('no webhook within 60 s'), 60_000);
let out = '';
const fail = (why) => {
  console.error(`storehook serve: ${why}\n${out}`);
  process.exit(1);
};
const received = new Promise((resolve) => {
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.end('ok');
      resolve({ headers: req.headers, body });
    });
  });
  receiver.listen(0, '127.0.0.1');
  receiver.unref();
  globalThis.receiverUrl = () => `http://127.0.0.1:${receiver.address().port}/hook`;
});
const env = { ...process.env, STOREHOOK_ALLOW_TARGETS: '127.0.0.0/8', LOG_LEVEL: 'warn' };
const dataDir = mkdtempSync(join(process.cwd(), 'data-')); // inside the check's temp dir, removed with it
const child = spawn('node_modules/.bin/storehook', ['serve', '--data-dir', dataDir, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
child.stdout.on('data', (d) => (out += d));
child.stderr.on('data', (d) => (out += d));
child.on('exit', (code) => fail(`exited (${code})`));
while (!/listening on (http:\/\/\S+)/.test(out) || !/API key:\s+\S+/.test(out)) await new Promise((r) => setTimeout(r, 100));
const url = /listening on (http:\/\/\S+)/.exec(out)[1];
const auth = `Basic ${Buffer.from(`${/e-mail:\s+(\S+)/.exec(out)[1]}:${/API key:\s+(\S+)/.exec(out)[1]}`).toString('base64')}`;
const call = async (path, body) => {
  const res = await fetch(`${url}/api/v1${path}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200) fail(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.json();
};
await call('/webhooks', { topic: 'order.created', url: globalThis.receiverUrl() });
const order = await call('/orders', {
  customer_information: { first_name: 'Paketti', last_name: 'Testi', email: 'package@example.com', country: 'FI' },
  products: [{ product_code: 'SKU-P', product_name: 'Package check', quantity: 1, unit_price: 1 }],
});
const hook = await received;
if (hook.headers['webhook-topic'] !== 'order.created' || JSON.parse(hook.body).data.id !== order.data.id) fail(`unexpected webhook: ${JSON.stringify(hook)}`);
clearTimeout(deadline);
child.removeAllListeners('exit');
child.kill('SIGTERM');
const code = await new Promise((r) => child.once('exit', r));
if (code !== 0) fail(`stopped with ${code}`);
console.log(`storehook serve: order ${order.data.id} delivered as ${hook.headers['webhook-id']}`);
JS
node serve.mjs
