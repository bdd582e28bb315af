/** An order with all its parts, as loaded from the database. */
import type { CommentRow, OrderEventRow, OrderProductRow, OrderRow, PaymentRow, ShipmentRow } from '../db/schema.js';

export interface OrderAggregate {
  order: OrderRow;
  products: OrderProductRow[];
  shipments: ShipmentRow[];
  payments: PaymentRow[];
  comments: CommentRow[];
  events: OrderEventRow[];
}
