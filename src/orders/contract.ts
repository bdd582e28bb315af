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

const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);


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

export const CustomerInformation = Type.Object({ ...addressFields, vat_code: Text(60) }, { title: 'CustomerInformation' });
export const ShippingAddress = Type.Object(addressFields, { title: 'ShippingAddress' });
export type CustomerInformation = Static<typeof CustomerInformation>;
export type ShippingAddress = Static<typeof ShippingAddress>;

export const OrderProduct = Type.Object({
  id: Type.Integer(),
  order_id: Type.Integer(),
  created_at: Time,
  updated_at: Time,
  delivered_at: Type.Union([Time, Type.Null()], { description: "when the row's shipment was completed" }),
  product_id: Type.Union([Type.Integer(), Type.Null()], { description: 'the catalogue product, when the order gave one' }),
  variation_id: NullableInt,
  bundle_id: NullableInt,
  campaign_id: NullableInt,
  product_code: Type.String(),
  product_name: Type.String(),
  model_name: NullableString,
  quantity: Type.Integer(),
  unit_price: Money,
  purchase_price: Type.Union([Money, Type.Null()], { description: 'unit purchase price without VAT, when known' }),
  vat_rate: Type.Number({ description: 'VAT percent, e.g. 25.5' }),
  total: Money,
  warranty: NullableString,
  custom_data: Type.Union([Type.String(), Type.Null()], { description: 'free text the integration stored on the row (a string, as in MyCashflow)' }),
  customizations: Type.Union([Type.String(), Type.Null()], { description: "the customer's product customizations as text" }),
  shipment_id: NullableInt,
  return_to_stock: Type.Union([Type.Boolean(), Type.Null()], { description: 'storehook has no returns: always null' }),
  download_id: NullableInt,
  download_url: NullableString,
  download_time_ends: NullableTime,
  download_times_left: NullableInt,
  return_reasons: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'only with expand=products.return_reasons; empty until returns exist' })),
}, { title: 'OrderProduct' });

export const ShipmentDocument = Type.Object({ type: Type.String(), url: Type.String() }, { title: 'ShipmentDocument' });

export const Shipment = Type.Object({
  id: Type.Integer(),
  order_id: Type.Integer(),
  created_at: Time,
  updated_at: Time,
  completed_at: NullableTime,
  type: Type.Union([Type.String(), Type.Null()], { description: 'free text, e.g. delivery or pickup; null unless the order gave one' }),
  status: Type.Union([Type.Literal('OPEN'), Type.Literal('COMPLETED')]),
  tracking_code: NullableString,
  shipping_method_id: NullableInt,
  parcel_count: Type.Integer(),
  weight: Type.Number({ description: 'kilograms' }),
  external_id: NullableString,
  external_pickup_point_id: Type.Union([Type.String(), Type.Null()], { description: "the carrier's pickup point id" }),
  shipping_label_url: NullableString,
  documents: Type.Array(ShipmentDocument, { description: 'shipping documents; storehook makes none, so always []' }),
}, { title: 'Shipment' });

export const Payment = Type.Object({
  id: Type.Integer(),
  order_id: Type.Integer(),
  created_at: Time,
  updated_at: Time,
  payment_method_id: Type.Union([Type.Integer(), Type.Null()]),
  reference: Type.String(),
  external_id: Type.Union([Type.String(), Type.Null()], { description: "the payment provider's id" }),
  amount: Money,
  currency: Type.String(),
  exchange_rate: Type.Union([Type.Number(), Type.Null()], { description: 'as the order gave it; null when none was given' }),
  status: Type.Union([Type.Literal('OPEN'), Type.Literal('PENDING_ACTIVATION'), Type.Literal('PAID'), Type.Literal('REFUNDED'), Type.Literal('CANCELLED')]),
  is_confirmed: Type.Boolean({ description: 'the payment was received: PENDING_ACTIVATION, PAID or REFUNDED' }),
  is_paid: Type.Boolean({ description: 'status is PAID' }),
}, { title: 'Payment' });

export const Comment = Type.Object({
  id: Type.Integer(),
  order_id: Type.Integer(),
  created_at: Time,
  user_id: Type.Union([Type.Integer(), Type.Null()]),
  visibility: Type.Union([Type.Literal('PUBLIC'), Type.Literal('PRIVATE')]),
  text: Type.String(),
}, { title: 'Comment' });

export const OrderEvent = Type.Object({
  id: Type.Integer(),
  created_at: Time,
  code: Type.String(),
  message: Type.String(),
  data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
}, { title: 'OrderEvent' });

