/**
 * Assembling the served OpenAPI documents from a list of resource types:
 *   - one OpenAPI 3.0 document per group-version (/openapi/v3/api/v1, /openapi/v3/apis/apps/v1),
 *   - the v3 index mapping each group-version to its document's URL with a content hash,
 *   - one Swagger 2.0 document with everything (/openapi/v2), as JSON or protobuf.
 *
 * The resource type list changes when CRDs come and go, so documents are a function of that
 * list, memoized on it: per group-version (a new CRD group leaves apps/v1 untouched, hash
 * included) and per whole list. Hashes are SHA-512 of the JSON bytes in upper-case hex, as
 * upstream; clients cache documents forever under their hashed URL.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { AnyResourceType } from '../resource-type.js';
import { DeleteOptionsSchema, ListMetaSchema, ObjectMetaSchema, StatusSchema, WatchEventSchema } from '../meta/v1.js';
import type { JSONSchemaProps } from '../apiextensions/v1.js';
import { ScaleSchema } from '../apps/v1.js';
import { EvictionSchema } from '../policy/v1.js';
import { BindingSchema } from '../core/v1.js';
import { addResourcePaths, groupVersionPath, type GVK, type PathContext } from './paths.js';
import { SchemaConverter, refPrefix, type Dialect, type SchemaObject } from './schema-convert.js';
import { encodeSwaggerProtobuf } from './protobuf-v2.js';

export interface OpenAPIOptions {
  /** info.title of every document. */
  title?: string;
  /** info.version of every document (the server's version). */
  version?: string;
}

/** A document ready to serve: its JSON text and the hash of that text. */
export interface ServedDocument {
  readonly json: string;
  /** Upper-case hex SHA-512 of `json`: the ETag, and the `hash` of v3 URLs. */
  readonly etag: string;
  readonly doc: SchemaObject;
}

export interface OpenAPIDocuments {
  /** The group-version paths served, sorted: `api/v1`, `apis/apps/v1`, ... */
  groupVersions(): string[];
  /** The OpenAPI 3.0 document of a group-version path, or undefined when none is served. */
  v3(groupVersion: string): ServedDocument | undefined;
  /** The v3 index: `{ paths: { "api/v1": { serverRelativeURL: "/openapi/v3/api/v1?hash=..." } } }`. */
  v3Index(): ServedDocument;
  /** The Swagger 2.0 document of everything served. */
  v2(): ServedDocument;
  /** The Swagger 2.0 document in kubectl's protobuf form (gnostic openapi_v2.Document). */
  v2Protobuf(): Buffer;
  /** Definition ids written by two different zod schemas (a bug in the schemas); empty when all is well. */
  conflicts(): string[];
}

export function hashOf(text: string): string {
  return createHash('sha512').update(text).digest('hex').toUpperCase();
}

function served(doc: SchemaObject): ServedDocument {
  const json = JSON.stringify(doc);
  return { json, etag: hashOf(json), doc };
}

const gvkKey = (gvk: GVK) => `${gvk.group}/${gvk.version}/${gvk.kind}`;

function reverseDomain(group: string): string {
  return group.split('.').reverse().join('.');
}

/**
 * Builds (and memoizes) documents for resource type lists. One generator serves one API
 * server; its caches are bounded.
 */
export class OpenAPIGenerator {
  private readonly converters: Record<Dialect, SchemaConverter> = { v2: new SchemaConverter('v2'), v3: new SchemaConverter('v3') };
  private readonly rtIds = new WeakMap<AnyResourceType, number>();
  private nextId = 1;
  private readonly sets = new Map<string, OpenAPIDocuments>();
  private readonly groupVersionDocs = new Map<string, { doc: ServedDocument; conflicts: string[] }>();
  private readonly title: string;
  private readonly version: string;

  constructor(opts: OpenAPIOptions = {}) {
    this.title = opts.title ?? 'Kubernetes';
    this.version = opts.version ?? 'unversioned';
  }

  private keyOf(types: readonly AnyResourceType[]): string {
    return types
      .map((rt) => {
        let id = this.rtIds.get(rt);
        if (id === undefined) {
          id = this.nextId++;
          this.rtIds.set(rt, id);
        }
        return id;
      })
      .sort((a, b) => a - b)
      .join(',');
  }

  /** The documents for this list of resource types; the same list (by identity of its members) gives the same object. */
  documents(types: readonly AnyResourceType[]): OpenAPIDocuments {
    const key = this.keyOf(types);
    const hit = this.sets.get(key);
    if (hit) {
      // Refresh its place: the map is kept in least-recently-used order.
      this.sets.delete(key);
      this.sets.set(key, hit);
      return hit;
    }
    const docs = this.build([...types]);
    this.sets.set(key, docs);
    while (this.sets.size > 8) this.sets.delete(this.sets.keys().next().value!);
    return docs;
  }

