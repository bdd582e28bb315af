import type { Dialect } from '../connection.js';
import type { AnyDb } from './index.js';

/**
 * The store's event feed (docs/integrators.md, `storehook listen`): one row per topic an order
 * change emitted, appended by the outbox in the change's own transaction. The live-stream
 * endpoint reads it by id; rows older than 7 days are pruned in small batches.
 */
export function storeEventsSchema(dialect: Dialect) {
  return {
    async up(db: AnyDb): Promise<void> {
      const table = db.schema.createTable('store_events');
      await (dialect === 'postgres'
        ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
        : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      )
        .addColumn('store_id', 'bigint', (c) => c.notNull())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('order_id', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // The stream reads "this store's events after id N"; pruning reads by age.
      await db.schema.createIndex('store_events_store_id').on('store_events').columns(['store_id', 'id']).execute();
      await db.schema.createIndex('store_events_created_at').on('store_events').column('created_at').execute();
    },
  };
}
