/**
 * `1/n` printed with ten decimals exactly as Go's `fmt.Sprintf("%0.10f", 1.0/float64(n))` does,
 * which is how upstream writes `--probability`. Go rounds the exact binary value half-to-even;
 * JavaScript's toFixed rounds ties up, which differs for n = 2048, 4096, ... so the rounding is
 * done here on the exact value of the double.
 */
export function probability(n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`probability: n must be a positive integer, got ${n}`);
  if (n < cached.length) return (cached[n] ??= formatFixed10(1 / n));
  return formatFixed10(1 / n);
}

/** Every sync asks for the same few values (1/2, 1/3, ... for each service's endpoints). */
const cached: (string | undefined)[] = new Array(1024);

const digits = 10;

/** A non-negative finite double with exactly ten decimals, rounding half to even. */
export function formatFixed10(x: number): string {
  if (!(x >= 0) || !Number.isFinite(x)) throw new RangeError(`formatFixed10: ${x}`);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) exp = -1074; // subnormal
  else {
    mantissa |= 1n << 52n;
    exp = biased - 1075;
  }
  // x = mantissa * 2^exp; we want round(x * 10^digits).
  const scaled = mantissa * 10n ** BigInt(digits);
  let q: bigint;
  if (exp >= 0) q = scaled << BigInt(exp);
  else {
    const shift = BigInt(-exp);
    q = scaled >> shift;
    const rem = scaled - (q << shift);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  }
  const s = q.toString().padStart(digits + 1, '0');
  return `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}
