/**
 * Walking the zod schemas: unwrapping optional/nullable/default layers, reading each field's
 * metadata (description, patch strategy, merge key), and stepping into object fields, map
 * values and list items. Strategic merge patch, OpenAPI generation and unknown-field
 * detection are all built on this.
 */
import { z } from 'zod';
import type { PatchMeta, SchemaNode } from '../machinery/index.js';

export type Meta = Record<string, unknown>;

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  keyType?: z.ZodType;
  options?: z.ZodType[];
  getter?: () => z.ZodType;
  catchall?: z.ZodType;
}

export function defOf(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

type Unwrapped = { core: z.ZodType; meta: Meta; optional: boolean; nullable: boolean };
const unwrapped = new WeakMap<z.ZodType, Unwrapped>();

/** Strips wrapper layers, merging their metadata (outer layers win). Memoized: schemas never change. */
export function unwrap(schema: z.ZodType): Unwrapped {
  let u = unwrapped.get(schema);
  if (!u) unwrapped.set(schema, (u = unwrapUncached(schema)));
  return u;
}

function unwrapUncached(schema: z.ZodType): Unwrapped {
  let s = schema;
  const meta: Meta = {};
  let optional = false;
  let nullable = false;
  for (let i = 0; i < 20; i++) {
    const m = z.globalRegistry.get(s) as Meta | undefined;
    if (m) for (const [k, v] of Object.entries(m)) if (!(k in meta)) meta[k] = v;
    const d = defOf(s);
    if (d.type === 'optional' || d.type === 'default' || d.type === 'prefault' || d.type === 'readonly' || d.type === 'catch' || d.type === 'nonoptional') {
      if (d.type === 'optional' || d.type === 'default') optional = true;
      s = d.innerType!;
    } else if (d.type === 'nullable') {
      nullable = true;
      s = d.innerType!;
    } else if (d.type === 'pipe') {
      // A transform's input side describes what clients send.
      s = defOf(d.in!).type === 'transform' ? d.out! : d.in!;
    } else if (d.type === 'lazy') {
      s = d.getter!();
    } else break;
  }
  return { core: s, meta, optional, nullable };
}

/** The schema of field `name` of an object (or of any value of a map). */
export function fieldSchema(schema: z.ZodType, name: string): z.ZodType | undefined {
  const { core } = unwrap(schema);
  const d = defOf(core);
  if (d.type === 'object') return d.shape![name] ?? (d.catchall && defOf(d.catchall).type !== 'never' ? d.catchall : undefined);
  if (d.type === 'record') return d.valueType;
  if (d.type === 'intersection') return undefined;
  return undefined;
}

export function itemSchema(schema: z.ZodType): z.ZodType | undefined {
  const { core } = unwrap(schema);
  const d = defOf(core);
  return d.type === 'array' ? d.element : undefined;
}

/** The strategic-merge-patch view of a zod schema. */
export function schemaNode(schema: z.ZodType | undefined): SchemaNode | undefined {
  if (!schema) return undefined;
  return {
    field: (name) => schemaNode(fieldSchema(schema, name)),
    item: () => schemaNode(itemSchema(schema)),
    meta: (): PatchMeta => {
      const m = unwrap(schema).meta;
      const strategy = m['x-kubernetes-patch-strategy'];
      return {
        mergeKey: m['x-kubernetes-patch-merge-key'] as string | undefined,
        strategies: typeof strategy === 'string' ? strategy.split(',') : [],
      };
    },
  };
}

/**
 * Fields present in `value` that the schema does not know, as paths (`spec.containers[0].imagePolicy`).
 * Maps (records) and free-form fields accept any key.
 */
export function findUnknownFields(schema: z.ZodType, value: unknown, path = ''): string[] {
  const out: string[] = [];
  finderFor(schema)(value, path ? [path] : [], out);
  return out;
}

/**
 * A compiled unknown-field check per schema, as canonicalOrder's walks: the path is a stack of
 * segments (a field name, or "[i]" for an item or map value) joined only for a field reported.
 */
type Finder = (v: unknown, path: string[], out: string[]) => void;
const finders = new WeakMap<z.ZodType, Finder>();

function finderFor(schema: z.ZodType): Finder {
  let f = finders.get(schema);
  if (!f) finders.set(schema, (f = buildFinder(schema)));
  return f;
}

function pathText(path: string[], last: string): string {
  let s = '';
  for (const seg of [...path, last]) s += !s || seg.startsWith('[') ? seg : `.${seg}`;
  return s;
}

/** The check of scalars, free-form fields and the like: nothing to find. */
const findNothing: Finder = () => {};

function buildFinder(schema: z.ZodType): Finder {
  const { core, meta } = unwrap(schema);
  if (meta['x-kubernetes-preserve-unknown-fields']) return findNothing;
  const d = defOf(core);
  switch (d.type) {
    case 'object': {
      const shape = d.shape ?? {};
      const loose = !!d.catchall && defOf(d.catchall).type !== 'never';
      // Each declared field's check, resolved when a value first reaches it (null: nothing to check).
      const checks = new Map<string, Finder | null | undefined>(Object.keys(shape).map((k) => [k, undefined]));
      return (v, path, out) => {
        if (!v || typeof v !== 'object' || Array.isArray(v)) return;
        for (const k of Object.keys(v)) {
          let check = checks.get(k);
          if (check === undefined) {
            if (!checks.has(k)) {
              if (!loose) out.push(pathText(path, k));
              continue;
            }
            const f = finderFor(shape[k]!);
            checks.set(k, (check = f === findNothing ? null : f));
          }
          if (check === null) continue;
          path.push(k);
          check((v as Record<string, unknown>)[k], path, out);
          path.pop();
        }
      };
    }
    case 'array':
      return (v, path, out) => {
        if (!Array.isArray(v)) return;
        const each = finderFor(d.element!);
        if (each === findNothing) return;
        for (let i = 0; i < v.length; i++) {
          path.push(`[${i}]`);
          each(v[i], path, out);
          path.pop();
        }
      };
    case 'record':
      return (v, path, out) => {
        if (!v || typeof v !== 'object') return;
        const each = finderFor(d.valueType!);
        if (each === findNothing) return;
        for (const [k, x] of Object.entries(v)) {
          path.push(`[${k}]`);
          each(x, path, out);
          path.pop();
        }
      };
    case 'union':
      // A union accepts the first option that parses; report unknown fields against it.
      return (v, path, out) => {
        for (const opt of d.options ?? []) if (opt.safeParse(v).success) return finderFor(opt)(v, path, out);
      };
    default:
      return findNothing;
  }
}

type Reorder = (v: unknown) => unknown;
const reorders = new WeakMap<z.ZodType, Reorder>();

/**
 * Puts an object's fields in its schema's order, all the way down: the order a zod parse gives
 * (and upstream's Go structs serialize in), without validating again. Fields the schema does not
 * name keep their place after the named ones. For objects that admission plugins changed: what
 * they added lands where a client's decoded request would have it.
 *
 * Works in place where it can: an object whose own keys are already in order is kept (a child
 * that had to be rebuilt is put back into it), and only objects out of order are rebuilt; so the
 * result may be `value` itself, changed. A pod that a plugin gave one volume rebuilds two objects.
 */
export function canonicalOrder(schema: z.ZodType, value: unknown): unknown {
  return reorderFor(schema)(value);
}

/** A field's path from the root: field names, and item indexes in lists. */
export type FieldPath = readonly (string | number)[];

/**
 * canonicalOrder for a few known changes, without walking the rest: each value at `paths` is put
 * in its schema's order (all the way down), and every object on the way to it gets its own keys
 * in order (so that a key added to it lands where a decoded request would have it). The rest of
 * the object is taken to be in order already. Returns `root`, or a copy where its own keys moved.
 */
export function canonicalOrderAt(schema: z.ZodType, root: unknown, paths: readonly FieldPath[]): unknown {
  return orderAt(schema, root, paths, 0);
}

/** canonicalOrderAt below one value: `paths` from the root, of which `depth` segments lead to `v`. */
function orderAt(schema: z.ZodType, v: unknown, paths: readonly FieldPath[], depth: number): unknown {
  if (!v || typeof v !== 'object') return v;
  const holder = v as Record<string | number, unknown>;
  // Each segment that comes next, once: the values there, walked with the paths that go on.
  for (let i = 0; i < paths.length; i++) {
    const seg = paths[i]![depth]!;
    if (paths.findIndex((p) => p[depth] === seg) < i || !Object.hasOwn(holder, seg)) continue;
    const child = typeof seg === 'number' ? itemSchema(schema) : fieldSchema(schema, seg);
    if (!child) continue;
    const x = holder[seg];
    const ending = paths.some((p) => p.length === depth + 1 && p[depth] === seg);
    const y = ending ? canonicalOrder(child, x) : orderAt(child, x, paths.filter((p) => p.length > depth + 1 && p[depth] === seg), depth + 1);
    if (y !== x) holder[seg] = y;
  }
  return isPlainObject(v) ? ownKeysInOrder(schema, v) : v;
}

const fieldRanks = new WeakMap<z.ZodType, Map<string, number> | null>();

/** An object schema's fields by their place (null for other schemas). */
function ranksOf(schema: z.ZodType): Map<string, number> | null {
  let r = fieldRanks.get(schema);
  if (r === undefined) {
    const d = defOf(unwrap(schema).core);
    r = d.type === 'object' ? new Map(Object.keys(d.shape ?? {}).map((k, i) => [k, i])) : null;
    fieldRanks.set(schema, r);
  }
  return r;
}

/** `obj` itself when its own keys are in its schema's order, else a copy with them in order (values untouched). */
function ownKeysInOrder(schema: z.ZodType, obj: Record<string, unknown>): Record<string, unknown> {
  const ranks = ranksOf(schema);
  const own = Object.keys(obj);
  if (!ranks || ranksAscend(own, (k) => ranks.get(k) ?? ranks.size)) return obj;
  const out: Record<string, unknown> = {};
  for (const k of ranks.keys()) if (Object.hasOwn(obj, k)) out[k] = obj[k];
  for (const k of own) if (!ranks.has(k)) out[k] = obj[k];
  return out;
}

/** Whether keys are in their schema's order: their ranks never go down (unnamed fields rank last). */
function ranksAscend(own: string[], rank: (k: string) => number): boolean {
  for (let i = 0, last = -1; i < own.length; i++) {
    const r = rank(own[i]!);
    if (r < last) return false;
    last = r;
  }
  return true;
}

/** Memoized per schema; nested schemas are looked up when a value reaches them, so recursion is fine. */
function reorderFor(schema: z.ZodType): Reorder {
  let f = reorders.get(schema);
  if (!f) reorders.set(schema, (f = buildReorder(schema)));
  return f;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The walk of scalars (and of anything without fields): nothing to do. */
const keep: Reorder = (v) => v;

/** A field of an object schema: its place, and the walk of its value (null: a scalar, none). */
interface FieldOrder {
  rank: number;
  schema: z.ZodType;
  walk: Reorder | null | undefined;
}

/** A field's walk, resolved when a value first reaches it. */
function walkOf(f: FieldOrder): Reorder | null {
  if (f.walk === undefined) {
    const w = reorderFor(f.schema);
    f.walk = w === keep ? null : w;
  }
  return f.walk;
}

function buildReorder(schema: z.ZodType): Reorder {
  const d = defOf(unwrap(schema).core);
  switch (d.type) {
    case 'object': {
      const shape = d.shape ?? {};
      const keys = Object.keys(shape);
      // One lookup a field: its rank and walk (fields the schema does not name rank last and
      // take the catchall's walk, if any).
      const fields = new Map<string, FieldOrder>(keys.map((k, i) => [k, { rank: i, schema: shape[k]!, walk: undefined }]));
      const catchall = d.catchall && defOf(d.catchall).type !== 'never' ? ({ rank: keys.length, schema: d.catchall, walk: undefined } as FieldOrder) : undefined;
      return (v) => {
        if (!isPlainObject(v)) return v;
        const own = Object.keys(v);
        if (ranksAscend(own, (k) => fields.get(k)?.rank ?? keys.length)) {
          for (let i = 0; i < own.length; i++) {
            const k = own[i]!;
            const f = fields.get(k) ?? catchall;
            const walk = f && walkOf(f);
            if (!walk) continue;
            const x = v[k];
            const y = walk(x);
            if (y !== x) v[k] = y;
          }
          return v;
        }
        const out: Record<string, unknown> = {};
        for (const k of keys) {
          if (!Object.hasOwn(v, k)) continue;
          const walk = walkOf(fields.get(k)!);
          out[k] = walk ? walk(v[k]) : v[k];
        }
        for (const k of own) {
          if (fields.has(k)) continue;
          const walk = catchall && walkOf(catchall);
          out[k] = walk ? walk(v[k]) : v[k];
        }
        return out;
      };
    }
    case 'record':
      return (v) => {
        if (!isPlainObject(v) || !d.valueType) return v;
        const each = reorderFor(d.valueType);
        if (each === keep) return v;
        for (const k of Object.keys(v)) {
          const x = v[k];
          const y = each(x);
          if (y !== x) v[k] = y;
        }
        return v;
      };
    case 'array':
      return (v) => {
        if (!Array.isArray(v) || !d.element) return v;
        const each = reorderFor(d.element);
        if (each === keep) return v;
        for (let i = 0; i < v.length; i++) {
          const x: unknown = v[i];
          const y = each(x);
          if (y !== x) v[i] = y;
        }
        return v;
      };
    default:
      return keep;
  }
}

/*
 * Empty lists and maps, as upstream stores and serves them. Go's JSON encoding leaves out an
 * empty slice or map of an `omitempty` field, and protobuf storage cannot tell an empty one
 * from none; so an object written with `labels: {}` or left with `finalizers: []` reads back
 * without the field. The few optional lists that are not `omitempty` upstream (they read back
 * as null there) are marked with keepsEmpty and stay.
 */
type Prune = (v: unknown) => void;
const prunes = new WeakMap<z.ZodType, Prune>();
const keptEmpty = new WeakSet<z.ZodType>();

/** Marks an optional list or map field that an empty value does not leave (no omitempty upstream). */
export function keepsEmpty<T extends z.ZodType>(schema: T): T {
  keptEmpty.add(schema);
  return schema;
}

/**
 * Removes, in place and all the way down, the optional list and map fields of `value` that are
 * empty (or null). Structs stay even when empty (`resources: {}`, `status: {}`), as do list
 * items and map values, and nothing under a free-form field is touched.
 */
export function dropEmptyFields(schema: z.ZodType, value: unknown): void {
  pruneFor(schema)(value);
}

const pruneNothing: Prune = () => {};

function pruneFor(schema: z.ZodType): Prune {
  let f = prunes.get(schema);
  if (!f) prunes.set(schema, (f = buildPrune(schema)));
  return f;
}

function isEmptyCollection(v: unknown): boolean {
  if (v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (!isPlainObject(v)) return false;
  for (const k in v) if (Object.hasOwn(v, k)) return false;
  return true;
}

/** A field of an object schema: whether an empty value goes, and the walk of its value (null: none). */
interface FieldPrune {
  droppable: boolean;
  schema: z.ZodType;
  walk: Prune | null | undefined;
}

function fieldPrune(schema: z.ZodType): FieldPrune {
  const u = unwrap(schema);
  const t = defOf(u.core).type;
  const droppable = u.optional && (t === 'array' || t === 'record') && !keptEmpty.has(schema) && !u.meta['x-kubernetes-preserve-unknown-fields'];
  return { droppable, schema, walk: undefined };
}

function buildPrune(schema: z.ZodType): Prune {
  const { core, meta } = unwrap(schema);
  if (meta['x-kubernetes-preserve-unknown-fields']) return pruneNothing;
  const d = defOf(core);
  switch (d.type) {
    case 'object': {
      const shape = d.shape ?? {};
      const fields = new Map<string, FieldPrune>(Object.keys(shape).map((k) => [k, fieldPrune(shape[k]!)]));
      return (v) => {
        if (!isPlainObject(v)) return;
        for (const k of Object.keys(v)) {
          const f = fields.get(k);
          if (!f) continue;
          const x = v[k];
          if (f.droppable && isEmptyCollection(x)) {
            delete v[k];
            continue;
          }
          if (f.walk === undefined) {
            const w = pruneFor(f.schema);
            f.walk = w === pruneNothing ? null : w;
          }
          f.walk?.(x);
        }
      };
    }
    case 'array':
      return (v) => {
        if (!Array.isArray(v) || !d.element) return;
        const each = pruneFor(d.element);
        if (each === pruneNothing) return;
        for (const x of v) each(x);
      };
    case 'record':
      return (v) => {
        if (!isPlainObject(v) || !d.valueType) return;
        const each = pruneFor(d.valueType);
        if (each === pruneNothing) return;
        for (const k of Object.keys(v)) each(v[k]);
      };
    default:
      return pruneNothing;
  }
}
