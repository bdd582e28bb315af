/**
 * The customer resources as the API shows them (MyCashflow field names, docs/api.md "Customers"):
 * customers and customer groups. Orders name a customer by `customer_id`.
 */
import { Type, type Static } from 'typebox';

const Time = Type.String({ format: 'date-time', description: 'ISO-8601 with offset' });
const Text = (max: number) => Type.String({ maxLength: max });

export const CUSTOMER_EXPANDS = ['customer_groups'] as const;
export type CustomerExpand = (typeof CUSTOMER_EXPANDS)[number];

export const CustomerGroup = Type.Object(
  { id: Type.Integer(), created_at: Time, updated_at: Time, name: Type.String(), description: Type.String() },
  { title: 'CustomerGroup', additionalProperties: false },
);
export type CustomerGroup = Static<typeof CustomerGroup>;

const customerFields = {
  first_name: Text(200),
  last_name: Text(200),
  company: Text(200),
  vat_code: Text(60),
  phone: Text(60),
  street_address: Text(500),
  postal_code: Text(40),
  city: Text(200),
  country: Type.String({ maxLength: 2, description: 'ISO 3166-1 alpha-2 country code, e.g. FI' }),
  language: Type.String({ maxLength: 2, description: 'two-letter language code, e.g. fi' }),
};

export const Customer = Type.Object(
  {
    id: Type.Integer(),
    created_at: Time,
    updated_at: Time,
    email: Type.String(),
    ...customerFields,
    external_id: Type.Union([Type.String(), Type.Null()], { description: "the customer's id in another system" }),
    newsletter: Type.Boolean({ description: 'subscribed to the newsletter' }),
    customer_groups: Type.Optional(Type.Array(CustomerGroup, { description: 'only with expand=customer_groups' })),
  },
  { title: 'Customer', additionalProperties: false },
);
export type Customer = Static<typeof Customer>;

const Email = Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$', description: 'unique in the store' });
const inputFields = {
  first_name: Type.Optional(Text(200)),
  last_name: Type.Optional(Text(200)),
  company: Type.Optional(Text(200)),
  vat_code: Type.Optional(Text(60)),
  phone: Type.Optional(Text(60)),
  street_address: Type.Optional(Text(500)),
  postal_code: Type.Optional(Text(40)),
  city: Type.Optional(Text(200)),
  country: Type.Optional(Type.String({ pattern: '^([A-Z]{2})?$', description: 'ISO 3166-1 alpha-2 country code, e.g. FI' })),
  language: Type.Optional(Type.String({ pattern: '^[a-z]{2}$', description: 'two-letter language code, e.g. fi' })),
  external_id: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  newsletter: Type.Optional(Type.Boolean()),
  customer_group_ids: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 }), { maxItems: 100, description: 'the groups the customer is in (replaces the links)' })),
} as const;

export const CreateCustomerBody = Type.Object({ email: Email, ...inputFields }, { title: 'CreateCustomer', additionalProperties: false });
export type CreateCustomerBody = Static<typeof CreateCustomerBody>;
export const PatchCustomerBody = Type.Object({ email: Type.Optional(Email), ...inputFields }, { title: 'PatchCustomer', additionalProperties: false, minProperties: 1 });
export type PatchCustomerBody = Static<typeof PatchCustomerBody>;

export const CustomerGroupBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), description: Type.Optional(Text(10_000)) },
  { title: 'CustomerGroupInput', additionalProperties: false },
);
export type CustomerGroupBody = Static<typeof CustomerGroupBody>;
export const PatchCustomerGroupBody = Type.Partial(CustomerGroupBody, { title: 'PatchCustomerGroup', additionalProperties: false, minProperties: 1 });