  private build(types: AnyResourceType[]): OpenAPIDocuments {
    const byGV = new Map<string, AnyResourceType[]>();
    for (const rt of types) {
      const p = groupVersionPath(rt.group, rt.version);
      byGV.set(p, [...(byGV.get(p) ?? []), rt]);
    }
    const gvs = [...byGV.keys()].sort();
    const v3Docs = new Map<string, { doc: ServedDocument; conflicts: string[] }>();
    let index: ServedDocument | undefined;
    let v2: { doc: ServedDocument; conflicts: string[] } | undefined;
    let v2pb: Buffer | undefined;
    const v3 = (gv: string) => {
      let d = v3Docs.get(gv);
      if (!d) {
        const rts = byGV.get(gv);
        if (!rts) return undefined;
        const key = `${gv}#${this.keyOf(rts)}`;
        d = this.groupVersionDocs.get(key);
        if (!d) {
          d = this.assemble('v3', rts);
          this.groupVersionDocs.set(key, d);
          while (this.groupVersionDocs.size > 64) this.groupVersionDocs.delete(this.groupVersionDocs.keys().next().value!);
        }
        v3Docs.set(gv, d);
      }
      return d;
    };
    const v2Doc = () => (v2 ??= this.assemble('v2', types));
    return {
      groupVersions: () => gvs,
      v3: (gv) => v3(gv)?.doc,
      v3Index: () =>
        (index ??= served({
          paths: Object.fromEntries(gvs.map((gv) => [gv, { serverRelativeURL: `/openapi/v3/${gv}?hash=${v3(gv)!.doc.etag}` }])),
        })),
      v2: () => v2Doc().doc,
      v2Protobuf: () => (v2pb ??= encodeSwaggerProtobuf(v2Doc().doc.doc)),
      conflicts: () => [...new Set([...gvs.flatMap((gv) => v3(gv)!.conflicts), ...v2Doc().conflicts])],
    };
  }

