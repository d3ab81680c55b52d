/**
 * zod → OpenAPI schema objects. A zod schema that carries `.meta({ id })` becomes a named
 * definition, referenced with `$ref` wherever it is used; everything else is written inline.
 * Field docs, formats and the `x-kubernetes-*` extensions ride along from `.meta()`.
 *
 * Two dialects, because kubectl reads both and they differ in small ways:
 *   v3 (OpenAPI 3.0): refs point at #/components/schemas/; a ref with its own description
 *      is wrapped as `{ allOf: [{ $ref }], description }` since siblings of $ref are ignored;
 *      `nullable` and `anyOf` exist.
 *   v2 (Swagger 2.0): refs point at #/definitions/ and may carry a description beside them;
 *      no nullable, no anyOf (kubectl's v2 model parser rejects what it does not know).
 */
import { z } from 'zod';
import { defOf } from '../schema-walk.js';

export type Dialect = 'v2' | 'v3';

/** An OpenAPI schema object (plain JSON). */
export type SchemaObject = { [key: string]: unknown };

type Meta = Record<string, unknown>;

export function refPrefix(dialect: Dialect): string {
  return dialect === 'v3' ? '#/components/schemas/' : '#/definitions/';
}

/** Layers that only change optionality, nullability or defaults: peeled to reach the type. */
const wrapperTypes = new Set(['optional', 'default', 'prefault', 'readonly', 'catch', 'nonoptional', 'nullable', 'lazy', 'pipe']);

interface Peeled {
  /** The layer that carries an `id`, when one is met before the core type. */
  named?: { id: string; schema: z.ZodType };
  core: z.ZodType;
  /** Metadata of the layers above `named` (or above the core), outer layers winning. */
  meta: Meta;
  optional: boolean;
  nullable: boolean;
  default?: unknown;
}

function metaOf(s: z.ZodType): Meta | undefined {
  return z.globalRegistry.get(s) as Meta | undefined;
}

/**
 * Walks down wrapper layers. With `stopAtId` the walk ends at the first layer naming a
 * definition; the top layer's own id is ignored when `ignoreTopId` is set (that is the
 * definition being written).
 */
function peel(schema: z.ZodType, stopAtId: boolean, ignoreTopId = false): Peeled {
  let s = schema;
  const meta: Meta = {};
  let optional = false;
  let nullable = false;
  let dflt: unknown;
  for (let depth = 0; depth < 32; depth++) {
    const m = metaOf(s);
    if (stopAtId && m && typeof m['id'] === 'string' && !(ignoreTopId && depth === 0)) {
      return { named: { id: m['id'], schema: s }, core: s, meta, optional, nullable, default: dflt };
    }
    if (m) for (const [k, v] of Object.entries(m)) if (!(k in meta) && k !== 'id') meta[k] = v;
    const d = defOf(s);
    if (!wrapperTypes.has(d.type)) break;
    if (d.type === 'optional') optional = true;
    else if (d.type === 'default' || d.type === 'prefault') {
      optional = true;
      if (dflt === undefined) dflt = defaultValueOf(d as unknown as { defaultValue: unknown });
    } else if (d.type === 'nullable') nullable = true;
    if (d.type === 'lazy') s = d.getter!();
    else if (d.type === 'pipe') s = defOf(d.in!).type === 'transform' ? d.out! : d.in!; // what clients send
    else s = d.innerType!;
  }
  const t = defOf(s).type;
  if (t === 'unknown' || t === 'any' || t === 'undefined') optional = true;
  return { core: s, meta, optional, nullable, default: dflt };
}

function defaultValueOf(d: { defaultValue: unknown }): unknown {
  const v = d.defaultValue;
  const value = typeof v === 'function' ? (v as () => unknown)() : v;
  // Only plain JSON values make sense in a document.
  try {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  } catch {
    return undefined;
  }
}

