/**
 * Customers and their groups: reading with the `customer_groups` expand, and every change in one
 * transaction that hands customer.created / customer.updated to the sink. E-mail is unique per store.
 */
import type { Kysely } from 'kysely';
import type { CreateCustomerBody, Customer, CustomerExpand, CustomerGroup, PatchCustomerBody } from './contract.js';
import type { ResourceEvent, ResourceEventSink } from '../catalogue/events.js';
import type { Database } from '../db/connection.js';
import { commitStamp } from '../db/commit-clock.js';
import type { CustomerGroupRow, CustomerRow, Schema } from '../db/schema.js';
import { inTransaction, type Tx } from '../db/transaction.js';
import { conflict, invalid, notFound } from '../errors.js';
import { isoTime } from '../time.js';
import type { CustomerTopic } from './topics.js';

type Db = Kysely<Schema>;

export interface CustomerContext {
  database: Database;
  storeId: number;
  sink: ResourceEventSink;
}

export function renderCustomerGroup(g: CustomerGroupRow): CustomerGroup {
  return { id: g.id, created_at: isoTime(g.created_at), updated_at: isoTime(g.updated_at), name: g.name, description: g.description };
}

/** Renders customers with their expansions, loading the groups of all of them in one query. */
export async function renderCustomers(db: Db, storeId: number, rows: CustomerRow[], expands: readonly CustomerExpand[]): Promise<Customer[]> {
  const withGroups = expands.includes('customer_groups');
  const links =
    withGroups && rows.length
      ? await db
          .selectFrom('customer_group_links')
          .innerJoin('customer_groups', 'customer_groups.id', 'customer_group_links.customer_group_id')
          .selectAll('customer_groups')
          .select('customer_group_links.customer_id')
          .where('customer_group_links.store_id', '=', storeId)
          .where('customer_group_links.customer_id', 'in', rows.map((r) => r.id))
          .orderBy('customer_groups.id')
          .execute()
      : [];
  return rows.map((c) => {
    const out: Customer = {
      id: c.id,
      created_at: isoTime(c.created_at),
      updated_at: isoTime(c.updated_at),
      email: c.email,
      first_name: c.first_name,
      last_name: c.last_name,
      company: c.company,
      vat_code: c.vat_code,
      phone: c.phone,
      street_address: c.street_address,
      postal_code: c.postal_code,
      city: c.city,
      country: c.country,
      language: c.language,
      external_id: c.external_id,
      newsletter: c.newsletter === 1,
    };
    if (withGroups) out.customer_groups = links.filter((l) => l.customer_id === c.id).map(renderCustomerGroup);
    return out;
  });
}

export async function findCustomer(db: Db, storeId: number, customerId: number): Promise<CustomerRow | undefined> {
  return db.selectFrom('customers').selectAll().where('store_id', '=', storeId).where('id', '=', customerId).executeTakeFirst();
}

function customerEvent(storeId: number, topic: CustomerTopic, customerId: number): ResourceEvent {
  return {
    storeId,
    topic,
    resource: 'customer',
    resourceId: customerId,
    async render(db, expands) {
      const row = await findCustomer(db, storeId, customerId);
      if (!row) throw new Error(`customer ${customerId} vanished inside its own transaction`);
      const [out] = await renderCustomers(db, storeId, [row], expands as CustomerExpand[]);
      return out;
    },
  };
}

async function checkEmailFree(tx: Tx, storeId: number, email: string, ownId?: number): Promise<void> {
  const taken = await tx.db.selectFrom('customers').select('id').where('store_id', '=', storeId).where('email', '=', email).executeTakeFirst();
  if (taken && taken.id !== ownId) throw conflict(`A customer with email "${email}" already exists (customer ${taken.id}); change that one with PATCH /api/v1/customers/${taken.id}.`);
}

async function linkGroups(tx: Tx, storeId: number, customerId: number, groupIds: number[]): Promise<void> {
  const wanted = [...new Set(groupIds)];
  if (wanted.length) {
    const found = await tx.db.selectFrom('customer_groups').select('id').where('store_id', '=', storeId).where('id', 'in', wanted).execute();
    const missing = wanted.filter((id) => !found.some((f) => f.id === id));
    if (missing.length) throw invalid('customer_group_ids', `no customer group ${missing.join(', ')} in this store (GET /api/v1/customer-groups lists them)`);
  }
  await tx.db.deleteFrom('customer_group_links').where('store_id', '=', storeId).where('customer_id', '=', customerId).execute();
  if (wanted.length) await tx.db.insertInto('customer_group_links').values(wanted.map((customer_group_id) => ({ store_id: storeId, customer_id: customerId, customer_group_id }))).execute();
}

const NEW_CUSTOMER = { first_name: '', last_name: '', company: '', vat_code: '', phone: '', street_address: '', postal_code: '', city: '', country: '', language: 'fi', external_id: null, newsletter: 0 };

type CustomerSet = Partial<Omit<CustomerRow, 'id' | 'store_id' | 'created_at'>>;

function customerColumns(body: PatchCustomerBody): CustomerSet {
  const { customer_group_ids: _groups, newsletter, ...fields } = body;
  const set: CustomerSet = {};
  for (const [key, value] of Object.entries(fields) as [keyof typeof fields, string | null | undefined][]) {
    if (value !== undefined) (set as Record<string, unknown>)[key] = value;
  }
  if (newsletter !== undefined) set.newsletter = newsletter ? 1 : 0;
  return set;
}

export async function createCustomer(ctx: CustomerContext, body: CreateCustomerBody): Promise<number> {
  return inTransaction(ctx.database, async (tx) => {
    await checkEmailFree(tx, ctx.storeId, body.email);
    const now = await commitStamp(tx, ctx.storeId);
    const row = await tx.db
      .insertInto('customers')
      .values({ ...NEW_CUSTOMER, ...customerColumns(body), email: body.email, store_id: ctx.storeId, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (body.customer_group_ids) await linkGroups(tx, ctx.storeId, row.id, body.customer_group_ids);
    await ctx.sink.publishResources(tx, [customerEvent(ctx.storeId, 'customer.created', row.id)], now);
    return row.id;
  });
}

export async function updateCustomer(ctx: CustomerContext, customerId: number, body: PatchCustomerBody): Promise<void> {
  await inTransaction(ctx.database, async (tx) => {
    if (!(await findCustomer(tx.db, ctx.storeId, customerId))) throw notFound('Customer', customerId);
    if (body.email !== undefined) await checkEmailFree(tx, ctx.storeId, body.email, customerId);
    const now = await commitStamp(tx, ctx.storeId);
    await tx.db.updateTable('customers').set({ ...customerColumns(body), updated_at: now }).where('store_id', '=', ctx.storeId).where('id', '=', customerId).execute();
    if (body.customer_group_ids) await linkGroups(tx, ctx.storeId, customerId, body.customer_group_ids);
    await ctx.sink.publishResources(tx, [customerEvent(ctx.storeId, 'customer.updated', customerId)], now);
  });
}
