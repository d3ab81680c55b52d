/**
 * Quantities as the autoscaler counts them: integer milli-units (upstream's MilliValue, which
 * rounds up), and back to the canonical text of a milli quantity (upstream's
 * resource.NewMilliQuantity(v, DecimalSI).String(): `230m`, `1`, `1500m`, `200M`).
 */
import { quantityToNumber } from '../../api/index.js';

/** A quantity in milli-units, rounded up as upstream's MilliValue: "230m" → 230, "1" → 1000, "5n" → 1. */
export function toMilli(q: string | number): number {
  const n = quantityToNumber(q);
  if (!Number.isFinite(n)) throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': ${JSON.stringify(q)}`);
  // Decimal text times 1000 carries float dust (0.23 * 1000 = 230.00000000000003): strip it before rounding up.
  return Math.ceil(n * 1000 - 1e-6) || 0;
}

const decimalSuffixes: [number, string][] = [
  [1e18, 'E'],
  [1e15, 'P'],
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** The canonical DecimalSI text of `milli` milli-units. */
export function formatMilli(milli: number): string {
  if (milli === 0) return '0';
  if (milli < 0) return `-${formatMilli(-milli)}`;
  if (milli % 1000 !== 0) return `${milli}m`;
  const v = milli / 1000;
  for (const [size, suffix] of decimalSuffixes) if (v >= size && v % size === 0) return `${v / size}${suffix}`;
  return String(v);
}
