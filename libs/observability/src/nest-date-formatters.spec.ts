import { deferredDateTimeFormat } from './nest-date-formatters';

describe('nest-date-formatters', () => {
  it('loads @nestjs/common without building a DateTimeFormat, and puts the global back', () => {
    const Real = Intl.DateTimeFormat;
    const built: unknown[] = [];
    const counting = function (...args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
      built.push(args);
      return new Real(...args);
    } as unknown as typeof Intl.DateTimeFormat;
    Intl.DateTimeFormat = counting;
    try {
      jest.isolateModules(() => {
        require('./nest-date-formatters');
        // Nest really was loaded by it, in this fresh registry: its Logger is there.
        const { Logger } = require('@nestjs/common') as typeof import('@nestjs/common');
        expect(typeof Logger).toBe('function');
      });
      expect(built).toEqual([]);
      expect(Intl.DateTimeFormat).toBe(counting);
    } finally {
      Intl.DateTimeFormat = Real;
    }
  });

  it('formats like the real DateTimeFormat once used', () => {
    const options: Intl.DateTimeFormatOptions = {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      timeZone: 'UTC',
    };
    const at = Date.UTC(2026, 11, 5, 22, 41, 7);
    const deferred = deferredDateTimeFormat('en-US', options);
    const real = new Intl.DateTimeFormat('en-US', options);
    expect(deferred.format(at)).toBe(real.format(at));
    expect(deferred.formatToParts(at)).toEqual(real.formatToParts(at));
    expect(deferred.resolvedOptions().timeZone).toBe('UTC');
  });
});
