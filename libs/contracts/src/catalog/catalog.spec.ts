import {
  CourierLocation,
  EventDataError,
  eventCatalog,
  KitchenRejected,
  OrderCancelled,
  OrderCreated,
  OrderStatusEvents,
  parseEventData,
} from './index';

const orderId = '0190f6a4-7c1e-7000-8000-000000000001';
const productId = '0190f6a4-7c1e-7000-8000-0000000000aa';

describe('event catalog v1', () => {
  it('accepts a well-formed order.created and drops unknown fields', () => {
    const data = OrderCreated.parse({
      order_id: orderId,
      status: 'created',
      customer: 'ada',
      address: '1 Loop Road',
      items: [{ product_id: productId, name: 'pizza', quantity: 2, unit_price: '9.50', line_total: '19.00' }],
      total: '19.00',
      extra: true,
    });
    expect(data.total).toBe('19.00');
    expect(data).not.toHaveProperty('extra');
  });

  it('names every bad field', () => {
    const parse = () =>
      OrderCreated.parse({
        order_id: 'nope',
        status: 'created',
        customer: '',
        address: 'x',
        items: [],
        total: 3,
      });
    expect(parse).toThrow(EventDataError);
    expect(parse).toThrow(/order_id: .*customer: .*items: .*total: /);
  });

  it('refuses money as a binary float and out-of-range coordinates', () => {
    expect(() =>
      OrderCancelled.parse({
        order_id: orderId,
        status: 'cancelled',
        previous_status: 'created',
        trigger: 'api',
        restocked: [{ product_id: productId, quantity: 1.5 }],
      }),
    ).toThrow(/restocked\.0\.quantity/);
    expect(() => CourierLocation.parse({ order_id: orderId, courier_id: 'c1', lat: 91, lng: 0 })).toThrow(
      /lat/,
    );
  });

  it('has one definition per order status, typed order.<status>', () => {
    for (const [status, definition] of Object.entries(OrderStatusEvents)) {
      expect(definition.type).toBe(`order.${status}`);
      expect(eventCatalog.get(definition.type)).toBe(definition);
    }
  });

  it('looks events up by type and refuses unknown types', () => {
    expect(parseEventData('kitchen.rejected', { order_id: orderId, reason: 'closed' })).toEqual({
      order_id: orderId,
      reason: 'closed',
    });
    expect(KitchenRejected.is('kitchen.rejected')).toBe(true);
    expect(() => parseEventData('order.teleported', {})).toThrow(/not in the event catalog/);
  });
});
