import { ChannelError, Channels, parseChannel } from './channels';

const orderId = '0190f6a4-7c1e-7000-8000-000000000001';

describe('channels', () => {
  it('parses what Channels builds', () => {
    expect(parseChannel(Channels.order(orderId))).toEqual({
      kind: 'order',
      name: `order:${orderId}`,
      orderId,
    });
    expect(parseChannel(Channels.entity('product'))).toEqual({
      kind: 'entity',
      name: 'entity:product',
      entity: 'product',
    });
    expect(parseChannel(Channels.aggregates('orders-per-minute'))).toEqual({
      kind: 'aggregates',
      name: 'aggregates:orders-per-minute',
      rule: 'orders-per-minute',
    });
  });

  it.each([
    ['', 'must look like'],
    ['orders', 'must look like'],
    ['order:42', 'UUID'],
    [`order:${orderId.toUpperCase()}`, 'UUID'],
    [`order:${orderId}:x`, 'UUID'],
    ['entity:', 'names an entity'],
    ['entity:Product', 'names an entity'],
    ['entity:pro duct', 'names an entity'],
    ['aggregates:../x', 'names a rule'],
    ['user:1', 'unknown channel kind'],
    [`entity:${'a'.repeat(64)}`, 'names an entity'],
  ])('refuses %j', (text, reason) => {
    expect(() => parseChannel(text)).toThrow(ChannelError);
    expect(() => parseChannel(text)).toThrow(reason);
  });
});
