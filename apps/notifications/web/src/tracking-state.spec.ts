import type { PublicationFrame } from '@choreo/contracts';
import {
  applyPublication,
  applySnapshot,
  currentStatus,
  loadTracking,
  newTracking,
  saveTracking,
} from './tracking-state';

const ORDER = '0190a000-0000-7000-8000-000000000001';
const step = (offset: number, event: string): PublicationFrame => ({
  type: 'publication',
  channel: `order:${ORDER}`,
  offset,
  event,
  time: `2026-12-05T10:00:0${offset}Z`,
  data: event === 'order.created' ? { total: '12.50' } : {},
});
const fix = (lat: number, lng: number): PublicationFrame => ({
  type: 'publication',
  channel: `order:${ORDER}`,
  key: 'courier.location',
  event: 'courier.location',
  time: '2026-12-05T10:01:00Z',
  data: { order_id: ORDER, courier_id: 'c1', lat, lng },
});

class MemoryStorage implements Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> {
  readonly items = new Map<string, string>();
  getItem = (key: string) => this.items.get(key) ?? null;
  setItem = (key: string, value: string) => void this.items.set(key, value);
  removeItem = (key: string) => void this.items.delete(key);
}

describe('tracking state', () => {
  it('appends steps with their times and moves the position and status', () => {
    let sut = newTracking(ORDER, 'tok');
    expect(currentStatus(sut)).toBe('placed');
    sut = applyPublication(sut, step(1, 'order.created'));
    sut = applyPublication(sut, step(2, 'order.confirmed'));
    expect(sut.steps.map((s) => [s.sequence, s.status, s.time])).toEqual([
      [1, 'created', '2026-12-05T10:00:01Z'],
      [2, 'confirmed', '2026-12-05T10:00:02Z'],
    ]);
    expect(sut.position).toEqual({ offset: 2 });
    expect(sut.total).toBe('12.50');
    expect(currentStatus(sut)).toBe('confirmed');
  });

  it('shows what the client delivers, so a duplicate would be visible on the page', () => {
    let sut = applyPublication(newTracking(ORDER, 'tok'), step(1, 'order.created'));
    sut = applyPublication(sut, step(1, 'order.created'));
    expect(sut.steps.map((s) => s.sequence)).toEqual([1, 1]);
  });

  it('keeps courier fixes as a trail outside the step sequence', () => {
    let sut = applyPublication(newTracking(ORDER, 'tok'), step(1, 'order.created'));
    sut = applyPublication(sut, fix(52.5, 13.4));
    sut = applyPublication(sut, fix(52.51, 13.41));
    expect(sut.trail.map((f) => [f.lat, f.lng])).toEqual([
      [52.5, 13.4],
      [52.51, 13.41],
    ]);
    expect(sut.position).toEqual({ offset: 1 });
  });

  it('replaces its steps with a snapshot of the read model', () => {
    const held = applyPublication(newTracking(ORDER, 'tok'), step(1, 'order.created'));
    const sut = applySnapshot(held, {
      type: 'snapshot',
      channel: `order:${ORDER}`,
      epoch: 'e1',
      offset: 3,
      data: {
        order_id: ORDER,
        status: 'preparing',
        sequence: 3,
        timeline: [
          { sequence: 3, event: 'order.preparing', id: 'c', time: 't3', data: {} },
          { sequence: 1, event: 'order.created', id: 'a', time: 't1', data: {} },
          { sequence: 2, event: 'order.confirmed', id: 'b', time: 't2', data: {} },
        ],
      },
    });
    expect(sut.steps.map((s) => s.status)).toEqual(['created', 'confirmed', 'preparing']);
    expect(sut.position).toEqual({ offset: 3, epoch: 'e1' });
  });

  it('survives a reload through storage, position included', () => {
    const storage = new MemoryStorage() as unknown as Storage;
    const state = applyPublication(newTracking(ORDER, 'tok'), step(1, 'order.created'));
    saveTracking(storage, state);
    expect(loadTracking(storage)).toEqual(state);
    saveTracking(storage, undefined);
    expect(loadTracking(storage)).toBeUndefined();
    storage.setItem('choreo.tracking', '{not json');
    expect(loadTracking(storage)).toBeUndefined();
  });
});
