// The state rules of an order (cancel, complete a shipment, quick-process, payment actions), as
// pure decisions: no database, no HTTP. The routes' tests (test/api/shipments-payments-comments)
// check the same rules end to end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OrderStatus, PaymentStatus } from '../../src/db/schema.js';
import {
  afterShipmentCompleted,
  cancelRefusal,
  cancelTopics,
  decidePayment,
  PAYMENT_TRANSITIONS,
  PAYMENTS_CANCELLED_WITH_ORDER,
  quickProcessActivates,
  quickProcessRefusal,
  quickProcessTopics,
  shipmentCompletionRefusal,
  type PaymentAction,
} from '../../src/orders/rules.js';

const ORDER_STATUSES: OrderStatus[] = ['OPEN', 'COMPLETED', 'CANCELLED'];
const PAYMENT_STATUSES: PaymentStatus[] = ['OPEN', 'PENDING_ACTIVATION', 'PAID', 'REFUNDED', 'CANCELLED'];
const ACTIONS = Object.keys(PAYMENT_TRANSITIONS) as PaymentAction[];

describe('cancelling an order', () => {
  it('is allowed only while the order is OPEN', () => {
    assert.equal(cancelRefusal(7, 'OPEN'), null);
    assert.equal(cancelRefusal(7, 'COMPLETED'), 'Order 7 is COMPLETED and cannot be cancelled.');
    assert.equal(cancelRefusal(7, 'CANCELLED'), 'Order 7 is already CANCELLED.');
  });

  it('cancels payments not yet captured; a PAID or REFUNDED one stays', () => {
    assert.deepEqual([...PAYMENTS_CANCELLED_WITH_ORDER].sort(), ['OPEN', 'PENDING_ACTIVATION']);
  });

  it('emits payment_updated only when a payment was cancelled with it', () => {
    assert.deepEqual(cancelTopics(0), ['order.cancelled', 'order.updated']);
    assert.deepEqual(cancelTopics(1), ['order.cancelled', 'order.payment_updated', 'order.updated']);
  });
});

describe('completing a shipment', () => {
  it('is refused on a CANCELLED order and for a shipment already COMPLETED', () => {
    assert.equal(shipmentCompletionRefusal(3, 'OPEN', 9, 'OPEN'), null);
    assert.equal(shipmentCompletionRefusal(3, 'CANCELLED', 9, 'OPEN'), 'Order 3 is CANCELLED: its shipments cannot be completed.');
    assert.equal(shipmentCompletionRefusal(3, 'OPEN', 9, 'COMPLETED'), 'Shipment 9 is already COMPLETED.');
    assert.equal(shipmentCompletionRefusal(3, 'CANCELLED', 9, 'COMPLETED'), 'Order 3 is CANCELLED: its shipments cannot be completed.', 'the order is checked first');
  });

  it('completes the order once no shipment is left open', () => {
    assert.deepEqual(afterShipmentCompleted(true), { completesOrder: false, topics: ['order.shipment_completed', 'order.updated'] });
    assert.deepEqual(afterShipmentCompleted(false), { completesOrder: true, topics: ['order.shipment_completed', 'order.updated', 'order.completed'] });
  });
});

describe('quick-processing an order', () => {
  const open = { id: 5, status: 'OPEN' as const };
  const paid = { id: 50, status: 'PAID' as const };

  it('needs an OPEN order with exactly one payment', () => {
    assert.equal(quickProcessRefusal(open, [paid], false), null);
    assert.equal(quickProcessRefusal({ id: 5, status: 'COMPLETED' }, [paid], false), 'Order 5 is COMPLETED: only OPEN orders can be quick-processed.');
    assert.equal(quickProcessRefusal(open, [], false), 'Order 5 has 0 payments: only orders with exactly one payment can be quick-processed.');
    assert.match(quickProcessRefusal(open, [paid, { id: 51, status: 'PAID' }], false)!, /has 2 payments/);
  });

  it('takes an OPEN payment only for cash on delivery, and never a cancelled or refunded one', () => {
    const openPayment = { id: 50, status: 'OPEN' as const };
    assert.match(quickProcessRefusal(open, [openPayment], false)!, /Payment 50 is still OPEN.*allow_open_cash_on_delivery_payments/);
    assert.equal(quickProcessRefusal(open, [openPayment], true), null);
    assert.equal(quickProcessRefusal(open, [{ id: 50, status: 'PENDING_ACTIVATION' }], false), null);
    for (const status of ['CANCELLED', 'REFUNDED'] as const) {
      assert.equal(quickProcessRefusal(open, [{ id: 50, status }], true), `Payment 50 is ${status}: the order cannot be quick-processed.`);
    }
  });

  it('activates only a payment pending activation, and names what changed', () => {
    assert.deepEqual(PAYMENT_STATUSES.filter(quickProcessActivates), ['PENDING_ACTIVATION']);
    assert.deepEqual(quickProcessTopics(false, 0), ['order.completed', 'order.updated']);
    assert.deepEqual(quickProcessTopics(true, 2), ['order.payment_updated', 'order.shipment_completed', 'order.completed', 'order.updated']);
  });
});

describe('payment actions', () => {
  it('follow the transition table', () => {
    const order = { id: 1, status: 'OPEN' as const };
    const p = (status: PaymentStatus) => ({ id: 2, status });
    assert.deepEqual(decidePayment(order, p('OPEN'), 'mark-as-paid'), { to: 'PAID' });
    assert.deepEqual(decidePayment(order, p('PENDING_ACTIVATION'), 'activate'), { to: 'PAID' });
    assert.deepEqual(decidePayment(order, p('PAID'), 'mark-as-unpaid'), { to: 'OPEN' });
    assert.deepEqual(decidePayment(order, p('OPEN'), 'mark-as-cancelled'), { to: 'CANCELLED' });
    assert.deepEqual(decidePayment(order, p('PAID'), 'mark-as-paid'), { unchanged: true });
    assert.deepEqual(decidePayment(order, p('OPEN'), 'activate'), { refused: 'Payment 2 is OPEN: activate needs one of PENDING_ACTIVATION.' });
    assert.deepEqual(decidePayment(order, p('PAID'), 'mark-as-cancelled'), { refused: 'Payment 2 is PAID: mark-as-cancelled needs one of OPEN, PENDING_ACTIVATION.' });
  });

  it('on a CANCELLED order only cancel the payment', () => {
    const cancelled = { id: 1, status: 'CANCELLED' as const };
    assert.deepEqual(decidePayment(cancelled, { id: 2, status: 'OPEN' }, 'mark-as-paid'), { refused: 'Order 1 is CANCELLED: its payment can only be cancelled.' });
    assert.deepEqual(decidePayment(cancelled, { id: 2, status: 'OPEN' }, 'mark-as-cancelled'), { to: 'CANCELLED' });
  });

  it('never refunds, never leaves a refunded payment, and lands on the action\'s state (every combination)', () => {
    for (const orderStatus of ORDER_STATUSES) {
      for (const status of PAYMENT_STATUSES) {
        for (const action of ACTIONS) {
          const d = decidePayment({ id: 1, status: orderStatus }, { id: 2, status }, action);
          if (status === 'REFUNDED') assert.ok('refused' in d, `${action} on a REFUNDED payment`);
          if ('to' in d) {
            assert.equal(d.to, PAYMENT_TRANSITIONS[action].to);
            assert.notEqual(d.to, status, 'a change changes the state');
            assert.notEqual(d.to, 'REFUNDED');
          }
          if ('unchanged' in d) assert.equal(status, PAYMENT_TRANSITIONS[action].to);
        }
      }
    }
  });
});
