/**
 * The catalogue resources as the API shows them (MyCashflow field names, docs/api.md
 * "Catalogue"): products, variations, stock items, the stock ledger and the small named
 * resources. The same schemas validate requests, shape responses, generate OpenAPI and type the
 * client. Money is a number with two decimals, VAT a percent, weight kilograms.
 */
import { Type, type Static } from 'typebox';

const Time = Type.String({ format: 'date-time', description: 'ISO-8601 with offset' });
const NullableTime = Type.Union([Time, Type.Null()]);
const Money = Type.Number({ description: 'amount in the store currency, two decimals' });
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);
const Text = (max: number, description?: string) => Type.String({ maxLength: max, ...(description ? { description } : {}) });
const NullableText = (max: number, description?: string) => Type.Union([Text(max), Type.Null()], description ? { description } : {});
const Code = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\s/?#%]([^/?#%]*[^\\s/?#%])?$', description: 'product code (SKU): 1-100 characters, no slash, ?, #, % or surrounding spaces; unique in the store across products and variations' });
const PriceInput = Type.Number({ minimum: 0, maximum: 10_000_000, description: 'at most two decimals' });
const RefId = Type.Union([Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 }), Type.Null()]);
const TimeInput = Type.Union([Type.String({ maxLength: 40, description: 'ISO-8601 date-time with offset' }), Type.Null()]);
const StockCount = Type.Integer({ minimum: -1_000_000_000, maximum: 1_000_000_000 });

export const PRODUCT_EXPANDS = ['variations', 'variations.stock_item', 'stock_item', 'brand', 'category_links', 'translations', 'visibilities', 'image_links'] as const;
export type ProductExpand = (typeof PRODUCT_EXPANDS)[number];
export const STOCK_ITEM_EXPANDS = ['product'] as const;
export type StockItemExpand = (typeof STOCK_ITEM_EXPANDS)[number];

export const StockItem = Type.Object(
  {
    id: Type.Integer(),
    product_id: Type.Integer(),
    variation_id: NullableInt,
    product_code: Type.String(),
    created_at: Time,
    updated_at: Time,
    quantity: Type.Integer({ description: 'units on the shelf' }),
    reserved: Type.Integer({ description: 'units open orders hold and have not shipped' }),
    balance: Type.Integer({ description: 'quantity − reserved: what can still be sold' }),
    balance_limit: Type.Integer({ description: 'the lowest balance an order may leave while backorders are off (default 0)' }),
    balance_alert: Type.Union([Type.Integer(), Type.Null()], { description: 'stock_item.low fires when the balance drops below this; null: no alert' }),
    backorder_enabled: Type.Boolean({ description: 'orders may take the balance below balance_limit' }),
    sku: NullableString,
    barcode: NullableString,
    location: NullableString,
    product: Type.Optional(Type.Unknown({ description: 'only with expand=product: the product, as GET /products/{id} shows it' })),
  },
  { title: 'StockItem', additionalProperties: false },
);
export type StockItem = Static<typeof StockItem>;

export const Variation = Type.Object(
  {
    id: Type.Integer(),
    product_id: Type.Integer(),
    created_at: Time,
    updated_at: Time,
    product_code: Type.String(),
    name: Type.String(),
    price: Type.Union([Money, Type.Null()], { description: "null: the product's price" }),
    purchase_price: Type.Union([Money, Type.Null()]),
    weight: Type.Union([Type.Number(), Type.Null()], { description: "kilograms; null: the product's weight" }),
    barcode: NullableString,
    sort: Type.Integer(),
    stock_item: Type.Optional(StockItem),
  },
  { title: 'Variation', additionalProperties: false },
);
export type Variation = Static<typeof Variation>;

export const Brand = Type.Object(
  { id: Type.Integer(), created_at: Time, updated_at: Time, name: Type.String(), description: Type.String(), website: NullableString },
  { title: 'Brand', additionalProperties: false },
);
export type Brand = Static<typeof Brand>;

export const CategoryLink = Type.Object({ category_id: Type.Integer(), sort: Type.Integer() }, { title: 'CategoryLink', additionalProperties: false });

