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

function buildFinder(schema: z.ZodType): Finder {
  const { core, meta } = unwrap(schema);
  if (meta['x-kubernetes-preserve-unknown-fields']) return () => {};
  const d = defOf(core);
  switch (d.type) {
    case 'object': {
      const shape = d.shape ?? {};
      const loose = !!d.catchall && defOf(d.catchall).type !== 'never';
      return (v, path, out) => {
        if (!v || typeof v !== 'object' || Array.isArray(v)) return;
        for (const k of Object.keys(v)) {
          if (!Object.hasOwn(shape, k)) {
            if (!loose) out.push(pathText(path, k));
            continue;
          }
          path.push(k);
          finderFor(shape[k]!)((v as Record<string, unknown>)[k], path, out);
          path.pop();
        }
      };
    }
    case 'array':
      return (v, path, out) => {
        if (!Array.isArray(v)) return;
        const each = finderFor(d.element!);
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
      return () => {};
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

/** Memoized per schema; nested schemas are looked up when a value reaches them, so recursion is fine. */
function reorderFor(schema: z.ZodType): Reorder {
  let f = reorders.get(schema);
  if (!f) reorders.set(schema, (f = buildReorder(schema)));
  return f;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function buildReorder(schema: z.ZodType): Reorder {
  const d = defOf(unwrap(schema).core);
  switch (d.type) {
    case 'object': {
      const shape = d.shape ?? {};
      const keys = Object.keys(shape);
      const rank = new Map(keys.map((k, i) => [k, i]));
      const catchall = d.catchall && defOf(d.catchall).type !== 'never' ? d.catchall : undefined;
      // Each declared field's walk, resolved once; other fields take the catchall's walk, if any.
      const resolved = new Map<string, Reorder>();
      const childOf = (k: string): Reorder | undefined => {
        if (!Object.hasOwn(shape, k)) return catchall && reorderFor(catchall);
        let f = resolved.get(k);
        if (!f) resolved.set(k, (f = reorderFor(shape[k]!)));
        return f;
      };
      return (v) => {
        if (!isPlainObject(v)) return v;
        const own = Object.keys(v);
        // In order when the ranks never go down (fields the schema does not name rank last).
        let inOrder = true;
        for (let i = 0, last = -1; i < own.length; i++) {
          const r = rank.get(own[i]!) ?? keys.length;
          if (r < last) {
            inOrder = false;
            break;
          }
          last = r;
        }
        if (inOrder) {
          for (const k of own) {
            const f = childOf(k);
            if (!f) continue;
            const x = v[k];
            const y = f(x);
            if (y !== x) v[k] = y;
          }
          return v;
        }
        const out: Record<string, unknown> = {};
        for (const k of keys) if (Object.hasOwn(v, k)) out[k] = childOf(k)!(v[k]);
        for (const k of own) {
          if (Object.hasOwn(shape, k)) continue;
          const f = childOf(k);
          out[k] = f ? f(v[k]) : v[k];
        }
        return out;
      };
    }
    case 'record':
      return (v) => {
        if (!isPlainObject(v) || !d.valueType) return v;
        const each = reorderFor(d.valueType);
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
        for (let i = 0; i < v.length; i++) {
          const x: unknown = v[i];
          const y = each(x);
          if (y !== x) v[i] = y;
        }
        return v;
      };
    default:
      return (v) => v;
  }
}
