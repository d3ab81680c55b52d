/**
 * The server-side apply view of a kind (lib/machinery/fieldpath FieldType), read from the
 * zod schemas of built-in kinds and from the structural schemas of custom resources. Both
 * carry upstream's extensions: x-kubernetes-list-type (atomic|set|map),
 * x-kubernetes-list-map-keys, x-kubernetes-map-type (atomic|granular) and
 * x-kubernetes-preserve-unknown-fields. A list without a list type is atomic, except that a
 * strategic-merge-patch merge key makes it a map keyed by that field (upstream's rule).
 */
import type { z } from 'zod';
import { scalarType, untypedType, type FieldType, type ListType } from '../machinery/index.js';
import { defOf, fieldSchema, unwrap } from './schema-walk.js';
import type { AnyResourceType } from './resource-type.js';
import type { JSONSchemaProps } from './apiextensions/v1.js';
import { ObjectMetaSchema } from './meta/v1.js';

const zodTypes = new WeakMap<z.ZodType, FieldType>();

type Key = string | number | boolean;

function defaultOf(schema: z.ZodType | undefined): Key | undefined {
  if (!schema) return undefined;
  const { meta } = unwrap(schema);
  if (meta['default'] !== undefined) return meta['default'] as Key;
  let s: z.ZodType | undefined = schema;
  for (let i = 0; s && i < 10; i++) {
    const d = defOf(s) as ReturnType<typeof defOf> & { defaultValue?: unknown };
    if (d.type === 'default') return (typeof d.defaultValue === 'function' ? (d.defaultValue as () => unknown)() : d.defaultValue) as Key;
    s = d.innerType;
  }
  return undefined;
}

/** The FieldType of a zod schema (memoized; nested types resolve lazily, so recursion is fine). */
export function zodFieldType(schema: z.ZodType): FieldType {
  let t = zodTypes.get(schema);
  if (!t) zodTypes.set(schema, (t = buildZodType(schema)));
  return t;
}

function buildZodType(schema: z.ZodType): FieldType {
  const { core, meta } = unwrap(schema);
  if (meta['x-kubernetes-preserve-unknown-fields']) return untypedType;
  const d = defOf(core);
  const atomic = meta['x-kubernetes-map-type'] === 'atomic';
  switch (d.type) {
    case 'object': {
      const shape = d.shape ?? {};
      const loose = d.catchall && defOf(d.catchall).type !== 'never' ? d.catchall : undefined;
      return {
        kind: 'struct',
        atomic,
        field: (name) => (Object.hasOwn(shape, name) ? zodFieldType(shape[name]!) : undefined),
        ...(loose ? { extra: () => zodFieldType(loose) } : {}),
      };
    }
    case 'record':
      return { kind: 'map', atomic, value: () => (d.valueType ? zodFieldType(d.valueType) : untypedType) };
    case 'array': {
      const element = d.element!;
      const mergeKey = meta['x-kubernetes-patch-merge-key'] as string | undefined;
      const strategy = String(meta['x-kubernetes-patch-strategy'] ?? '');
      let listType = meta['x-kubernetes-list-type'] as ListType['listType'] | undefined;
      let keys = (meta['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
      if (!listType) {
        listType = mergeKey && strategy.split(',').includes('merge') ? 'map' : 'atomic';
        if (listType === 'map') keys = [mergeKey!];
      }
      if (listType === 'map' && keys.length === 0) keys = mergeKey ? [mergeKey] : [];
      if (listType === 'map' && keys.length === 0) listType = 'atomic';
      return { kind: 'list', listType, keys, item: () => zodFieldType(element), keyDefault: (k) => defaultOf(fieldSchema(element, k)) };
    }
    case 'unknown':
    case 'any':
      return untypedType;
    default:
      return scalarType;
  }
}

const jsonTypes = new WeakMap<JSONSchemaProps, FieldType>();

/** The FieldType of a custom resource's structural schema (or of part of it). */
export function jsonSchemaFieldType(schema: JSONSchemaProps | undefined): FieldType {
  if (!schema) return untypedType;
  let t = jsonTypes.get(schema);
  if (!t) jsonTypes.set(schema, (t = buildJSONType(schema)));
  return t;
}

function buildJSONType(s: JSONSchemaProps): FieldType {
  if (s['x-kubernetes-int-or-string']) return scalarType;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const atomic = s['x-kubernetes-map-type'] === 'atomic';
  const type = s.type ?? (s.properties || s.additionalProperties ? 'object' : undefined);
  switch (type) {
    case 'object': {
      const props = s.properties ?? {};
      const addl = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
      if (Object.keys(props).length === 0 && addl) return { kind: 'map', atomic, value: () => jsonSchemaFieldType(addl) };
      if (Object.keys(props).length === 0 && preserve) return atomic ? { kind: 'map', atomic, value: () => untypedType } : untypedType;
      const extra = preserve ? untypedType : addl ? jsonSchemaFieldType(addl) : undefined;
      return {
        kind: 'struct',
        atomic,
        field: (name) => (Object.hasOwn(props, name) ? jsonSchemaFieldType(props[name]) : undefined),
        ...(extra ? { extra: () => extra } : {}),
      };
    }
    case 'array': {
      const items = Array.isArray(s.items) ? undefined : s.items;
      let listType = (s['x-kubernetes-list-type'] as ListType['listType'] | undefined) ?? 'atomic';
      const keys = s['x-kubernetes-list-map-keys'] ?? [];
      if (listType === 'map' && keys.length === 0) listType = 'atomic';
      return {
        kind: 'list',
        listType,
        keys,
        item: () => jsonSchemaFieldType(items),
        keyDefault: (k) => items?.properties?.[k]?.default as Key | undefined,
      };
    }
    case undefined:
      return preserve ? untypedType : untypedType;
    default:
      return scalarType;
  }
}

const resourceTypes = new WeakMap<AnyResourceType, FieldType>();

/** The FieldType of a whole object of a served kind. */
export function fieldTypeOf(rt: AnyResourceType): FieldType {
  let t = resourceTypes.get(rt);
  if (t) return t;
  if (rt.jsonSchema) {
    const body = jsonSchemaFieldType(rt.jsonSchema);
    const meta = zodFieldType(ObjectMetaSchema);
    t = {
      kind: 'struct',
      field: (name) => {
        if (name === 'apiVersion' || name === 'kind') return scalarType;
        if (name === 'metadata') return meta;
        return body.kind === 'struct' ? body.field(name) : body.kind === 'untyped' ? untypedType : undefined;
      },
      ...(body.kind === 'struct' && body.extra ? { extra: body.extra } : body.kind === 'untyped' ? { extra: () => untypedType } : {}),
    };
  } else t = zodFieldType(rt.schema);
  resourceTypes.set(rt, t);
  return t;
}
