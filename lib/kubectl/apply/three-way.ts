/**
 * The patch client-side `apply` sends: three-way, from the last applied configuration
 * (`original`), the file (`modified`) and the live object (`current`).
 *
 *   changes and additions: what `modified` has that `current` lacks or has differently
 *   deletions:             what `original` had that `modified` no longer has
 *
 * Fields others set (in `current` but never in `original`) are left alone; that is the point of
 * the last-applied annotation. With a schema (built-in kinds) the patch is a strategic merge
 * patch: lists with a merge key are patched item by item (`$patch: delete` for removed items,
 * `$setElementOrder` to keep the file's order), lists merged as sets get
 * `$deleteFromPrimitiveList`, and maps with the retainKeys strategy get `$retainKeys`.
 * Without one (custom resources) it is a JSON merge patch: lists are replaced whole.
 */
import type { SchemaNode } from '../../machinery/index.js';
import { jsonEqual } from '../../machinery/index.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const noSchema: SchemaNode = { field: () => undefined, item: () => undefined, meta: () => ({ strategies: [] }) };

/** The three-way patch; `{}` when there is nothing to change. `schema` undefined: a JSON merge patch. */
export function threeWayPatch(original: unknown, modified: Obj, current: Obj, schema: SchemaNode | undefined): Obj {
  return diffMaps(isObj(original) ? original : {}, modified, current, schema ?? noSchema, schema !== undefined);
}

function diffMaps(orig: Obj, mod: Obj, cur: Obj, schema: SchemaNode, strategic: boolean): Obj {
  const patch: Obj = {};
  for (const [k, m] of Object.entries(mod)) {
    if (m === undefined) continue;
    const c = cur[k];
    const o = orig[k];
    const child = schema.field(k) ?? noSchema;
    if (c === undefined || c === null) {
      if (m !== null) patch[k] = m;
      continue;
    }
    if (isObj(m) && isObj(c)) {
      const p = diffMaps(isObj(o) ? o : {}, m, c, child, strategic);
      if (Object.keys(p).length > 0) {
        if (strategic && child.meta().strategies.includes('retainKeys')) p['$retainKeys'] = Object.keys(m).sort();
        patch[k] = p;
      }
      continue;
    }
    if (Array.isArray(m) && Array.isArray(c) && strategic) {
      diffLists(k, Array.isArray(o) ? o : [], m, c, child, patch);
      continue;
    }
    if (!jsonEqual(m, c)) patch[k] = m;
  }
  for (const k of Object.keys(orig)) {
    if (mod[k] === undefined && orig[k] !== undefined && cur[k] !== undefined) patch[k] = null;
  }
  return patch;
}

function diffLists(k: string, orig: unknown[], mod: unknown[], cur: unknown[], schema: SchemaNode, patch: Obj): void {
  const meta = schema.meta();
  if (!meta.strategies.includes('merge')) {
    if (!jsonEqual(mod, cur)) patch[k] = mod;
    return;
  }
  const key = meta.mergeKey;
  if (!key) {
    // A set of scalars.
    const has = (list: unknown[], v: unknown) => list.some((x) => jsonEqual(x, v));
    const additions = mod.filter((v) => !has(cur, v));
    const deletions = orig.filter((v) => !has(mod, v) && has(cur, v));
    const order = cur.filter((v) => has(mod, v));
    if (additions.length) patch[k] = additions;
    if (deletions.length) patch[`$deleteFromPrimitiveList/${k}`] = deletions;
    if (additions.length || deletions.length || !jsonEqual(order, mod)) patch[`$setElementOrder/${k}`] = mod;
    return;
  }
  const item = schema.item() ?? noSchema;
  const keyOf = (x: unknown) => (isObj(x) ? JSON.stringify(x[key]) : undefined);
  const find = (list: unknown[], kv: string | undefined) => list.find((x) => keyOf(x) === kv) as Obj | undefined;
  const items: unknown[] = [];
  for (const mi of mod) {
    if (!isObj(mi)) continue;
    const ci = find(cur, keyOf(mi));
    if (!ci) {
      items.push(mi);
      continue;
    }
    const p = diffMaps(find(orig, keyOf(mi)) ?? {}, mi, ci, item, true);
    if (Object.keys(p).length > 0) items.push({ [key]: mi[key], ...p });
  }
  for (const oi of orig) {
    if (!isObj(oi)) continue;
    if (!find(mod, keyOf(oi)) && find(cur, keyOf(oi))) items.push({ [key]: oi[key], $patch: 'delete' });
  }
  const liveOrder = cur.filter((c) => find(mod, keyOf(c))).map(keyOf);
  const wanted = mod.map(keyOf);
  if (items.length) patch[k] = items;
  if (items.length || !jsonEqual(liveOrder, wanted)) patch[`$setElementOrder/${k}`] = mod.filter(isObj).map((mi) => ({ [key]: mi[key] }));
}
