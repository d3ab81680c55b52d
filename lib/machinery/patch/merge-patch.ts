/** JSON Merge Patch (RFC 7386): objects merge recursively, null deletes, anything else replaces. */

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/** The merge patch that turns `from` into `to` (used by clients and tests). */
export function createMergePatch(from: unknown, to: unknown): unknown {
  if (!isObject(from) || !isObject(to)) return structuredClone(to);
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  for (const [k, v] of Object.entries(to)) {
    const f = from[k];
    if (JSON.stringify(f) === JSON.stringify(v)) continue;
    patch[k] = isObject(f) && isObject(v) ? createMergePatch(f, v) : structuredClone(v);
  }
  return patch;
}
