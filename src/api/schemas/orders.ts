/**
 * The order resource as the API shows it (MyCashflow field names, SPEC §2). The same schemas
 * validate requests, shape responses, generate OpenAPI and type the client.
 */
import { Type, type Static } from 'typebox';

const Nullable = <T extends ReturnType<typeof Type.String>>(s: T) => Type.Union([s, Type.Null()]);
const Time = Type.String({ format: 'date-time', description: 'ISO-8601 with offset' });
const NullableTime = Type.Union([Time, Type.Null()]);
const Money = Type.Number({ description: 'amount in the order currency, two decimals' });
const Text = (max: number, description?: string) => Type.String({ maxLength: max, ...(description ? { description } : {}) });

export const ORDER_EXPANDS = ['products', 'shipments', 'payments', 'comments', 'events', 'tax_summary'] as const;
export type OrderExpand = (typeof ORDER_EXPANDS)[number];


const addressFields = {
  company: Text(200),
  first_name: Text(200),
  last_name: Text(200),
  street_address: Text(500),
  postal_code: Text(40),
  city: Text(200),
  country: Text(2, 'ISO 3166-1 alpha-2 country code, e.g. FI'),
  phone: Text(60),
  email: Text(320),
};

export const CustomerInformation = Type.Object({ ...addressFields, vat_code: Text(60) });
export const ShippingAddress = Type.Object(addressFields);
export type CustomerInformation = Static<typeof CustomerInformation>;
export type ShippingAddress = Static<typeof ShippingAddress>;

export const OrderProduct = Type.Object({
  id: Type.Integer(),
  order_id: Type.Integer(),
  created_at: Time,
  product_code: Type.String(),
  product_name: Type.String(),
  quantity: Type.Integer(),
  unit_price: Money,
  vat_rate: Type.Number({ description: 'VAT percent, e.g. 25.5' }),
  total: Money,
  shipment_id: Type.Union([Type.Integer(), Type.Null()]),
});

export const Shipment = Type.Object({
  id: Type.Integer(),
  order_id: Type.Integer(),
  created_at: Time,
  updated_at: Time,
  completed_at: NullableTime,
  status: Type.Union([Type.Literal('OPEN'), Type.Literal('COMPLETED')]),
  tracking_code: Type.Union([Type.String(), Type.Null()]),
  shipping_method_id: Type.Union([Type.Integer(), Type.Null()]),
  parcel_count: Type.Integer(),
  weight: Type.Number({ description: 'kilograms' }),
});

export const Payment = Type.Object({
  id: Type.Integer(),
  order_id: Type.Integer(),
  created_at: Time,
  updated_at: Time,
  payment_method_id: Type.Union([Type.Integer(), Type.Null()]),
  amount: Money,
  currency: Type.String(),
  status: Type.Union([Type.Literal('OPEN'), Type.Literal('PENDING_ACTIVATION'), Type.Literal('PAID'), Type.Literal('REFUNDED'), Type.Literal('CANCELLED')]),
  is_paid: Type.Boolean(),
  reference: Type.String(),
});

export const Comment = Type.Object({
  id: Type.Integer(),
  order_id: Type.Integer(),
  created_at: Time,
  user_id: Type.Union([Type.Integer(), Type.Null()]),
  visibility: Type.Union([Type.Literal('PUBLIC'), Type.Literal('PRIVATE')]),
  text: Type.String(),
});

