/**
 * Field sets of values and the operations server-side apply builds on, each a walk over a
 * value (or two) guided by a FieldType:
 *
 *   fieldSetOf       the fields a value sets (what an applied configuration claims)
 *   compareValues    which fields were added, modified and removed between two values
 *   mergeValues      the applied configuration laid over the live object
 *   removeFields     drops members of a set (and everything below them) from a value
 *   withNamedFields  a set plus the struct fields that lead to its members
 *   dropUnknownFields  a configuration without the fields its kind does not have
 *
 * The rules are upstream's (kubernetes-sigs/structured-merge-diff): struct fields are members
 * only when null or an empty object; map entries and list items are always members; atomic
 * lists, maps and structs are single leaves; an associative list item is named by its keys.
 */
import { jsonEqual } from '../json.js';
import { fieldElement, pathText, valueElement, type Path, type PathElement } from './path.js';
import { FieldSet } from './set.js';
import { untypedType, type FieldType, type ListType } from './types.js';

type Obj = Record<string, unknown>;
type Scalar = string | number | boolean | null;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** A value that does not fit its type in a way apply cannot work with (a list item without its key). */
export class FieldTypeError extends Error {
  override readonly name = 'FieldTypeError';
  constructor(
    readonly path: Path,
    readonly detail: string,
  ) {
    super(path.length ? `${pathText(path)}: ${detail}` : detail);
  }
}

interface Child {
  type: FieldType;
  /** A field the struct declares (as opposed to a map entry or an undeclared field). */
  declared: boolean;
}

interface Item {
  pe: PathElement;
  value: unknown;
}

type Shape =
  | { kind: 'leaf' }
  | { kind: 'fields'; child(name: string): Child }
  | { kind: 'set'; items: Item[] }
  | { kind: 'assoc'; items: Item[]; list: ListType };

const leaf: Shape = { kind: 'leaf' };

const sortedKeysOf = new WeakMap<ListType, string[]>();

function keyItems(list: ListType, arr: unknown[], path: Path): Item[] {
  const seen = new Set<PathElement>();
  let sorted = sortedKeysOf.get(list);
  if (!sorted) sortedKeysOf.set(list, (sorted = [...list.keys].sort()));
  return arr.map((item, i) => {
    if (item === null) throw new FieldTypeError(path, `element ${i}: associative list with keys may not have a null element`);
    if (!isObj(item)) throw new FieldTypeError(path, `element ${i}: associative list with keys may not have non-map elements`);
    const keys: Record<string, Scalar> = {};
    let text = '';
    for (const k of sorted) {
      let v = item[k];
      if (v === undefined) v = list.keyDefault?.(k);
      if (v === undefined) throw new FieldTypeError(path, `element ${i}: associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`);
      if (!isScalar(v)) throw new FieldTypeError(path, `element ${i}: associative list with keys has an element whose key field ${JSON.stringify(k)} is not a scalar`);
      keys[k] = v;
      text += `${text ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(v)}`;
    }
    // The same text keyElement(keys) makes, without sorting per item.
    const pe = `k:{${text}}`;
    if (seen.has(pe)) throw new FieldTypeError(path, `duplicate entries for key ${keyText(keys)}`);
    seen.add(pe);
    return { pe, value: item };
  });
}

function keyText(keys: Record<string, Scalar>): string {
  return `[${Object.keys(keys)
    .sort()
    .map((k) => `${k}=${JSON.stringify(keys[k])}`)
    .join(',')}]`;
}

function setItems(arr: unknown[], path: Path): Item[] {
  const seen = new Set<PathElement>();
  return arr.map((v, i) => {
    if (!isScalar(v)) throw new FieldTypeError(path, `element ${i}: associative list without keys has an element that's a ${Array.isArray(v) ? 'list' : 'map'} type`);
    const pe = valueElement(v);
    if (seen.has(pe)) throw new FieldTypeError(path, `duplicate entries for key [=${JSON.stringify(v)}]`);
    seen.add(pe);
    return { pe, value: v };
  });
}

/** The 'fields' shape of a struct, map or untyped value: one per type, its children resolved once per name. */
const fieldShapes = new WeakMap<FieldType, Shape>();
const untypedChild: Child = { type: untypedType, declared: false };
const untypedFields: Shape = { kind: 'fields', child: () => untypedChild };

