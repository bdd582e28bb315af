/**
 * Turns stored catalogue rows into the API's objects, with the requested expansions. The same
 * functions render the GET answers and every webhook message body, so the two never differ.
 */
import type { Brand, Product, ProductExpand, StockChange, StockItem, Variation } from './contract.js';
import type { BrandRow, StockChangeRow, StockItemRow, VariationRow } from '../db/schema.js';
import { fromBasisPoints, fromCents } from '../money.js';
import { isoTime } from '../time.js';
import type { ProductParts } from './repository.js';

const money = (cents: number | null) => (cents === null ? null : fromCents(cents));
const kilograms = (grams: number | null) => (grams === null ? null : grams / 1000);

export function renderStockItem(s: StockItemRow): StockItem {
  return {
    id: s.id,
    product_id: s.product_id,
    variation_id: s.variation_id,
    product_code: s.product_code,
    created_at: isoTime(s.created_at),
    updated_at: isoTime(s.updated_at),
    quantity: s.quantity,
    reserved: s.reserved,
    balance: s.quantity - s.reserved,
    balance_limit: s.balance_limit,
    balance_alert: s.balance_alert,
    backorder_enabled: s.backorder_enabled === 1,
    sku: s.sku,
    barcode: s.barcode,
    location: s.location,
  };
}

export function renderVariation(v: VariationRow, stock?: StockItemRow): Variation {
  const out: Variation = {
    id: v.id,
    product_id: v.product_id,
    created_at: isoTime(v.created_at),
    updated_at: isoTime(v.updated_at),
    product_code: v.product_code,
    name: v.name,
    price: money(v.price_cents),
    purchase_price: money(v.purchase_price_cents),
    weight: kilograms(v.weight_g),
    barcode: v.barcode,
    sort: v.sort,
  };
  if (stock) out.stock_item = renderStockItem(stock);
  return out;
}

export function renderBrand(b: BrandRow): Brand {
  return { id: b.id, created_at: isoTime(b.created_at), updated_at: isoTime(b.updated_at), name: b.name, description: b.description, website: b.website };
}

export function renderProduct(parts: ProductParts, expands: readonly ProductExpand[] = []): Product {
  const p = parts.product;
  const out: Product = {
    id: p.id,
    created_at: isoTime(p.created_at),
    updated_at: isoTime(p.updated_at),
    product_code: p.product_code,
    supplier_code: p.supplier_code,
    external_id: p.external_id,
    name: p.name,
    description: p.description,
    price: fromCents(p.price_cents),
    purchase_price: money(p.purchase_price_cents),
    vat_rate: fromBasisPoints(p.vat_rate_bp),
    weight: p.weight_g / 1000,
    brand_id: p.brand_id,
    supplier_id: p.supplier_id,
    visible: p.visible === 1,
    visible_from: isoTime(p.visible_from),
    available_from: isoTime(p.available_from),
    available_to: isoTime(p.available_to),
    barcode: p.barcode,
  };
  // The nested expand includes its parent: variations.stock_item renders the variations too.
  const variationStock = expands.includes('variations.stock_item');
  if (variationStock || expands.includes('variations')) {
    out.variations = parts.variations.map((v) => renderVariation(v, variationStock ? parts.stock.get(v.id) : undefined));
  }
  for (const expand of expands) {
    switch (expand) {
      case 'stock_item': {
        const own = parts.stock.get(0);
        if (own) out.stock_item = renderStockItem(own);
        break;
      }
      case 'brand':
        out.brand = parts.brand ? renderBrand(parts.brand) : null;
        break;
      case 'category_links':
        out.category_links = parts.categoryLinks;
        break;
      case 'visibilities':
        out.visibilities = parts.versionIds.map((version_id) => ({ version_id, visible: p.visible === 1 }));
        break;
      // storehook keeps one language and no images.
      case 'translations':
        out.translations = [];
        break;
      case 'image_links':
        out.image_links = [];
        break;
    }
  }
  return out;
}

export function renderStockChange(c: StockChangeRow): StockChange {
  return {
    id: c.id,
    changed_at: isoTime(c.changed_at),
    stock_item_id: c.stock_item_id,
    product_id: c.product_id,
    variation_id: c.variation_id,
    product_code: c.product_code,
    reason: c.reason,
    quantity_change: c.quantity_change,
    reserved_change: c.reserved_change,
    balance_change: c.quantity_change - c.reserved_change,
    quantity: c.quantity_after,
    balance: c.balance_after,
    order_id: c.order_id,
    user_id: c.user_id,
  };
}