export const OrderEvent = Type.Object({
  id: Type.Integer(),
  created_at: Time,
  code: Type.String(),
  message: Type.String(),
  data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

const TaxLine = Type.Object({
  tax_rate: Type.Number(),
  total: Money,
  total_tax: Money,
  total_without_tax: Money,
});
export const TaxSummary = Type.Object({
  subtotal: Type.Array(TaxLine),
  discount: Type.Array(TaxLine),
  shipping_costs: Type.Array(TaxLine),
  payment_costs: Type.Array(TaxLine),
  total: Type.Array(TaxLine),
});

export const Order = Type.Object(
  {
    id: Type.Integer(),
    created_at: Time,
    updated_at: Time,
    archived_at: NullableTime,
    shipments_completed_at: NullableTime,
    external_id: Type.Union([Type.String(), Type.Null()]),
    version_id: Type.Integer(),
    language: Type.String(),
    customer_id: Type.Union([Type.Integer(), Type.Null()]),
    customer_information: CustomerInformation,
    shipping_address: ShippingAddress,
    different_shipping_address: Type.Boolean(),
    shipping_method_id: Type.Union([Type.Integer(), Type.Null()]),
    payment_method_id: Type.Union([Type.Integer(), Type.Null()]),
    currency: Type.String(),
    subtotal: Money,
    shipping_costs: Money,
    payment_costs: Money,
    discount: Money,
    total: Money,
    status: Type.Union([Type.Literal('OPEN'), Type.Literal('COMPLETED'), Type.Literal('CANCELLED')]),
    details: Type.Union([Type.String(), Type.Null()]),
    custom_data: Type.Unknown({ description: 'any JSON the integration stored' }),
    products: Type.Optional(Type.Array(OrderProduct)),
    shipments: Type.Optional(Type.Array(Shipment)),
    payments: Type.Optional(Type.Array(Payment)),
    comments: Type.Optional(Type.Array(Comment)),
    events: Type.Optional(Type.Array(OrderEvent)),
    tax_summary: Type.Optional(TaxSummary),
  },
  { $id: 'Order' },
);
export type Order = Static<typeof Order>;
export type OrderProduct = Static<typeof OrderProduct>;
export type Shipment = Static<typeof Shipment>;
export type Payment = Static<typeof Payment>;
export type Comment = Static<typeof Comment>;
export type OrderEvent = Static<typeof OrderEvent>;
export type TaxSummary = Static<typeof TaxSummary>;

// ---- request bodies ------------------------------------------------------------------------

const PriceInput = Type.Number({ minimum: 0, maximum: 10_000_000, description: 'at most two decimals' });
const AddressInput = Type.Partial(ShippingAddress, { additionalProperties: false });
const CustomerInput = Type.Partial(CustomerInformation, { additionalProperties: false });
const CustomData = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Array(Type.Unknown()), Type.String({ maxLength: 65_536 }), Type.Null()], {
  description: 'free JSON (object, array, string or null), up to 64 KiB serialised',
});

export const CreateOrderBody = Type.Object(
  {
    external_id: Type.Optional(Nullable(Text(200))),
    language: Type.Optional(Type.String({ pattern: '^[a-z]{2}$', description: 'two-letter language code, e.g. fi' })),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. EUR' })),
    version_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    customer_id: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    customer_information: CustomerInput,
    shipping_address: Type.Optional(AddressInput),
    shipping_method_id: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    payment_method_id: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    products: Type.Array(
      Type.Object(
        {
          product_code: Type.String({ minLength: 1, maxLength: 100 }),
          product_name: Type.String({ minLength: 1, maxLength: 500 }),
          quantity: Type.Integer({ minimum: 1, maximum: 100_000 }),
          unit_price: PriceInput,
          vat_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'VAT percent, at most two decimals; default 25.5' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 500 },
    ),
    shipping_costs: Type.Optional(PriceInput),
    payment_costs: Type.Optional(PriceInput),
    discount: Type.Optional(PriceInput),
    details: Type.Optional(Nullable(Text(5000))),
    custom_data: Type.Optional(CustomData),
    shipment: Type.Optional(
      Type.Object(
        {
          tracking_code: Type.Optional(Nullable(Text(200))),
          parcel_count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          weight: Type.Optional(Type.Number({ minimum: 0, maximum: 100_000, description: 'kilograms' })),
        },
        { additionalProperties: false },
      ),
    ),
    payment: Type.Optional(
      Type.Object(
        {
          status: Type.Optional(Type.Union([Type.Literal('OPEN'), Type.Literal('PENDING_ACTIVATION'), Type.Literal('PAID')], { description: 'default PAID' })),
          reference: Type.Optional(Text(100)),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CreateOrderBody = Static<typeof CreateOrderBody>;

export const PatchOrderBody = Type.Object(
  {
    external_id: Type.Optional(Nullable(Text(200))),
    details: Type.Optional(Nullable(Text(5000))),
    custom_data: Type.Optional(CustomData),
    customer_information: Type.Optional(CustomerInput),
    shipping_address: Type.Optional(AddressInput),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchOrderBody = Static<typeof PatchOrderBody>;

export const QuickProcessBody = Type.Object(
  {
    tracking_code: Type.Optional(Nullable(Text(200))),
    send_emails: Type.Optional(Type.Boolean()),
    allow_open_cash_on_delivery_payments: Type.Optional(Type.Boolean()),
    ignore_payment_activation_errors: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type QuickProcessBody = Static<typeof QuickProcessBody>;

export const CompleteShipmentBody = Type.Object(
  { tracking_code: Type.Optional(Nullable(Text(200))) },
  { additionalProperties: false },
);
export type CompleteShipmentBody = Static<typeof CompleteShipmentBody>;

export const CreateCommentBody = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: 10_000 }),
    visibility: Type.Optional(Type.Union([Type.Literal('PUBLIC'), Type.Literal('PRIVATE')], { description: 'default PRIVATE' })),
  },
  { additionalProperties: false },
);
export type CreateCommentBody = Static<typeof CreateCommentBody>;
