import { ORDER_STATUSES, OrderStatus } from '@choreo/contracts';
import { allowedNextStatuses, canTransition, ORDER_ACTIONS, planTransition } from './order-state-machine';

describe('order state machine', () => {
  const happyPath: OrderStatus[] = [
    'created',
    'confirmed',
    'preparing',
    'ready',
    'out_for_delivery',
    'delivered',
  ];

  it('walks the happy path one step at a time', () => {
    for (let i = 0; i + 1 < happyPath.length; i++) {
      expect(canTransition(happyPath[i], happyPath[i + 1])).toBe(true);
      for (let j = i + 2; j < happyPath.length; j++)
        expect(canTransition(happyPath[i], happyPath[j])).toBe(false);
      expect(canTransition(happyPath[i + 1], happyPath[i])).toBe(false);
    }
  });

  it('cancels from every status before out_for_delivery and from none after', () => {
    const cancellable = ORDER_STATUSES.filter((s) => canTransition(s, 'cancelled'));
    expect(cancellable).toEqual(['created', 'confirmed', 'preparing', 'ready']);
  });

  it('has no way out of delivered or cancelled', () => {
    expect(allowedNextStatuses('delivered')).toEqual([]);
    expect(allowedNextStatuses('cancelled')).toEqual([]);
  });

  it('maps each REST action to a status', () => {
    expect(Object.values(ORDER_ACTIONS).sort()).toEqual(ORDER_STATUSES.filter((s) => s !== 'created').sort());
  });

  it.each([
    ['created', 'confirmed', 'apply'],
    ['confirmed', 'confirmed', 'skip'],
    ['ready', 'preparing', 'skip'],
    ['delivered', 'out_for_delivery', 'skip'],
    ['cancelled', 'out_for_delivery', 'skip'],
    ['created', 'out_for_delivery', 'reject'],
    ['out_for_delivery', 'cancelled', 'reject'],
  ] as const)('plans an event from %s to %s: %s', (current, target, plan) => {
    expect(planTransition(current, target)).toBe(plan);
  });
});
