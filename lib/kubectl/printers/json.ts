/**
 * JSON as kubectl writes it (Go's encoding/json on unstructured objects): keys sorted, four
 * spaces of indentation for `-o json`, and `<`, `>`, `&`, U+2028 and U+2029 escaped.
 */

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort(byUTF8)) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** Go sorts map keys by their bytes. */
function byUTF8(a: string, b: string): number {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ba, bb);
}

function goEscape(s: string): string {
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `json.MarshalIndent(v, "", indent)`; compact when indent is empty. No trailing newline. */
export function goJSON(v: unknown, indent = ''): string {
  return goEscape(JSON.stringify(sortKeys(v), null, indent || undefined));
}
