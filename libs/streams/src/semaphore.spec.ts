import { Semaphore } from './semaphore';

describe('Semaphore', () => {
  it('never lets more than its size run at once', async () => {
    const sut = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const task = async () => {
      await sut.acquire();
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
      sut.release();
    };
    await Promise.all(Array.from({ length: 20 }, task));
    expect(peak).toBe(3);
    expect(running).toBe(0);
  });

  it('rejects a size below one', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
