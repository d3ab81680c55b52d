/**
 * Structural schemas (the openAPIV3Schema of a CRD version): validating custom objects
 * against them, pruning unknown fields, applying defaults, and checking that a schema is
 * structural in the first place. Messages follow upstream's wording.
 */
import { fieldPath, type FieldError, type FieldPath } from '../../machinery/index.js';
import type { JSONSchemaProps } from './v1.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, type: string): boolean {
  const t = typeOf(v);
  if (type === 'number') return t === 'number' || t === 'integer';
  return t === type;
}

/** Validates `value` against `schema`; paths start at `path` (e.g. `spec`). */
export function validateAgainstSchema(value: unknown, schema: JSONSchemaProps, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const where = path.toString() || '<root>';
  if (value === null) {
    if (!schema.nullable && schema.type) errs.push(path.invalid(null, `${where} in body must be of type ${schema.type}: "null"`));
    return errs;
  }
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) errs.push(path.invalid(value, `${where} in body must be of type integer,string: "${typeOf(value)}"`));
  } else if (schema.type && !typeMatches(value, schema.type)) {
    errs.push(path.invalid(value, `${where} in body must be of type ${schema.type}: "${typeOf(value)}"`));
    return errs;
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errs.push(path.notSupported(value, schema.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)))));
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum))
      errs.push(path.invalid(value, `${where} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`));
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum))
      errs.push(path.invalid(value, `${where} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`));
    if (schema.multipleOf && Math.abs(value / schema.multipleOf - Math.round(value / schema.multipleOf)) > 1e-9)
      errs.push(path.invalid(value, `${where} in body should be a multiple of ${schema.multipleOf}`));
    if (schema.format === 'int32' && (value < -2147483648 || value > 2147483647)) errs.push(path.invalid(value, `${where} in body must be of type int32`));
  }
  if (typeof value === 'string') {
    const len = [...value].length;
    if (schema.maxLength !== undefined && len > schema.maxLength) errs.push({ type: 'FieldValueTooLong', field: path.toString(), badValue: value, detail: `may not be more than ${schema.maxLength} bytes` });
    if (schema.minLength !== undefined && len < schema.minLength) errs.push(path.invalid(value, `${where} in body should be at least ${schema.minLength} chars long`));
    if (schema.pattern !== undefined) {
      let re: RegExp | undefined;
      try {
        re = new RegExp(schema.pattern, 'u');
      } catch {
        re = undefined;
      }
      if (re && !re.test(value)) errs.push(path.invalid(value, `${where} in body should match '${schema.pattern}'`));
    }
    if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) errs.push(path.invalid(value, `${where} in body must be of type date-time: "${value}"`));
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errs.push({ type: 'FieldValueTooMany', field: path.toString(), badValue: value.length, detail: `must have at most ${schema.maxItems} items` });
    if (schema.minItems !== undefined && value.length < schema.minItems) errs.push(path.invalid(value.length, `${where} in body should have at least ${schema.minItems} items`));
    const items = Array.isArray(schema.items) ? undefined : schema.items;
    if (items) value.forEach((v, i) => errs.push(...validateAgainstSchema(v, items, path.index(i))));
    const listType = schema['x-kubernetes-list-type'];
    if (schema.uniqueItems || listType === 'set') {
      const seen = new Set<string>();
      value.forEach((v, i) => {
        const k = JSON.stringify(v);
        if (seen.has(k)) errs.push(path.index(i).duplicate(v));
        seen.add(k);
      });
    }
    if (listType === 'map') {
      const keys = schema['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Set<string>();
      value.forEach((v, i) => {
        if (!isObj(v)) return;
        const k = JSON.stringify(keys.map((kk) => v[kk]));
        if (seen.has(k)) errs.push(path.index(i).duplicate(Object.fromEntries(keys.map((kk) => [kk, v[kk]]))));
        seen.add(k);
      });
    }
  }
  if (isObj(value)) {
    for (const r of schema.required ?? []) if (!(r in value)) errs.push(path.child(r).required());
    const n = Object.keys(value).length;
    if (schema.maxProperties !== undefined && n > schema.maxProperties) errs.push({ type: 'FieldValueTooMany', field: path.toString(), badValue: n, detail: `must have at most ${schema.maxProperties} items` });
    if (schema.minProperties !== undefined && n < schema.minProperties) errs.push(path.invalid(n, `${where} in body should have at least ${schema.minProperties} properties`));
    for (const [k, v] of Object.entries(value)) {
      const child = schema.properties?.[k] ?? (isObj(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (child) errs.push(...validateAgainstSchema(v, child, schema.properties?.[k] ? path.child(k) : path.key(k)));
    }
  }
  for (const sub of schema.allOf ?? []) errs.push(...validateAgainstSchema(value, { ...sub, type: sub.type ?? schema.type }, path));
  if (schema.anyOf && !schema.anyOf.some((sub) => validateAgainstSchema(value, { ...sub, type: sub.type ?? schema.type }, path).length === 0))
    errs.push(path.invalid(value, `${where} in body must match at least one schema in anyOf`));
  if (schema.oneOf && schema.oneOf.filter((sub) => validateAgainstSchema(value, { ...sub, type: sub.type ?? schema.type }, path).length === 0).length !== 1)
    errs.push(path.invalid(value, `${where} in body must match exactly one schema in oneOf`));
  if (schema.not && validateAgainstSchema(value, { ...schema.not, type: schema.not.type ?? schema.type }, path).length === 0)
    errs.push(path.invalid(value, `${where} in body must not match the schema in not`));
  return errs;
}

/**
 * Drops fields the schema does not specify (unless x-kubernetes-preserve-unknown-fields),
 * as the API server does for custom resources. Returns the paths dropped. Mutates `value`.
 */
export function prune(value: unknown, schema: JSONSchemaProps | undefined, path = '', isRoot = true): string[] {
  const dropped: string[] = [];
  if (!schema || schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties) return dropped;
  if (isObj(value)) {
    const embedded = schema['x-kubernetes-embedded-resource'];
    for (const k of Object.keys(value)) {
      if (isRoot && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      if (embedded && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      const child = schema.properties?.[k] ?? (isObj(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (!child) {
        if (schema['x-kubernetes-preserve-unknown-fields'] || schema.additionalProperties === true) continue;
        delete value[k];
        dropped.push(path ? `${path}.${k}` : k);
        continue;
      }
      dropped.push(...prune(value[k], child, path ? `${path}.${k}` : k, false));
    }
  } else if (Array.isArray(value) && schema.items && !Array.isArray(schema.items)) {
    value.forEach((v, i) => dropped.push(...prune(v, schema.items as JSONSchemaProps, `${path}[${i}]`, false)));
  }
  return dropped;
}

/** Fills `default`s of missing properties, depth first. Mutates `value`. */
export function applyDefaults(value: unknown, schema: JSONSchemaProps | undefined): void {
  if (!schema) return;
  if (isObj(value)) {
    for (const [k, child] of Object.entries(schema.properties ?? {})) {
      if (!(k in value) && child.default !== undefined) value[k] = structuredClone(child.default);
      if (k in value) applyDefaults(value[k], child);
    }
    if (isObj(schema.additionalProperties)) for (const k of Object.keys(value)) if (!schema.properties?.[k]) applyDefaults(value[k], schema.additionalProperties);
  } else if (Array.isArray(value) && schema.items && !Array.isArray(schema.items)) {
    for (const v of value) applyDefaults(v, schema.items);
  }
}

/** Fields that a value has but the schema does not know (for fieldValidation Strict/Warn). */
export function unknownFieldsOf(value: unknown, schema: JSONSchemaProps | undefined): string[] {
  const copy = structuredClone(value);
  return prune(copy, schema);
}

/** Checks that a CRD schema is structural; errors are reported under `path`. */
export function validateStructural(schema: JSONSchemaProps | undefined, path: FieldPath, isRoot = true): FieldError[] {
  const errs: FieldError[] = [];
  if (!schema) return errs;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  if (!schema.type && !preserve && !intOrString && !isRoot) errs.push(path.child('type').required('must not be empty for specified object fields'));
  if (isRoot && schema.type && schema.type !== 'object') errs.push(path.child('type').invalid(schema.type, 'must be object at the root'));
  if (schema.$ref) errs.push(path.child('$ref').forbidden('$ref is not supported'));
  if (schema.type && !['object', 'array', 'string', 'integer', 'number', 'boolean'].includes(schema.type))
    errs.push(path.child('type').notSupported(schema.type, ['array', 'boolean', 'integer', 'number', 'object', 'string']));
  if (schema.type === 'array' && !schema.items && !preserve) errs.push(path.child('items').required('must be specified'));
  if (schema.properties && isObj(schema.additionalProperties)) errs.push(path.child('additionalProperties').forbidden('additionalProperties and properties are mutual exclusive'));
  if (isRoot && schema.properties?.metadata) {
    const allowed = new Set(['name', 'generateName']);
    for (const k of Object.keys(schema.properties.metadata.properties ?? {}))
      if (!allowed.has(k)) errs.push(path.child('properties').key('metadata').child('properties').key(k).forbidden('only name and generateName may be specified at the root of metadata'));
  }
  for (const [k, child] of Object.entries(schema.properties ?? {})) errs.push(...validateStructural(child, path.child('properties').key(k), false));
  if (schema.items && !Array.isArray(schema.items)) errs.push(...validateStructural(schema.items, path.child('items'), false));
  if (isObj(schema.additionalProperties)) errs.push(...validateStructural(schema.additionalProperties as JSONSchemaProps, path.child('additionalProperties'), false));
  if (schema.default !== undefined && !isRoot) {
    const derrs = validateAgainstSchema(schema.default, { ...schema, default: undefined }, fieldPath('default'));
    for (const e of derrs) errs.push(path.child('default').invalid(schema.default, e.detail ?? 'invalid default'));
  }
  return errs;
}
