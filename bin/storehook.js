#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so a clone works right after `npm install`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
