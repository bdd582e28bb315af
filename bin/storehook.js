#!/usr/bin/env node
// The installed package runs the compiled dist/. A repository checkout (it has src/) runs the
// TypeScript sources through tsx instead, so `npm start` and the tests never run a stale build.
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // Answered before loading the command and its database drivers: scripts and probes call it often.
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const source = new URL('../src/cli.ts', import.meta.url);
  if (existsSync(source)) {
    const { register } = await import('tsx/esm/api');
    register();
    await import(source.href);
  } else {
    await import('../dist/cli.js');
  }
}
