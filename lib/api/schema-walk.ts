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
  const { core, meta } = unwrap(schema);
  if (meta['x-kubernetes-preserve-unknown-fields']) return [];
  const d = defOf(core);
  const out: string[] = [];
  if (d.type === 'object' && value && typeof value === 'object' && !Array.isArray(value)) {
    const loose = d.catchall && defOf(d.catchall).type !== 'never';
    for (const [k, v] of Object.entries(value)) {
      const child = d.shape![k];
      if (!child) {
        if (!loose) out.push(path ? `${path}.${k}` : k);
        continue;
      }
      out.push(...findUnknownFields(child, v, path ? `${path}.${k}` : k));
    }
  } else if (d.type === 'array' && Array.isArray(value)) {
    value.forEach((v, i) => out.push(...findUnknownFields(d.element!, v, `${path}[${i}]`)));
  } else if (d.type === 'record' && value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...findUnknownFields(d.valueType!, v, `${path}[${k}]`));
  } else if (d.type === 'union') {
    // A union accepts the first option that parses; report unknown fields against it.
    for (const opt of d.options ?? []) if (opt.safeParse(value).success) return findUnknownFields(opt, value, path);
  }
  return out;
}

type Reorder = (v: unknown) => unknown;
const reorders = new WeakMap<z.ZodType, Reorder>();

/**
 * Puts an object's fields in its schema's order, all the way down: the order a zod parse gives
 * (and upstream's Go structs serialize in), without validating again. Fields the schema does not
 * name keep their place after the named ones. For objects that admission plugins changed: what
 * they added lands where a client's decoded request would have it.
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

function buildReorder(schema: z.ZodType): Reorder {
  const d = defOf(unwrap(schema).core);
  switch (d.type) {
    case 'object': {
      const shape = d.shape ?? {};
      const keys = Object.keys(shape);
      const catchall = d.catchall && defOf(d.catchall).type !== 'never' ? d.catchall : undefined;
      return (v) => {
        if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
        const src = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const k of keys) if (Object.hasOwn(src, k)) out[k] = reorderFor(shape[k]!)(src[k]);
        for (const k of Object.keys(src)) if (!Object.hasOwn(shape, k)) out[k] = catchall ? reorderFor(catchall)(src[k]) : src[k];
        return out;
      };
    }
    case 'record':
      return (v) => {
        if (!v || typeof v !== 'object' || Array.isArray(v) || !d.valueType) return v;
        const each = reorderFor(d.valueType);
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = each(x);
        return out;
      };
    case 'array':
      return (v) => (Array.isArray(v) && d.element ? v.map(reorderFor(d.element)) : v);
    default:
      return (v) => v;
  }
}
