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

/** Deep equality of JSON values, ignoring object key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}
