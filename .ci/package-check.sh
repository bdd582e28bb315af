#!/usr/bin/env bash
# Packs storehook, installs the tarball into an empty project and uses it as an integrator would:
# storehook/verify and storehook/client from ESM, CommonJS and TypeScript (nodenext and bundler
# resolution, skipLibCheck off, so the published types must stand alone), then `npx storehook
# --version`. Catches a missing dist/, a file left out of the `files` list, and types that need a
# devDependency.
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
