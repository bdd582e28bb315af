/**
 * Real storehook servers (the assembly of src/server.ts, listening on 127.0.0.1:0) on a fresh
 * database, for the fault tests: what holds across surfaces is wired there, not in buildApp.
 */
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { FreshDatabase } from '../helpers/database.js';

export async function serveOn(fresh: FreshDatabase, overrides: Partial<Config> = {}, logger = pino({ level: 'silent' })): Promise<RunningServer> {
  const config: Config = {
    ...loadConfig({}, {}),
    port: 0,
    dataDir: fresh.dataDir,
    databaseUrl: fresh.databaseUrl,
    ...overrides,
  };
  return startServer({ config, api: true, dispatcher: false, seedDemo: true, logger });
}

export const basic = (email: string, key: string) => `Basic ${Buffer.from(`${email}:${key}`).toString('base64')}`;
