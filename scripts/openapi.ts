// Prints the OpenAPI document (what GET /api/v1/openapi.json serves) without a running server:
// assembles the whole API in this process, as `storehook serve` does (every route plugin), on a
// throw-away SQLite database and a free loopback port, and writes `app.swagger()` to stdout.
//   node --import tsx scripts/openapi.ts > openapi.json && npx redocly lint openapi.json
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'storehook-openapi-'));
try {
  const config = { ...loadConfig({}, {}), dataDir, databaseUrl: undefined, host: '127.0.0.1', port: 0 };
  const server = await startServer({ config, api: true, dispatcher: false, seedDemo: false, logger: pino({ level: 'silent' }) });
  try {
    process.stdout.write(`${JSON.stringify(server.app.swagger(), null, 2)}\n`);
  } finally {
    await server.close();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
