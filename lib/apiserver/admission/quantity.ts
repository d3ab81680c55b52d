/** Resource quantities as numbers and back, for limit ranges and quotas. */
import { quantityToNumber } from '../../api/index.js';

export { quantityToNumber };

/** Formats an amount the way a person would write it: 500m, 2, 512Mi, 1Gi, 3. */
export function formatQuantity(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  if (!Number.isInteger(n)) {
    const milli = Math.round(n * 1000);
    if (milli % 1000 === 0) return String(milli / 1000);
    return `${milli}m`;
  }
  for (const [suffix, size] of [['Ei', 1024 ** 6], ['Pi', 1024 ** 5], ['Ti', 1024 ** 4], ['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${suffix}`;
  }
  return String(n);
}

/** Sums quantities, avoiding float dust: milli-precision for fractions. */
export function addQuantities(a: number, b: number): number {
  const s = a + b;
  return Number.isInteger(s) ? s : Math.round(s * 1e9) / 1e9;
}
