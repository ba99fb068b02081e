/** An exact decimal: `units / 10^scale`. Sums of money stay exact (no binary floats). */
export interface Decimal {
  units: bigint;
  scale: number;
}

const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?$/;

/** A number or numeric text as a Decimal; undefined for anything else. */
export function parseDecimal(value: unknown): Decimal | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    text = Number.isInteger(value) ? value.toFixed(0) : trimZeros(value.toFixed(12));
  } else if (typeof value === 'string') text = value.trim();
  else return undefined;
  const match = DECIMAL_TEXT.exec(text);
  if (!match) return undefined;
  const fraction = match[3] ?? '';
  const units = BigInt(`${match[2]}${fraction}`);
  return { units: match[1] === '-' ? -units : units, scale: fraction.length };
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

function rescale(d: Decimal, scale: number): bigint {
  return d.units * 10n ** BigInt(scale - d.scale);
}

/** a + sign × b, at the larger scale. */
export function addDecimal(a: Decimal, b: Decimal, sign: 1 | -1 = 1): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale) + BigInt(sign) * rescale(b, scale), scale };
}

/** Text with exactly `scale` digits after the point: `12.50`. */
export function decimalText(d: Decimal): string {
  const negative = d.units < 0n;
  const digits = (negative ? -d.units : d.units).toString().padStart(d.scale + 1, '0');
  const whole = d.scale > 0 ? `${digits.slice(0, -d.scale)}.${digits.slice(-d.scale)}` : digits;
  return negative ? `-${whole}` : whole;
}

/** The decimal divided by n, as a double (averages). */
export function divideDecimal(d: Decimal, n: number): number {
  return Number(decimalText(d)) / n;
}

export const ZERO: Decimal = { units: 0n, scale: 0 };
