import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/**
 * Dashboard sessions (docs/dashboard.md). The cookie holds a random id; this table holds only its
 * SHA-256 (`id_hash`), the session's CSRF token, a one-shot flash message, and its times.
 */
export function dashboardSchema(_dialect: Dialect) {
  return {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable('dashboard_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('api_users.id').onDelete('cascade'))
        .addColumn('store_id', 'bigint', (c) => c.notNull().references('stores.id').onDelete('cascade'))
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('flash', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('dashboard_sessions_user').on('dashboard_sessions').column('user_id').execute();
      await db.schema.createIndex('dashboard_sessions_expiry').on('dashboard_sessions').column('expires_at').execute();
    },
  };
}
