/**
 * Conventions for the zod schemas that define tkube's API types. The schemas are the single
 * source of truth: TypeScript types are inferred from them, request bodies are parsed with
 * them, and the OpenAPI documents (and so `kubectl explain` and strategic merge patch keys)
 * are generated from them. Metadata rides on zod's `.meta()`:
 *
 *   id           the OpenAPI definition name, e.g. io.k8s.api.core.v1.Container
 *   description  the field doc `kubectl explain` prints
 *   x-kubernetes-patch-merge-key / x-kubernetes-patch-strategy   strategic merge patch
 *   x-kubernetes-list-type / x-kubernetes-list-map-keys           server-side apply
 */
import { z } from 'zod';

export { z };

/** Attaches a description (kept short: one or two sentences, our own words). */
export function doc<T extends z.ZodType>(schema: T, description: string): T {
  return schema.meta({ description }) as T;
}

/** Names a schema as an OpenAPI definition. */
export function named<T extends z.ZodType>(schema: T, id: string, description?: string, extensions: Record<string, unknown> = {}): T {
  return schema.meta(description ? { id, description, ...extensions } : { id, ...extensions }) as T;
}

/** For `named`: a struct that server-side apply owns and replaces as a whole (upstream's +structType=atomic). */
export const atomicStruct = { 'x-kubernetes-map-type': 'atomic' } as const;

/**
 * A list merged by key in strategic merge patch (containers by name, ports by containerPort)
 * and treated as a map by server-side apply.
 */
export function mergeList<T extends z.ZodType>(
  item: T,
  key: string | string[],
  description: string,
  opts: { retainKeys?: boolean; listType?: 'map' | 'atomic' } = {},
) {
  const keys = Array.isArray(key) ? key : [key];
  const listType = opts.listType ?? 'map';
  // A few upstream lists merge by key in strategic merge patch but are atomic for
  // server-side apply (hostIPs, Job conditions); those carry no map keys.
  return z.array(item).meta({
    description,
    'x-kubernetes-patch-merge-key': keys[0],
    'x-kubernetes-patch-strategy': opts.retainKeys ? 'merge,retainKeys' : 'merge',
    'x-kubernetes-list-type': listType,
    ...(listType === 'map' ? { 'x-kubernetes-list-map-keys': keys } : {}),
  });
}

/** A list whose items server-side apply keys by `keys`, with no strategic-merge-patch key (ResourceRequirements.claims). */
export function mapList<T extends z.ZodType>(item: T, keys: string[], description: string) {
  return z.array(item).meta({ description, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys });
}

/**
 * A list of unique scalars (finalizers). Most such lists are also merged as sets by strategic
 * merge patch; pass `merge: false` for the ones upstream replaces whole.
 */
export function setList<T extends z.ZodType>(item: T, description: string, opts: { merge?: boolean } = {}) {
  return z.array(item).meta({ description, ...(opts.merge === false ? {} : { 'x-kubernetes-patch-strategy': 'merge' }), 'x-kubernetes-list-type': 'set' });
}

/** A list replaced whole by patches (the default for lists without a merge key). */
export function atomicList<T extends z.ZodType>(item: T, description: string) {
  return z.array(item).meta({ description, 'x-kubernetes-list-type': 'atomic' });
}

export const StringMap = z.record(z.string(), z.string());

/** A timestamp in RFC 3339 form (metav1.Time). */
export const Time = z.string().meta({ format: 'date-time', id: 'io.k8s.apimachinery.pkg.apis.meta.v1.Time', description: 'Time is a timestamp in RFC 3339 form, e.g. 2024-01-02T15:04:05Z.' });
export const MicroTime = z.string().meta({ format: 'date-time', id: 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime', description: 'MicroTime is a timestamp with microsecond precision.' });

/** int32 fields: integers in the 32-bit range. */
export const int32 = () => z.number().int().min(-2147483648).max(2147483647).meta({ format: 'int32' });
export const int64 = () => z.number().int().meta({ format: 'int64' });

/** IntOrString: `8080` or `"http"`, `25%`. */
export const IntOrString = z.union([z.number().int(), z.string()]).meta({
  id: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
  format: 'int-or-string',
  'x-kubernetes-int-or-string': true,
  description: 'An integer or a string, e.g. a port number or a port name, or a count or a percentage.',
});

const quantityRe = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** A resource quantity such as `100m`, `2`, `512Mi`; numbers are accepted and kept as strings. */
export const Quantity = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const s = typeof v === 'number' ? String(v) : v.trim();
    if (!quantityRe.test(s)) {
      ctx.addIssue({ code: 'custom', message: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" });
      return z.NEVER;
    }
    return s;
  })
  .meta({
    id: 'io.k8s.apimachinery.pkg.api.resource.Quantity',
    format: 'quantity',
    'x-kubernetes-int-or-string': true,
    description: 'A fixed-point amount: plain numbers, milli-units (100m), or binary/decimal suffixes (512Mi, 1G).',
  });

/** Free-form JSON (RawExtension and CRD fields that preserve unknown fields). */
export const AnyJSON = z.unknown().meta({ 'x-kubernetes-preserve-unknown-fields': true });

/** An enum whose invalid values are reported with the list of supported values. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, description: string) {
  return z.enum(values).meta({ description, enum: [...values] });
}

/*
 * Shorthands for the many optional fields of the API types. Each takes the field's description.
 * A named schema (one with an `id`) keeps its id only behind a wrapper, so `opt` and `req`
 * always wrap before attaching the description.
 */
export const str = (description: string) => doc(z.string().optional(), description);
export const bool = (description: string) => doc(z.boolean().optional(), description);
export const i32 = (description: string) => doc(int32().optional(), description);
export const i64 = (description: string) => doc(int64().optional(), description);

/** An optional field of any schema. */
export function opt<T extends z.ZodType>(schema: T, description: string) {
  return doc(schema.optional(), description);
}

/** A required field of any schema (named types keep their id). */
export function req<T extends z.ZodType>(schema: T, description: string) {
  return schema.nonoptional().meta({ description });
}

/** An optional enum field; values outside `values` are rejected as unsupported. */
export function optEnum<const T extends readonly [string, ...string[]]>(values: T, description: string, defaultValue?: T[number]) {
  // The default is what the kind's defaulting fills in; server-side apply reads it for list keys.
  return z.enum(values).meta({ enum: [...values] }).optional().meta(defaultValue === undefined ? { description } : { description, default: defaultValue });
}

/** Marks an object-valued field with a strategic-merge-patch strategy (retainKeys, replace). */
export function patchStrategy<T extends z.ZodType>(schema: T, strategy: string, description: string) {
  return schema.meta({ description, 'x-kubernetes-patch-strategy': strategy });
}

/** The type fields every object carries (TypeMeta). */
export const typeMeta = {
  apiVersion: str('Group and version of the schema of the object, e.g. apps/v1.'),
  kind: str('Kind of the object, e.g. Deployment.'),
};