function fieldsShape(t: FieldType & { kind: 'struct' | 'map' }): Shape {
  let shape = fieldShapes.get(t);
  if (shape) return shape;
  if (t.kind === 'map') {
    let child: Child | undefined;
    shape = { kind: 'fields', child: () => (child ??= { type: t.value(), declared: false }) };
  } else {
    const declared = new Map<string, Child>();
    let extra: Child | undefined;
    shape = {
      kind: 'fields',
      child: (name) => {
        const known = declared.get(name);
        if (known) return known;
        const f = t.field(name);
        if (f) {
          const c = { type: f, declared: true };
          declared.set(name, c);
          return c;
        }
        return (extra ??= { type: t.extra?.() ?? untypedType, declared: false });
      },
    };
  }
  fieldShapes.set(t, shape);
  return shape;
}

/**
 * How a value is walked. `strict` (applied configurations) throws on list items that cannot
 * be keyed; otherwise (stored objects) such a list is treated as one atomic value.
 */
function shapeOf(t: FieldType, v: unknown, path: Path, strict: boolean): Shape {
  if (v === null || v === undefined) return leaf;
  switch (t.kind) {
    case 'scalar':
      return leaf;
    case 'untyped':
      return isObj(v) ? untypedFields : leaf;
    case 'struct':
    case 'map':
      if (!isObj(v) || t.atomic) return leaf;
      return fieldsShape(t);
    case 'list': {
      if (!Array.isArray(v) || t.listType === 'atomic') return leaf;
      try {
        if (t.listType === 'set') return { kind: 'set', items: setItems(v, path) };
        return { kind: 'assoc', items: keyItems(t, v, path), list: t };
      } catch (err) {
        if (strict) throw err;
        return leaf;
      }
    }
  }
}

const emptyObject = (v: unknown) => isObj(v) && Object.keys(v).length === 0;

/** The fields `value` sets. With `strict`, values apply cannot key throw FieldTypeError. */
export function fieldSetOf(value: unknown, type: FieldType, strict = false): FieldSet {
  const set = new FieldSet();
  collect(value, type, [], set, strict, false);
  return set;
}

/**
 * Adds what `v` sets to `node`, the set's node for `path`. `everyNode` also adds every
 * struct, map and list item on the way (the paths a whole new or removed subtree touches, as a
 * comparison reports them). Children that end up holding nothing are dropped again.
 */
function collect(v: unknown, t: FieldType, path: PathElement[], node: FieldSet, strict: boolean, everyNode: boolean) {
  const s = shapeOf(t, v, path, strict);
  const top = path.length === 0;
  switch (s.kind) {
    case 'leaf':
      if (!top) node.member = true;
      return;
    case 'fields':
      if (everyNode && !top) node.member = true;
      for (const [k, cv] of Object.entries(v as Obj)) {
        if (cv === undefined) continue;
        const c = s.child(k);
        const e = fieldElement(k);
        const n = node.child(e);
        path.push(e);
        collect(cv, c.type, path, n, strict, everyNode);
        path.pop();
        if (cv === null || emptyObject(cv) || !c.declared) n.member = true;
        if (n.isEmpty()) node.children.delete(e);
      }
      return;
    case 'set':
      if (everyNode && !top) node.member = true;
      for (const it of s.items) node.child(it.pe).member = true;
      return;
    case 'assoc': {
      if (everyNode && !top) node.member = true;
      const itemType = s.list.item();
      for (const it of s.items) {
        const n = node.child(it.pe);
        path.push(it.pe);
        collect(it.value, itemType, path, n, strict, everyNode);
        path.pop();
        n.member = true;
      }
      return;
    }
  }
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** What changed from `lhs` to `rhs`: leaves that differ are modified; new and gone subtrees list every node. */
export function compareValues(lhs: unknown, rhs: unknown, type: FieldType): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareAt(lhs, rhs, type, [], c);
  return c;
}

/** Collects a whole new or removed subtree at `path` into `set`. */
function collectSubtree(v: unknown, t: FieldType, path: PathElement[], set: FieldSet) {
  const sub = new FieldSet();
  collect(v, t, [...path], sub, false, true);
  if (!path.length) {
    for (const [e, c] of sub.children) set.children.set(e, c);
    return;
  }
  let n = set;
  for (const e of path.slice(0, -1)) n = n.child(e);
  sub.member = true;
  n.children.set(path[path.length - 1]!, sub);
}