function isInteger(s: z.ZodType): boolean {
  const checks = (defOf(s) as unknown as { checks?: { _zod: { def: { check: string; format?: string } } }[] }).checks ?? [];
  return checks.some((c) => c._zod.def.check === 'number_format' && /int/.test(c._zod.def.format ?? ''));
}

/** Descriptions for the fields every kind has, used when a schema leaves them undocumented. */
const standardFieldDocs: Record<string, string> = {
  apiVersion: 'The versioned schema of this representation of the object, e.g. v1 or apps/v1. Servers convert recognised schemas to their latest internal value.',
  kind: 'The REST kind of this object, e.g. Pod or Deployment; inferred from the endpoint the client submits to. In CamelCase; cannot be updated.',
  metadata: 'Standard object metadata: name, namespace, labels, annotations, ownership and version.',
  spec: 'The desired state of the object, written by its users; controllers work to make the observed state match it.',
  status: 'The observed state of the object, written by the system (controllers, the kubelet) through the status subresource.',
};

/** A converted definition and the definitions it refers to directly. */
export interface ConvertedDefinition {
  schema: SchemaObject;
  refs: Map<string, z.ZodType>;
}

/**
 * Converts zod schemas for one dialect. Definitions are converted once per zod instance and
 * kept (WeakMap), so documents for many resource sets share the work.
 */
export class SchemaConverter {
  private readonly defs = new WeakMap<z.ZodType, ConvertedDefinition>();

  constructor(readonly dialect: Dialect) {}

  /** The body of the definition `schema` names (its own id is not turned into a $ref). */
  definition(schema: z.ZodType): ConvertedDefinition {
    let d = this.defs.get(schema);
    if (!d) {
      const refs = new Map<string, z.ZodType>();
      d = { schema: this.convertPeeled(peel(schema, true, true), refs), refs };
      this.defs.set(schema, d);
    }
    return d;
  }

  /** Converts a schema used in place (a field, an item, a request body), collecting refs. */
  convert(schema: z.ZodType, refs: Map<string, z.ZodType>): SchemaObject {
    return this.convertPeeled(peel(schema, true), refs);
  }

  /** The id a schema is known by, if its outer layers lead to a named definition. */
  static idOf(schema: z.ZodType): string | undefined {
    return peel(schema, true).named?.id;
  }

  /** The named definition a schema leads to, and the zod layer that names it. */
  static namedOf(schema: z.ZodType): { id: string; schema: z.ZodType } | undefined {
    return peel(schema, true).named;
  }

  private convertPeeled(p: Peeled, refs: Map<string, z.ZodType>): SchemaObject {
    if (p.named) {
      refs.set(p.named.id, p.named.schema);
      return this.refTo(p.named.id, p);
    }
    const out = this.convertCore(p.core, p.meta, refs);
    this.applyMeta(out, p.meta);
    if (p.nullable && this.dialect === 'v3') out['nullable'] = true;
    if (p.default !== undefined) out['default'] = p.default;
    return out;
  }

  private refTo(id: string, p: Peeled): SchemaObject {
    const ref = refPrefix(this.dialect) + id;
    const extras: SchemaObject = {};
    // A field without a doc of its own stays without one: `kubectl explain` prints the field's
    // doc and then the definition's, so a borrowed copy would be printed twice.
    if (typeof p.meta['description'] === 'string') extras['description'] = p.meta['description'];
    for (const [k, v] of Object.entries(p.meta)) if (k.startsWith('x-')) extras[k] = v;
    if (p.nullable && this.dialect === 'v3') extras['nullable'] = true;
    if (p.default !== undefined) extras['default'] = p.default;
    if (Object.keys(extras).length === 0) return { $ref: ref };
    return this.dialect === 'v3' ? { allOf: [{ $ref: ref }], ...extras } : { $ref: ref, ...extras };
  }

  private applyMeta(out: SchemaObject, meta: Meta) {
    if (typeof meta['description'] === 'string') out['description'] = meta['description'];
    if (typeof meta['format'] === 'string' && out['format'] === undefined) out['format'] = meta['format'];
    for (const [k, v] of Object.entries(meta)) if (k.startsWith('x-') && !(k in out)) out[k] = v;
  }

