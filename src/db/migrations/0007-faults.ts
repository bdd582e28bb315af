import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/**
 * Two small tables for fault handling. `login_failures`: one row per failed login, so several API
 * processes on PostgreSQL share one failed-login limit per client address (rows older than a
 * minute are pruned). `storage_probe`: at most one row, rewritten by /healthz to find out whether
 * writes work again after the disk was full.
 */
export function faultsSchema(dialect: Dialect) {
  return {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable('login_failures')
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('login_failures_address_at').on('login_failures').columns(['address', 'at']).execute();
      await db.schema.createIndex('login_failures_at').on('login_failures').column('at').execute();
      await db.schema
        .createTable('storage_probe')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('filler', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
        .addColumn('written_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