const isPrimitive = (v: unknown) => v === null || typeof v !== 'object';

function compareAt(l: unknown, r: unknown, t: FieldType, path: PathElement[], c: Comparison) {
  if (l === undefined && r === undefined) return;
  if (l === undefined) return collectSubtree(r, t, path, c.added);
  if (r === undefined) return collectSubtree(l, t, path, c.removed);
  if (isPrimitive(l) && isPrimitive(r)) {
    if (l !== r && path.length) c.modified.insert(path);
    return;
  }
  const sl = shapeOf(t, l, path, false);
  const sr = shapeOf(t, r, path, false);
  if (sl.kind !== sr.kind || sl.kind === 'leaf') {
    if (!jsonEqual(l, r) && path.length) c.modified.insert(path);
    return;
  }
  if (sl.kind === 'fields' && sr.kind === 'fields') {
    const lo = l as Obj;
    const ro = r as Obj;
    for (const k of new Set([...Object.keys(lo), ...Object.keys(ro)])) {
      path.push(fieldElement(k));
      compareAt(lo[k], ro[k], sl.child(k).type, path, c);
      path.pop();
    }
    return;
  }
  if (sl.kind === 'set' && sr.kind === 'set') {
    const ls = new Set(sl.items.map((i) => i.pe));
    const rs = new Set(sr.items.map((i) => i.pe));
    for (const e of ls) if (!rs.has(e)) c.removed.insert([...path, e]);
    for (const e of rs) if (!ls.has(e)) c.added.insert([...path, e]);
    return;
  }
  if (sl.kind === 'assoc' && sr.kind === 'assoc') {
    const itemType = sl.list.item();
    const lm = new Map(sl.items.map((i) => [i.pe, i.value]));
    const rm = new Map(sr.items.map((i) => [i.pe, i.value]));
    for (const e of new Set([...lm.keys(), ...rm.keys()])) {
      path.push(e);
      compareAt(lm.get(e), rm.get(e), itemType, path, c);
      path.pop();
    }
  }
}

/**
 * `rhs` (an applied configuration) laid over `lhs` (the live object): its scalars and atomic
 * values win, structs and maps merge field by field, sets take the union, and associative
 * lists merge item by item. Items only the live object has keep their place before the next
 * item both share; the configuration's items come in its order.
 */
export function mergeValues(lhs: unknown, rhs: unknown, type: FieldType): unknown {
  return mergeAt(lhs, rhs, type, []);
}

function mergeAt(l: unknown, r: unknown, t: FieldType, path: PathElement[]): unknown {
  if (r === undefined) return structuredClone(l);
  if (l === undefined) return structuredClone(r);
  const sl = shapeOf(t, l, path, false);
  const sr = shapeOf(t, r, path, true);
  if (sl.kind !== sr.kind || sl.kind === 'leaf') return structuredClone(r);
  if (sl.kind === 'fields' && sr.kind === 'fields') {
    const lo = l as Obj;
    const ro = r as Obj;
    const out: Obj = {};
    for (const [k, v] of Object.entries(lo)) out[k] = k in ro ? mergeAt(v, ro[k], sl.child(k).type, [...path, fieldElement(k)]) : structuredClone(v);
    for (const [k, v] of Object.entries(ro)) if (!(k in lo)) out[k] = structuredClone(v);
    return out;
  }
  if ((sl.kind === 'set' && sr.kind === 'set') || (sl.kind === 'assoc' && sr.kind === 'assoc')) {
    const itemType = sl.kind === 'assoc' ? sl.list.item() : untypedType;
    return mergeItems(sl.items, sr.items, (a, b, pe) => (sl.kind === 'set' ? b : mergeAt(a, b, itemType, [...path, pe])));
  }
  return structuredClone(r);
}

/**
 * Interleaves two keyed lists as upstream does: walking both, an item only the live list has
 * is kept where it stands; the configuration's items come in its order, each merged with its
 * live counterpart; a shared item the configuration moved is emitted at its new place.
 */
