import { cpuMsPerOrder, CpuSeconds } from './system-probes';

describe('cpuMsPerOrder', () => {
  it('counts what running processes used since the first reading, new ones whole, exited ones not at all', () => {
    const before: CpuSeconds = new Map([
      [10, { part: 'postgresql', seconds: 5 }],
      [11, { part: 'postgresql', seconds: 3 }],
      [20, { part: 'events', seconds: 1 }],
    ]);
    const after: CpuSeconds = new Map([
      [10, { part: 'postgresql', seconds: 6 }],
      [12, { part: 'postgresql', seconds: 0.5 }],
      [20, { part: 'events', seconds: 3 }],
    ]);
    expect(cpuMsPerOrder(before, after, 100)).toEqual({ postgresql: 15, events: 20 });
  });
});