  private convertCore(s: z.ZodType, meta: Meta, refs: Map<string, z.ZodType>): SchemaObject {
    const d = defOf(s);
    // IntOrString and Quantity: a number or a string on the wire. Swagger 2.0 calls that a
    // string of format int-or-string; v3 lists the alternatives (kubectl explain then shows
    // the definition's name, IntOrString or Quantity, as the field type).
    if (meta['x-kubernetes-int-or-string'] === true) {
      const base = { format: 'int-or-string', 'x-kubernetes-int-or-string': true };
      if (this.dialect === 'v2') return { type: 'string', ...base };
      const options = d.type === 'union' ? (d.options ?? []).map((o) => this.convert(o, refs)).map((o) => ({ type: o['type'] })) : [{ type: 'integer' }, { type: 'string' }];
      return { oneOf: options, ...base };
    }
    switch (d.type) {
      case 'string':
        return { type: 'string' };
      case 'number':
        return isInteger(s) ? { type: 'integer' } : { type: 'number', format: 'double' };
      case 'bigint':
        return { type: 'integer', format: 'int64' };
      case 'boolean':
        return { type: 'boolean' };
      case 'date':
        return { type: 'string', format: 'date-time' };
      case 'enum': {
        const values = Object.values((d as unknown as { entries: Record<string, string | number> }).entries);
        return { type: typeof values[0] === 'number' ? 'integer' : 'string', enum: values };
      }
      case 'literal': {
        const values = (d as unknown as { values: unknown[] }).values.filter((v) => v !== undefined && v !== null);
        const t = typeof values[0];
        return { type: t === 'number' ? 'number' : t === 'boolean' ? 'boolean' : 'string', enum: values };
      }
      case 'object':
        return this.convertObject(s, refs);
      case 'record':
        return { type: 'object', additionalProperties: this.convert(d.valueType!, refs) };
      case 'array':
        return { type: 'array', items: this.convert(d.element!, refs) };
      case 'union': {
        const options = (d.options ?? []).map((o) => this.convert(o, refs));
        // Swagger 2.0 has no anyOf: such a value is left free-form there.
        return this.dialect === 'v3' ? { anyOf: options } : { 'x-kubernetes-preserve-unknown-fields': true };
      }
      case 'intersection': {
        const parts = d as unknown as { left: z.ZodType; right: z.ZodType };
        return { allOf: [this.convert(parts.left, refs), this.convert(parts.right, refs)] };
      }
      default:
        // unknown, any, custom, transform...: free-form JSON.
        return { 'x-kubernetes-preserve-unknown-fields': true };
    }
  }

  private convertObject(s: z.ZodType, refs: Map<string, z.ZodType>): SchemaObject {
    const d = defOf(s);
    const shape = d.shape ?? {};
    const catchall = d.catchall && defOf(d.catchall).type !== 'never' ? d.catchall : undefined;
    const out: SchemaObject = { type: 'object' };
    const properties: Record<string, SchemaObject> = {};
    const required: string[] = [];
    const entries = Object.entries(shape);
    const looksLikeKind = 'apiVersion' in shape && 'kind' in shape;
    for (const [name, field] of entries) {
      const p = peel(field, true);
      if (defOf(p.core).type === 'never') continue;
      if (looksLikeKind && p.meta['description'] === undefined && standardFieldDocs[name]) p.meta['description'] = standardFieldDocs[name];
      properties[name] = this.convertPeeled(p, refs);
      if (!p.optional) required.push(name);
    }
    if (entries.length > 0) out['properties'] = properties;
    if (required.length > 0) out['required'] = required;
    if (catchall) {
      const ct = defOf(catchall).type;
      if (ct === 'unknown' || ct === 'any') out['x-kubernetes-preserve-unknown-fields'] = true;
      else out['additionalProperties'] = this.convert(catchall, refs);
    }
    return out;
  }
}