function mergeItems(left: Item[], right: Item[], merge: (l: unknown, r: unknown, pe: PathElement) => unknown): unknown[] {
  const leftByKey = new Map(left.map((it) => [it.pe, it.value]));
  const rightKeys = new Set(right.map((it) => it.pe));
  const shared = right.filter((it) => leftByKey.has(it.pe)).map((it) => it.pe);
  let nextShared = 0;
  const done = new Set<PathElement>();
  const out: unknown[] = [];
  const emitRight = (it: Item) => {
    done.add(it.pe);
    out.push(leftByKey.has(it.pe) ? merge(leftByKey.get(it.pe), it.value, it.pe) : structuredClone(it.value));
    if (shared[nextShared] === it.pe) nextShared++;
  };
  let li = 0;
  let ri = 0;
  while (li < left.length || ri < right.length) {
    const l = left[li];
    const r = right[ri];
    if (l && r) {
      if (l.pe === r.pe) {
        emitRight(r);
        li++;
        ri++;
        continue;
      }
      // A shared item that comes later in the configuration: not its turn yet.
      if (rightKeys.has(l.pe) && nextShared < shared.length && shared[nextShared] !== l.pe && !done.has(l.pe)) {
        li++;
        continue;
      }
    }
    if (l) {
      if (!rightKeys.has(l.pe)) {
        out.push(structuredClone(l.value));
        li++;
        continue;
      }
      if (done.has(l.pe)) {
        li++;
        continue;
      }
    }
    if (r) {
      emitRight(r);
      ri++;
    } else li++;
  }
  return out;
}

/** `value` without the members of `set` (each taking its whole subtree along). */
export function removeFields(value: unknown, set: FieldSet, type: FieldType): unknown {
  return removeAt(value, set, type, []);
}

function removeAt(v: unknown, node: FieldSet, t: FieldType, path: PathElement[]): unknown {
  if (node.children.size === 0) return v;
  const s = shapeOf(t, v, path, false);
  switch (s.kind) {
    case 'leaf':
      return v;
    case 'fields': {
      const out: Obj = {};
      for (const [k, cv] of Object.entries(v as Obj)) {
        const c = node.children.get(fieldElement(k));
        if (!c) out[k] = cv;
        else if (!c.member) out[k] = removeAt(cv, c, s.child(k).type, [...path, fieldElement(k)]);
      }
      return out;
    }
    case 'set':
      return s.items.filter((it) => !node.children.get(it.pe)?.member).map((it) => it.value);
    case 'assoc': {
      const itemType = s.list.item();
      const out: unknown[] = [];
      for (const it of s.items) {
        const c = node.children.get(it.pe);
        if (!c) out.push(it.value);
        else if (!c.member) out.push(removeAt(it.value, c, itemType, [...path, it.pe]));
      }
      return out;
    }
  }
}

/**
 * `set` plus every declared struct field on the way to its members: owning `.spec.replicas`
 * also means relying on `.spec` being there. Map entries and list items are not added.
 */
export function withNamedFields(set: FieldSet, type: FieldType): FieldSet {
  const out = new FieldSet();
  out.member = set.member;
  for (const [e, c] of set.children) {
    const { child, named } = childOf(type, e);
    const n = withNamedFields(c, child);
    if (named) n.member = true;
    out.children.set(e, n);
  }
  return out;
}

function childOf(t: FieldType, e: PathElement): { child: FieldType; named: boolean } {
  const isField = e.startsWith('f:');
  switch (t.kind) {
    case 'struct': {
      if (!isField) return { child: untypedType, named: false };
      const f = t.field(e.slice(2));
      if (f) return { child: f, named: !t.extra };
      return { child: t.extra?.() ?? untypedType, named: false };
    }
    case 'map':
      return { child: isField ? t.value() : untypedType, named: false };
    case 'list':
      return { child: isField ? untypedType : t.item(), named: false };
    default:
      return { child: untypedType, named: false };
  }
}

/**
 * A configuration without the fields its kind does not declare (after they were reported or
 * refused per fieldValidation), so that they are neither merged nor owned.
 */
export function dropUnknownFields(value: unknown, type: FieldType): unknown {
  switch (type.kind) {
    case 'struct': {
      if (!isObj(value)) return value;
      const out: Obj = {};
      for (const [k, v] of Object.entries(value)) {
        const f = type.field(k);
        if (f) out[k] = dropUnknownFields(v, f);
        else if (type.extra?.()) out[k] = v;
      }
      return out;
    }
    case 'map':
      if (!isObj(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, dropUnknownFields(v, type.value())]));
    case 'list':
      return Array.isArray(value) ? value.map((v) => dropUnknownFields(v, type.item())) : value;
    default:
      return value;
  }
}
