#!/usr/bin/env node
// The installed package runs the compiled dist/. A repository checkout (it has src/) runs the
// TypeScript sources through tsx instead, so `npm start` and the tests never run a stale build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli.js');
}
