/**
 * Decoding request bodies with a kind's zod schema. Type mismatches are decode errors
 * (400 BadRequest, as upstream's JSON decoder reports them); missing required fields and
 * unsupported enum values are validation errors (422 Invalid with a cause per field).
 */
import type { z } from 'zod';
import { fieldPath, newBadRequest, newInvalid, type FieldError, type FieldPath } from '../machinery/index.js';
import type { AnyResourceType } from './resource-type.js';

function pathOf(path: PropertyKey[]): FieldPath {
  let p = fieldPath('');
  for (const seg of path) p = typeof seg === 'number' ? p.index(seg) : p.child(String(seg));
  return p;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  expected?: string;
  values?: unknown[];
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

export interface DecodeResult<T> {
  object: T;
}

/**
 * Parses `raw` as an object of `rt`. Throws a StatusError: 400 for type errors, 422 for
 * missing required fields or unsupported values. Unknown fields are dropped (see
 * findUnknownFields for reporting them).
 */
export function decodeObject<T>(rt: AnyResourceType, raw: unknown, name = ''): T {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw newBadRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: the body must be a JSON or YAML object`);
  }
  return decodeWith(rt.schema as z.ZodType<T>, raw, rt.group, rt.kind, rt.version, name);
}

export function decodeWith<T>(schema: z.ZodType<T>, raw: unknown, group: string, kind: string, version: string, name = ''): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const invalid: FieldError[] = [];
  const decodeErrs: string[] = [];
  for (const issue of r.error.issues as unknown as Issue[]) {
    const p = pathOf(issue.path);
    const input = issue.input !== undefined ? issue.input : valueAt(raw, issue.path);
    if (issue.code === 'invalid_type' && input === undefined) invalid.push(p.required());
    else if (issue.code === 'invalid_value' && issue.values) invalid.push(p.notSupported(input, issue.values.map(String)));
    else if (issue.code === 'invalid_type') decodeErrs.push(`cannot unmarshal ${describe(input)} into field ${p.toString() || '(root)'} of type ${issue.expected}`);
    else if (issue.code === 'too_big' || issue.code === 'too_small') decodeErrs.push(`cannot unmarshal number ${JSON.stringify(input)} into field ${p} of type int32: ${issue.message}`);
    else if (issue.code === 'invalid_union') decodeErrs.push(`cannot unmarshal ${describe(input)} into field ${p}: expected an integer or a string`);
    else decodeErrs.push(`${p}: ${issue.message}`);
  }
  if (decodeErrs.length > 0) {
    throw newBadRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${decodeErrs.join('; ')}`);
  }
  throw newInvalid(group, kind, name || ((raw as { metadata?: { name?: string } }).metadata?.name ?? ''), invalid);
}
