/**
 * Loads @nestjs/common with its two timestamp formatters deferred. Imported first by this lib's index,
 * which every app's `instrument.ts` imports before anything else, so this is the first load of
 * @nestjs/common in an app.
 *
 * @nestjs/common 11 builds an `Intl.DateTimeFormat` in two of its modules as they load (the
 * timestamps of ConsoleLogger and Logger). The first DateTimeFormat of a process maps about 5 MB of
 * ICU locale and time zone data and builds about 1 MB of ICU objects (measured on Node 24). choreo
 * logs through pino (`logger.ts`), so those formatters are never used and every idle app paid for
 * them (`npm run bench:footprint`). While @nestjs/common loads, `Intl.DateTimeFormat` builds the
 * real formatter on its first use instead; the global is put back as soon as it has loaded.
 */
const RealDateTimeFormat = Intl.DateTimeFormat;

/** A DateTimeFormat that builds the real one, with the same arguments, when it is first used. */
export function deferredDateTimeFormat(
  ...args: ConstructorParameters<typeof Intl.DateTimeFormat>
): Intl.DateTimeFormat {
  let real: Intl.DateTimeFormat | undefined;
  return new Proxy({} as Intl.DateTimeFormat, {
    get(_target, key) {
      real ??= new RealDateTimeFormat(...args);
      const value: unknown = Reflect.get(real, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(real) : value;
    },
  });
}

// Nest calls it with `new`: a plain function returning an object works as a constructor.
Intl.DateTimeFormat = deferredDateTimeFormat as unknown as typeof Intl.DateTimeFormat;
try {
  require('@nestjs/common');
} finally {
  Intl.DateTimeFormat = RealDateTimeFormat;
}