  /** Builds one document (v3: one group-version; v2: everything). */
  private assemble(dialect: Dialect, rts: AnyResourceType[]): { doc: ServedDocument; conflicts: string[] } {
    const conv = this.converters[dialect];
    const queue: [string, z.ZodType][] = [];
    const collect = (refs: Map<string, z.ZodType>) => {
      for (const e of refs) queue.push(e);
    };
    const definitions = new Map<string, SchemaObject>();
    const sources = new Map<string, z.ZodType>();
    const conflicts: string[] = [];
    const gvks = new Map<string, GVK[]>();
    const addGVK = (name: string, gvk: GVK) => {
      const list = gvks.get(name) ?? [];
      if (!list.some((g) => gvkKey(g) === gvkKey(gvk))) list.push(gvk);
      gvks.set(name, list);
    };
    const refName = (name: string): SchemaObject => ({ $ref: refPrefix(dialect) + name });
    // A $ref with a doc of its own: v3 ignores siblings of $ref, so it goes through allOf there.
    const withDescription = (ref: SchemaObject, description: string): SchemaObject => (dialect === 'v3' ? { allOf: [ref], description } : { ...ref, description });
    // Request bodies and responses refer to definitions with a plain $ref.
    const refSchema = (schema: z.ZodType): SchemaObject => {
      const named = SchemaConverter.namedOf(schema);
      if (named) {
        queue.push([named.id, named.schema]);
        return refName(named.id);
      }
      const refs = new Map<string, z.ZodType>();
      const out = conv.convert(schema, refs);
      collect(refs);
      return out;
    };

    const kindName = (rt: AnyResourceType) => SchemaConverter.idOf(rt.schema) ?? `${rt.group ? reverseDomain(rt.group) : 'io.k8s.api.core'}.${rt.version}.${rt.kind}`;
    const listName = (rt: AnyResourceType) => {
      const k = kindName(rt);
      return k.endsWith(`.${rt.kind}`) ? `${k.slice(0, -rt.kind.length)}${rt.listKind}` : `${k}List`;
    };
    const ctx: PathContext = { dialect, refName, refSchema, kindDefinition: kindName, listDefinition: listName };

    const paths: Record<string, SchemaObject> = {};
    for (const rt of rts) {
      const kind = kindName(rt);
      const named = SchemaConverter.namedOf(rt.schema);
      if (rt.jsonSchema) {
        // A custom resource: its structural schema, with the type and object metadata every object has.
        sources.set(kind, rt.schema);
        definitions.set(kind, customDefinition(rt.jsonSchema, dialect, refName, withDescription));
        queue.push(['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', ObjectMetaSchema]);
      } else if (named) queue.push([kind, named.schema]);
      else {
        const d = conv.definition(rt.schema);
        addDefinition(kind, rt.schema, d.schema);
        collect(d.refs);
      }
      addGVK(kind, { group: rt.group, version: rt.version, kind: rt.kind });
      const list = listName(rt);
      definitions.set(list, {
        description: `A list of ${rt.kind} objects.`,
        type: 'object',
        properties: {
          apiVersion: { type: 'string', description: 'The versioned schema of this representation of the list.' },
          items: { type: 'array', description: `The ${rt.kind} objects.`, items: refName(kind) },
          kind: { type: 'string', description: `${rt.listKind}.` },
          metadata: withDescription(refName('io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta'), 'The resourceVersion the list was read at and the token for the next page.'),
        },
        required: ['items'],
      });
      queue.push(['io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta', ListMetaSchema]);
      addGVK(list, { group: rt.group, version: rt.version, kind: rt.listKind });
      addResourcePaths(ctx, paths, rt);
    }

    // The meta kinds every group-version speaks, and the subresource bodies.
    const groupVersions = [...new Map(rts.map((rt) => [`${rt.group}/${rt.version}`, { group: rt.group, version: rt.version }])).values()];
    for (const schema of [StatusSchema, DeleteOptionsSchema, WatchEventSchema]) refSchema(schema);
    addGVK('io.k8s.apimachinery.pkg.apis.meta.v1.Status', { group: '', version: 'v1', kind: 'Status' });
    for (const kind of ['DeleteOptions', 'WatchEvent']) {
      addGVK(`io.k8s.apimachinery.pkg.apis.meta.v1.${kind}`, { group: '', version: 'v1', kind });
      for (const gv of groupVersions) if (gv.group) addGVK(`io.k8s.apimachinery.pkg.apis.meta.v1.${kind}`, { ...gv, kind });
    }
    const bodyKinds: [z.ZodType, GVK][] = [
      [ScaleSchema, { group: 'autoscaling', version: 'v1', kind: 'Scale' }],
      [EvictionSchema, { group: 'policy', version: 'v1', kind: 'Eviction' }],
      [BindingSchema, { group: '', version: 'v1', kind: 'Binding' }],
    ];

    // Pull in every definition reachable from the paths.
    const checked = new Set<z.ZodType>();
    while (queue.length > 0) {
      const [id, schema] = queue.pop()!;
      const prev = sources.get(id);
      if (prev) {
        // One id written by two zod schemas: fine if they say the same, a bug otherwise.
        if (prev !== schema && !checked.has(schema)) {
          checked.add(schema);
          if (JSON.stringify(conv.definition(prev).schema) !== JSON.stringify(conv.definition(schema).schema)) conflicts.push(id);
        }
        continue;
      }
      const d = conv.definition(schema);
      addDefinition(id, schema, d.schema);
      collect(d.refs);
    }
    for (const [schema, gvk] of bodyKinds) {
      const id = SchemaConverter.idOf(schema)!;
      if (definitions.has(id)) addGVK(id, gvk);
    }

    function addDefinition(id: string, schema: z.ZodType, body: SchemaObject) {
      sources.set(id, schema);
      definitions.set(id, body);
    }

    const defs: Record<string, SchemaObject> = {};
    for (const name of [...definitions.keys()].sort()) {
      const body = definitions.get(name)!;
      const kinds = gvks.get(name);
      defs[name] = kinds ? { ...body, 'x-kubernetes-group-version-kind': kinds.map((g) => ({ group: g.group, kind: g.kind, version: g.version })) } : body;
    }
    const sortedPaths = Object.fromEntries(Object.keys(paths).sort().map((p) => [p, paths[p]]));
    const info = { title: this.title, version: this.version };
    const doc: SchemaObject =
      dialect === 'v3'
        ? { openapi: '3.0.0', info, paths: sortedPaths, components: { schemas: defs } }
        : { swagger: '2.0', info, paths: sortedPaths, definitions: defs };
    return { doc: served(doc), conflicts: [...new Set(conflicts)] };
  }
}

/**
 * The OpenAPI definition of a custom resource: its structural schema as written, with
 * apiVersion, kind and metadata added. v2 has no nullable, oneOf/anyOf or int-or-string types.
 */
function customDefinition(
  schema: JSONSchemaProps,
  dialect: Dialect,
  refName: (name: string) => SchemaObject,
  withDescription: (ref: SchemaObject, description: string) => SchemaObject,
): SchemaObject {
  const clean = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(clean);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'x-kubernetes-validations') continue;
      if (dialect === 'v2' && (k === 'nullable' || k === 'oneOf' || k === 'anyOf' || k === 'not')) continue;
      out[k] = k === 'properties' || k === 'patternProperties' || k === 'definitions' ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, clean(pv)])) : clean(v);
    }
    return out;
  };
  const body = clean(schema) as SchemaObject & { properties?: Record<string, SchemaObject> };
  return {
    ...body,
    type: 'object',
    properties: {
      apiVersion: { type: 'string', description: 'The versioned schema of this representation of the object.' },
      kind: { type: 'string', description: 'The kind of the object.' },
      metadata: withDescription(refName('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), 'Standard object metadata.'),
      ...Object.fromEntries(Object.entries(body.properties ?? {}).filter(([k]) => k !== 'metadata' && k !== 'apiVersion' && k !== 'kind')),
    },
  };
}
