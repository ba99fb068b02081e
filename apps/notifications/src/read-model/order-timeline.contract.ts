import { randomUUID } from 'node:crypto';
import type { OrderTimelineStore, TimelineEvent } from './order-timeline.store';

// The contract every OrderTimelineStore passes (PostgreSQL, MongoDB): one suite, run by
// order-timeline-stores.int-spec.ts against each configured store. Offsets on `order:<id>` are
// these sequences and snapshots come from here, so "once and in order" is the contract.

const LIFECYCLE = ['created', 'confirmed', 'preparing', 'ready', 'out_for_delivery', 'delivered'];

const eventOf = (orderId: string, sequence: number): TimelineEvent => ({
  orderId,
  sequence,
  event: `order.${LIFECYCLE[sequence - 1] ?? 'updated'}`,
  id: `${orderId}-${sequence}`,
  time: new Date(Date.UTC(2026, 11, 5, 12, 0, sequence)).toISOString(),
  data: { order_id: orderId, sequence, items: [{ sku: 'p-1', quantity: 2, price: '9.50' }] },
});

const sequences = async (store: OrderTimelineStore, orderId: string) =>
  (await store.orderSnapshot(orderId))?.data.timeline.map((e) => e.sequence);

/** Registers the contract suite for one store; `create` opens it, the suite inits and closes it. */
export function describeOrderTimelineContract(name: string, create: () => Promise<OrderTimelineStore>): void {
  describe(`OrderTimelineStore contract: ${name}`, () => {
    let sut: OrderTimelineStore;

    beforeAll(async () => {
      sut = await create();
      await sut.init();
      await sut.init(); // idempotent: replicas start together
    });

    afterAll(async () => {
      await sut?.close();
    });

    it('applies an order’s events in order and snapshots its status and timeline', async () => {
      const orderId = randomUUID();
      for (const sequence of [1, 2, 3])
        expect(await sut.apply(eventOf(orderId, sequence))).toEqual({ outcome: 'applied', sequence });
      const snapshot = await sut.orderSnapshot(orderId);
      expect(snapshot).toEqual({
        sequence: 3,
        data: {
          order_id: orderId,
          status: 'preparing',
          sequence: 3,
          timeline: [1, 2, 3].map((s) => {
            const { event, id, time, data, sequence } = eventOf(orderId, s);
            return { sequence, event, id, time, data };
          }),
        },
      });
    });

    it('answers duplicate for an event it holds and changes nothing', async () => {
      const orderId = randomUUID();
      await sut.apply(eventOf(orderId, 1));
      await sut.apply(eventOf(orderId, 2));
      expect(await sut.apply(eventOf(orderId, 1))).toEqual({ outcome: 'duplicate', sequence: 2 });
      expect(await sut.apply(eventOf(orderId, 2))).toEqual({ outcome: 'duplicate', sequence: 2 });
      expect(await sequences(sut, orderId)).toEqual([1, 2]);
    });

    it('answers gap for an event before its predecessor, then applies it after', async () => {
      const orderId = randomUUID();
      await sut.apply(eventOf(orderId, 1));
      expect(await sut.apply(eventOf(orderId, 3))).toEqual({ outcome: 'gap', sequence: 1 });
      expect(await sequences(sut, orderId)).toEqual([1]);
      expect(await sut.apply(eventOf(orderId, 2))).toEqual({ outcome: 'applied', sequence: 2 });
      expect(await sut.apply(eventOf(orderId, 3))).toEqual({ outcome: 'applied', sequence: 3 });
      expect((await sut.orderSnapshot(orderId))?.data.status).toBe('preparing');
    });

    it('has no snapshot for an order it never saw, nor for one whose first event is missing', async () => {
      const orderId = randomUUID();
      expect(await sut.orderSnapshot(randomUUID())).toBeUndefined();
      expect(await sut.apply(eventOf(orderId, 2))).toEqual({ outcome: 'gap', sequence: 0 });
      expect(await sut.orderSnapshot(orderId)).toBeUndefined();
    });

    it('keeps each order 1..n exactly once under concurrent, shuffled and repeated events', async () => {
      const orders = Array.from({ length: 20 }, () => randomUUID());
      const pending = orders.flatMap((orderId) =>
        [1, 2, 3, 4, 5, 6, 1, 3, 6].map((sequence) => eventOf(orderId, sequence)),
      );
      // Like the stream consumer: whatever was refused as a gap is delivered again later.
      for (let round = 0; pending.length > 0 && round < 50; round++) {
        const batch = pending.splice(0).sort(() => Math.random() - 0.5);
        const results = await Promise.all(batch.map((e) => sut.apply(e)));
        results.forEach((r, i) => {
          if (r.outcome === 'gap') pending.push(batch[i]);
        });
      }
      expect(pending).toEqual([]);
      for (const orderId of orders) {
        const snapshot = await sut.orderSnapshot(orderId);
        expect(snapshot?.data.timeline.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(snapshot?.data.status).toBe('delivered');
      }
    });

    it('says it is reachable', async () => {
      expect(await sut.ping()).toBe(true);
    });
  });
}
