/**
 * The one migration set, for SQLite and PostgreSQL alike. Each migration is a function of the
 * dialect because the two spell auto-increment ids differently; everything else is shared DDL.
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../connection.js';
import { initialSchema } from './0001-initial.js';
import { legacySchema } from './0002-legacy.js';
import { dashboardSchema } from './0003-dashboard.js';
import { storeEventsSchema } from './0004-store-events.js';
import { heldMessagesSchema } from './0005-held-messages.js';
import { orderModelSchema } from './0006-order-model.js';
import { faultsSchema } from './0007-faults.js';
import { deliveryLanesSchema } from './0008-delivery-lanes.js';
import { messageDeliveryFieldsSchema } from './0009-message-delivery-fields.js';
import { catalogueSchema } from './0010-catalogue.js';
import { signingKeysSchema } from './0011-signing-keys.js';
import { subscriptionHealthSchema } from './0012-subscription-health.js';
import { orderingSchema } from './0013-ordering.js';

export type MigrationFactory = (dialect: Dialect) => Migration;

// Kysely runs these in name order; never rename or edit one that has shipped: add a new one.
const ALL: Record<string, MigrationFactory> = {
  '0001-initial': initialSchema,
  '0002-legacy': legacySchema,
  '0003-dashboard': dashboardSchema,
  '0004-store-events': storeEventsSchema,
  '0005-held-messages': heldMessagesSchema,
  '0006-order-model': orderModelSchema,
  '0007-faults': faultsSchema,
  '0008-delivery-lanes': deliveryLanesSchema,
  '0009-message-delivery-fields': messageDeliveryFieldsSchema,
  '0010-catalogue': catalogueSchema,
  '0011-signing-keys': signingKeysSchema,
  '0012-subscription-health': subscriptionHealthSchema,
  '0013-ordering': orderingSchema,
};

export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return Object.fromEntries(Object.entries(ALL).map(([name, make]) => [name, make(dialect)]));
}

// Migrations see the database as it was at their time, not as the current typed schema.
export type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
