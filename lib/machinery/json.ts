/** JSON helpers that ignore key order (objects decoded by zod come back in schema order). */

/** JSON text with object keys sorted and undefined values dropped, at every depth. */
export function stableStringify(v: unknown): string {
  return JSON.stringify(v, (_k, val) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(val).sort()) if ((val as Record<string, unknown>)[k] !== undefined) out[k] = (val as Record<string, unknown>)[k];
      return out;
    }
    return val;
  });
}

/**
 * Deep equality of JSON values, ignoring object key order: true exactly when
 * `stableStringify(a) === stableStringify(b)`, but walked in place with an early exit instead of
 * building two strings (it runs on every update, on whole objects).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // Anything with its own JSON form (a Date) compares by that form.
  if (hasToJSON(a) || hasToJSON(b)) return stableStringify(a) === stableStringify(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // Numbers JSON writes the same way (NaN and the infinities as null, -0 as 0), else strict.
    if (typeof a === 'number' && typeof b === 'number') return JSON.stringify(a) === JSON.stringify(b);
    return false;
  }
  const arrA = Array.isArray(a);
  if (arrA !== Array.isArray(b)) return false;
  if (arrA) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    // In an array, undefined (and functions) are written as null.
    for (let i = 0; i < x.length; i++) if (!jsonEqual(arrayItem(x[i]), arrayItem(y[i]))) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    if (!Object.prototype.hasOwnProperty.call(x, k) || !written(x[k])) continue;
    n++;
    if (!Object.prototype.hasOwnProperty.call(y, k) || !written(y[k]) || !jsonEqual(x[k], y[k])) return false;
  }
  for (const k in y) if (Object.prototype.hasOwnProperty.call(y, k) && written(y[k])) n--;
  return n === 0;
}

function hasToJSON(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function';
}

/** Whether JSON.stringify writes this property at all (undefined, functions and symbols it drops). */
function written(v: unknown): boolean {
  return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';
}

function arrayItem(v: unknown): unknown {
  return written(v) ? v : null;
}
