/**
 * Strategic merge patch, as Kubernetes applies it to built-in kinds: like a JSON merge patch,
 * except that lists with a merge key (containers by name, ports by containerPort) are merged
 * item by item, lists of scalars with the merge strategy are merged as sets, and the
 * directives $patch (replace|delete|merge), $retainKeys, $deleteFromPrimitiveList/<field> and
 * $setElementOrder/<field> are honoured. Where the schema says nothing, lists are replaced.
 */
import { newBadRequest } from '../status.js';

/** Patch metadata of one field, from the kind's schema. */
export interface PatchMeta {
  mergeKey?: string;
  /** e.g. ['merge'], ['merge', 'retainKeys'], ['retainKeys'] */
  strategies: string[];
}

/** A position in a kind's schema: the patch metadata there and the way to its children. */
export interface SchemaNode {
  field(name: string): SchemaNode | undefined;
  item(): SchemaNode | undefined;
  meta(): PatchMeta;
}

const none: SchemaNode = { field: () => undefined, item: () => undefined, meta: () => ({ strategies: [] }) };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const deleteFromPrimitivePrefix = '$deleteFromPrimitiveList/';
const setElementOrderPrefix = '$setElementOrder/';

/** Applies `patch` to `original` (neither is modified) and returns the result. */
export function applyStrategicMergePatch(original: unknown, patch: unknown, schema: SchemaNode | undefined): unknown {
  if (!isObj(patch)) throw newBadRequest('a strategic merge patch must be a JSON object');
  return mergeMap(isObj(original) ? original : {}, patch, schema ?? none);
}

function mergeMap(original: Obj, patch: Obj, schema: SchemaNode): Obj {
  const directive = patch['$patch'];
  if (directive === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest) as Obj;
  }
  if (directive === 'delete') return {};
  if (directive !== undefined && directive !== 'merge') throw newBadRequest(`unknown patch type found: ${JSON.stringify(directive)}`);

  let out: Obj = { ...original };
  const retain = patch['$retainKeys'];
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw newBadRequest('$retainKeys must be a list of field names');
    const keep = new Set(retain.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  // $deleteFromPrimitiveList first, then $setElementOrder after the merge.
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(deleteFromPrimitivePrefix)) continue;
    const field = k.slice(deleteFromPrimitivePrefix.length);
    if (!Array.isArray(v)) throw newBadRequest(`${k} must be a list`);
    const cur = out[field];
    if (Array.isArray(cur)) {
      const drop = new Set(v.map((x) => JSON.stringify(x)));
      out[field] = cur.filter((x) => !drop.has(JSON.stringify(x)));
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith(deleteFromPrimitivePrefix) || k.startsWith(setElementOrderPrefix)) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const child = schema.field(k) ?? none;
    const cur = out[k];
    if (isObj(v)) {
      if (v['$patch'] === 'delete') {
        delete out[k];
        continue;
      }
      out[k] = mergeMap(isObj(cur) ? cur : {}, v, child);
    } else if (Array.isArray(v)) {
      out[k] = mergeList(Array.isArray(cur) ? cur : [], v, child);
    } else out[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(setElementOrderPrefix)) continue;
    const field = k.slice(setElementOrderPrefix.length);
    if (!Array.isArray(v)) throw newBadRequest(`${k} must be a list`);
    const list = out[field];
    if (Array.isArray(list)) out[field] = reorder(list, v, (schema.field(field) ?? none).meta().mergeKey);
  }
  return out;
}

function mergeList(original: unknown[], patch: unknown[], schema: SchemaNode): unknown[] {
  const meta = schema.meta();
  const merge = meta.strategies.includes('merge');
  // A list-level {$patch: replace} element replaces the whole list with the other elements.
  if (patch.some((p) => isObj(p) && p['$patch'] === 'replace' && Object.keys(p).length === 1)) {
    return stripDirectives(patch.filter((p) => !(isObj(p) && p['$patch'] === 'replace' && Object.keys(p).length === 1))) as unknown[];
  }
  if (!merge) return stripDirectives(patch) as unknown[];
  const key = meta.mergeKey;
  if (!key) {
    // Set of scalars: union, keeping the original order.
    const out = [...original];
    const seen = new Set(original.map((x) => JSON.stringify(x)));
    for (const p of patch) {
      if (isObj(p) && p['$patch'] === 'delete') continue;
      if (!seen.has(JSON.stringify(p))) {
        out.push(p);
        seen.add(JSON.stringify(p));
      }
    }
    return out;
  }
  const item = schema.item() ?? none;
  const out: unknown[] = [...original];
  for (const p of patch) {
    if (!isObj(p)) throw newBadRequest(`the items of a list merged by "${key}" must be objects`);
    const kv = p[key];
    if (kv === undefined) throw newBadRequest(`map: ${JSON.stringify(p)} does not contain declared merge key: ${key}`);
    const idx = out.findIndex((o) => isObj(o) && JSON.stringify(o[key]) === JSON.stringify(kv));
    if (p['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (p['$patch'] === 'replace') {
      const { $patch: _p, ...rest } = p;
      if (idx >= 0) out[idx] = stripDirectives(rest);
      else out.push(stripDirectives(rest));
      continue;
    }
    if (idx >= 0) out[idx] = mergeMap(out[idx] as Obj, p, item);
    else out.push(mergeMap({}, p, item));
  }
  return out;
}

/** Orders `list` as `order` says; items not named keep their relative order at the end. */
function reorder(list: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const keyOf = (x: unknown) => JSON.stringify(mergeKey && isObj(x) ? x[mergeKey] : x);
  const wanted = order.map((o) => JSON.stringify(mergeKey && isObj(o) ? o[mergeKey] : o));
  const pos = new Map(wanted.map((k, i) => [k, i]));
  const named = list.filter((x) => pos.has(keyOf(x))).sort((a, b) => pos.get(keyOf(a))! - pos.get(keyOf(b))!);
  const rest = list.filter((x) => !pos.has(keyOf(x)));
  return [...named, ...rest];
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith(setElementOrderPrefix) || k.startsWith(deleteFromPrimitivePrefix)) continue;
    if (x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}