export const Product = Type.Object(
  {
    id: Type.Integer(),
    created_at: Time,
    updated_at: Time,
    product_code: Type.String(),
    supplier_code: NullableString,
    external_id: NullableString,
    name: Type.String(),
    description: Type.String(),
    price: Money,
    purchase_price: Type.Union([Money, Type.Null()], { description: 'without VAT, when known' }),
    vat_rate: Type.Number({ description: 'VAT percent, e.g. 25.5' }),
    weight: Type.Number({ description: 'kilograms' }),
    brand_id: NullableInt,
    supplier_id: NullableInt,
    visible: Type.Boolean(),
    visible_from: NullableTime,
    available_from: NullableTime,
    available_to: NullableTime,
    barcode: NullableString,
    variations: Type.Optional(Type.Array(Variation)),
    stock_item: Type.Optional(StockItem),
    brand: Type.Optional(Type.Union([Brand, Type.Null()], { description: 'null when the product has no brand (MyCashflow sends [])' })),
    category_links: Type.Optional(Type.Array(CategoryLink)),
    translations: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'storehook keeps one language: always []' })),
    visibilities: Type.Optional(Type.Array(Type.Object({ version_id: Type.Integer(), visible: Type.Boolean() }), { description: 'one entry per store version' })),
    image_links: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'storehook keeps no images: always []' })),
  },
  { title: 'Product', additionalProperties: false },
);
export type Product = Static<typeof Product>;

export const StockChange = Type.Object(
  {
    id: Type.Integer(),
    changed_at: Time,
    stock_item_id: Type.Integer(),
    product_id: Type.Integer(),
    variation_id: NullableInt,
    product_code: Type.String(),
    reason: Type.Union([Type.Literal('created'), Type.Literal('manual'), Type.Literal('order_placed'), Type.Literal('order_cancelled'), Type.Literal('order_delivered')]),
    quantity_change: Type.Integer({ description: 'change of the shelf quantity' }),
    reserved_change: Type.Integer(),
    balance_change: Type.Integer({ description: 'quantity_change − reserved_change' }),
    quantity: Type.Integer({ description: 'quantity after the change' }),
    balance: Type.Integer({ description: 'balance after the change' }),
    order_id: NullableInt,
    user_id: NullableInt,
  },
  { title: 'StockChange', additionalProperties: false },
);
export type StockChange = Static<typeof StockChange>;

export const Supplier = Type.Object(
  { id: Type.Integer(), created_at: Time, updated_at: Time, name: Type.String(), email: NullableString, phone: NullableString, website: NullableString },
  { title: 'Supplier', additionalProperties: false },
);
export type Supplier = Static<typeof Supplier>;

export const Category = Type.Object(
  {
    id: Type.Integer(),
    created_at: Time,
    updated_at: Time,
    parent_id: NullableInt,
    name: Type.String(),
    description: Type.String(),
    sort: Type.Integer(),
    visible: Type.Boolean(),
    visibilities: Type.Optional(Type.Array(Type.Object({ version_id: Type.Integer(), visible: Type.Boolean() }))),
  },
  { title: 'Category', additionalProperties: false },
);
export type Category = Static<typeof Category>;

export const Campaign = Type.Object(
  {
    id: Type.Integer(),
    created_at: Time,
    updated_at: Time,
    name: Type.String(),
    description: Type.String(),
    starts_at: NullableTime,
    ends_at: NullableTime,
    discount_percent: Type.Union([Type.Number(), Type.Null()]),
    prices: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'storehook keeps no campaign prices: always []' })),
    visibilities: Type.Optional(Type.Array(Type.Object({ version_id: Type.Integer(), visible: Type.Boolean() }))),
  },
  { title: 'Campaign', additionalProperties: false },
);
export type Campaign = Static<typeof Campaign>;

export const Version = Type.Object(
  { id: Type.Integer(), created_at: Time, updated_at: Time, name: Type.String(), language: Type.String(), currency: Type.String() },
  { title: 'Version', additionalProperties: false },
);
export type Version = Static<typeof Version>;

export const PaymentMethod = Type.Object(
  { id: Type.Integer(), created_at: Time, updated_at: Time, name: Type.String(), description: Type.String(), username: NullableString, product_code: NullableString, sort: Type.Integer(), provider: NullableString },
  { title: 'PaymentMethod', additionalProperties: false },
);
export type PaymentMethod = Static<typeof PaymentMethod>;

export const ShippingMethod = Type.Object(
  {
    id: Type.Integer(),
    created_at: Time,
    updated_at: Time,
    name: Type.String(),
    type: NullableString,
    service_provider: NullableString,
    service_code: NullableString,
    product_code: NullableString,
    description: Type.String(),
    tracking_info: NullableString,
    free_shipping_threshold: Type.Union([Money, Type.Null()]),
    sort: Type.Integer(),
  },
  { title: 'ShippingMethod', additionalProperties: false },
);
export type ShippingMethod = Static<typeof ShippingMethod>;

// ---- request bodies ------------------------------------------------------------------------

const stockFields = {
  quantity: Type.Optional(StockCount),
  balance_limit: Type.Optional(StockCount),
  balance_alert: Type.Optional(Type.Union([StockCount, Type.Null()])),
  backorder_enabled: Type.Optional(Type.Boolean()),
  sku: Type.Optional(NullableText(100)),
  barcode: Type.Optional(NullableText(100)),
  location: Type.Optional(NullableText(200)),
};