const TaxLine = Type.Object({
  tax_rate: Type.Number(),
  total: Money,
  total_tax: Money,
  total_without_tax: Money,
}, { title: 'TaxLine' });
export const TaxSummary = Type.Object({
  subtotal: Type.Array(TaxLine),
  discount: Type.Array(TaxLine),
  shipping_costs: Type.Array(TaxLine),
  payment_costs: Type.Array(TaxLine),
  total: Type.Array(TaxLine),
}, { title: 'TaxSummary' });

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
    customer_external_id: Type.Union([Type.String(), Type.Null()], { description: "the customer's id in another system" }),
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
    receipt_url: Type.Union([Type.String(), Type.Null()], { description: 'storehook makes no documents: always null' }),
    return_document_url: Type.Union([Type.String(), Type.Null()], { description: 'always null (no documents)' }),
    dispatch_note_url: Type.Union([Type.String(), Type.Null()], { description: 'always null (no documents)' }),
    custom_data: Type.Unknown({ description: 'any JSON the integration stored' }),
    products: Type.Optional(Type.Array(OrderProduct)),
    shipments: Type.Optional(Type.Array(Shipment)),
    payments: Type.Optional(Type.Array(Payment)),
    comments: Type.Optional(Type.Array(Comment)),
    events: Type.Optional(Type.Array(OrderEvent)),
    tax_summary: Type.Optional(TaxSummary),
  },
  { title: 'Order' },
);
export type Order = Static<typeof Order>;
export type OrderProduct = Static<typeof OrderProduct>;
export type Shipment = Static<typeof Shipment>;
export type ShipmentDocument = Static<typeof ShipmentDocument>;
export type Payment = Static<typeof Payment>;
export type Comment = Static<typeof Comment>;
export type OrderEvent = Static<typeof OrderEvent>;
export type TaxSummary = Static<typeof TaxSummary>;

// ---- request bodies ------------------------------------------------------------------------

const PriceInput = Type.Number({ minimum: 0, maximum: 10_000_000, description: 'at most two decimals' });
const OptionalId = Type.Union([Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 }), Type.Null()]);
const AddressInput = Type.Partial(ShippingAddress, { additionalProperties: false, title: 'AddressInput' });
const CustomerInput = Type.Partial(CustomerInformation, { additionalProperties: false, title: 'CustomerInformationInput' });
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
    customer_external_id: Type.Optional(Nullable(Text(200))),
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
          product_id: Type.Optional(OptionalId),
          variation_id: Type.Optional(OptionalId),
          bundle_id: Type.Optional(OptionalId),
          campaign_id: Type.Optional(OptionalId),
          model_name: Type.Optional(Nullable(Text(500))),
          purchase_price: Type.Optional(Type.Union([PriceInput, Type.Null()])),
          warranty: Type.Optional(Nullable(Text(500))),
          custom_data: Type.Optional(Nullable(Text(65_536, 'free text, e.g. JSON your integration reads back'))),
          customizations: Type.Optional(Nullable(Text(5000))),
        },
        { additionalProperties: false, title: 'OrderProductInput' },
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
          type: Type.Optional(Nullable(Text(100))),
          external_id: Type.Optional(Nullable(Text(200))),
          external_pickup_point_id: Type.Optional(Nullable(Text(200))),
        },
        { additionalProperties: false, title: 'ShipmentInput' },
      ),
    ),
    payment: Type.Optional(
      Type.Object(
        {
          status: Type.Optional(Type.Union([Type.Literal('OPEN'), Type.Literal('PENDING_ACTIVATION'), Type.Literal('PAID')], { description: 'default PAID' })),
          reference: Type.Optional(Text(100)),
          external_id: Type.Optional(Nullable(Text(200))),
          exchange_rate: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }), Type.Null()])),
        },
        { additionalProperties: false, title: 'PaymentInput' },
      ),
    ),
  },
  { additionalProperties: false, title: 'CreateOrderBody' },
);
export type CreateOrderBody = Static<typeof CreateOrderBody>;

export const PatchOrderBody = Type.Object(
  {
    external_id: Type.Optional(Nullable(Text(200))),
    customer_external_id: Type.Optional(Nullable(Text(200))),
    details: Type.Optional(Nullable(Text(5000))),
    custom_data: Type.Optional(CustomData),
    customer_information: Type.Optional(CustomerInput),
    shipping_address: Type.Optional(AddressInput),
  },
  { additionalProperties: false, minProperties: 1, title: 'PatchOrderBody' },
);
export type PatchOrderBody = Static<typeof PatchOrderBody>;

export const QuickProcessBody = Type.Object(
  {
    tracking_code: Type.Optional(Nullable(Text(200))),
    send_emails: Type.Optional(Type.Boolean()),
    allow_open_cash_on_delivery_payments: Type.Optional(Type.Boolean()),
    ignore_payment_activation_errors: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, title: 'QuickProcessBody' },
);
export type QuickProcessBody = Static<typeof QuickProcessBody>;

export const CompleteShipmentBody = Type.Object(
  { tracking_code: Type.Optional(Nullable(Text(200))) },
  { additionalProperties: false, title: 'CompleteShipmentBody' },
);
export type CompleteShipmentBody = Static<typeof CompleteShipmentBody>;

export const CreateCommentBody = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: 10_000 }),
    visibility: Type.Optional(Type.Union([Type.Literal('PUBLIC'), Type.Literal('PRIVATE')], { description: 'default PRIVATE' })),
  },
  { additionalProperties: false, title: 'CreateCommentBody' },
);
export type CreateCommentBody = Static<typeof CreateCommentBody>;