export const NewStockBody = Type.Object(stockFields, { title: 'NewStock', additionalProperties: false, description: 'the stock item of a new product or variation (quantity default 0)' });
export type NewStockBody = Static<typeof NewStockBody>;

export const PatchStockBody = Type.Object(
  { ...stockFields, balance: Type.Optional(Type.Integer({ minimum: -1_000_000_000, maximum: 1_000_000_000, description: 'sets quantity to balance + reserved; not together with quantity' })) },
  { title: 'PatchStock', additionalProperties: false, minProperties: 1 },
);
export type PatchStockBody = Static<typeof PatchStockBody>;

const productFields = {
  supplier_code: Type.Optional(NullableText(100)),
  external_id: Type.Optional(NullableText(200)),
  description: Type.Optional(Text(65_536)),
  purchase_price: Type.Optional(Type.Union([PriceInput, Type.Null()])),
  vat_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'VAT percent, at most two decimals; default 25.5' })),
  weight: Type.Optional(Type.Number({ minimum: 0, maximum: 100_000, description: 'kilograms' })),
  brand_id: Type.Optional(RefId),
  supplier_id: Type.Optional(RefId),
  visible: Type.Optional(Type.Boolean()),
  visible_from: Type.Optional(TimeInput),
  available_from: Type.Optional(TimeInput),
  available_to: Type.Optional(TimeInput),
  barcode: Type.Optional(NullableText(100)),
  category_ids: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 }), { maxItems: 100, description: 'the categories the product is in (replaces the links)' })),
};

export const CreateProductBody = Type.Object(
  { product_code: Code, name: Type.String({ minLength: 1, maxLength: 500 }), price: PriceInput, ...productFields, stock_item: Type.Optional(NewStockBody) },
  { title: 'CreateProduct', additionalProperties: false },
);
export type CreateProductBody = Static<typeof CreateProductBody>;

export const PatchProductBody = Type.Object(
  { product_code: Type.Optional(Code), name: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })), price: Type.Optional(PriceInput), ...productFields },
  { title: 'PatchProduct', additionalProperties: false, minProperties: 1 },
);
export type PatchProductBody = Static<typeof PatchProductBody>;

const variationFields = {
  price: Type.Optional(Type.Union([PriceInput, Type.Null()])),
  purchase_price: Type.Optional(Type.Union([PriceInput, Type.Null()])),
  weight: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 100_000 }), Type.Null()])),
  barcode: Type.Optional(NullableText(100)),
  sort: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
};

export const CreateVariationBody = Type.Object(
  { product_code: Code, name: Type.String({ minLength: 1, maxLength: 500 }), ...variationFields, stock_item: Type.Optional(NewStockBody) },
  { title: 'CreateVariation', additionalProperties: false },
);
export type CreateVariationBody = Static<typeof CreateVariationBody>;

export const PatchVariationBody = Type.Object(
  { product_code: Type.Optional(Code), name: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })), ...variationFields },
  { title: 'PatchVariation', additionalProperties: false, minProperties: 1 },
);
export type PatchVariationBody = Static<typeof PatchVariationBody>;

const Name = Type.String({ minLength: 1, maxLength: 200 });
export const BrandBody = Type.Object(
  { name: Name, description: Type.Optional(Text(10_000)), website: Type.Optional(NullableText(500)) },
  { title: 'BrandInput', additionalProperties: false },
);
export const PatchBrandBody = Type.Partial(BrandBody, { title: 'PatchBrand', additionalProperties: false, minProperties: 1 });
export const SupplierBody = Type.Object(
  { name: Name, email: Type.Optional(NullableText(320)), phone: Type.Optional(NullableText(60)), website: Type.Optional(NullableText(500)) },
  { title: 'SupplierInput', additionalProperties: false },
);
export const PatchSupplierBody = Type.Partial(SupplierBody, { title: 'PatchSupplier', additionalProperties: false, minProperties: 1 });
export const CategoryBody = Type.Object(
  { name: Name, parent_id: Type.Optional(RefId), description: Type.Optional(Text(10_000)), sort: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })), visible: Type.Optional(Type.Boolean()) },
  { title: 'CategoryInput', additionalProperties: false },
);
export const PatchCategoryBody = Type.Partial(CategoryBody, { title: 'PatchCategory', additionalProperties: false, minProperties: 1 });
export type BrandBody = Static<typeof BrandBody>;
export type SupplierBody = Static<typeof SupplierBody>;
export type CategoryBody = Static<typeof CategoryBody>;
