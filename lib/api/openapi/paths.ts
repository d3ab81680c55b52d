/**
 * The REST operations of served resource types, as OpenAPI path items: collection and item
 * paths (namespaced and across namespaces), the deprecated /watch/ paths and the
 * subresources. Each operation carries `x-kubernetes-action` and
 * `x-kubernetes-group-version-kind`, which kubectl uses to find the operations of a kind.
 */
import type { AnyResourceType } from '../resource-type.js';
import { BindingSchema } from '../core/v1.js';
import { DeleteOptionsSchema, PatchSchema, StatusSchema, WatchEventSchema } from '../meta/v1.js';
import { ScaleSchema } from '../apps/v1.js';
import { EvictionSchema } from '../policy/v1.js';
import { deleteParams, listParams, params, patchParams, renderParam, writeParams, type Param } from './parameters.js';
import type { Dialect, SchemaObject } from './schema-convert.js';
import type { z } from 'zod';

export interface GVK {
  group: string;
  version: string;
  kind: string;
}

export type Action = 'get' | 'list' | 'watch' | 'watchlist' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection' | 'connect';

/** What an operation builder needs from the document being assembled. */
export interface PathContext {
  dialect: Dialect;
  /** A reference to a definition by name (the kind and list definitions of resource types). */
  refName(name: string): SchemaObject;
  /** A reference to a named zod schema, pulling its definition into the document. */
  refSchema(schema: z.ZodType): SchemaObject;
  kindDefinition(rt: AnyResourceType): string;
  listDefinition(rt: AnyResourceType): string;
}

const jsonTypes = ['application/json', 'application/yaml'];
const watchTypes = ['application/json;stream=watch'];
export const patchTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
const textTypes = ['text/plain'];
const anyTypes = ['*/*'];

interface Response {
  description: string;
  schema?: SchemaObject;
  types: string[];
}

interface OperationSpec {
  action: Action;
  gvk: GVK;
  operationId: string;
  description: string;
  tag: string;
  params: Param[];
  body?: { schema: SchemaObject; types: string[]; required: boolean };
  responses: Record<string, Response>;
}

const statusText: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted', '401': 'Unauthorized' };

function renderOperation(ctx: PathContext, o: OperationSpec): SchemaObject {
  const out: SchemaObject = { tags: [o.tag], description: o.description, operationId: o.operationId };
  const responses: SchemaObject = {};
  const all: Record<string, Response> = { ...o.responses, '401': { description: statusText['401']!, types: [] } };
  for (const [code, r] of Object.entries(all)) {
    if (ctx.dialect === 'v3') {
      const resp: SchemaObject = { description: r.description };
      if (r.schema) resp['content'] = Object.fromEntries(r.types.map((t) => [t, { schema: r.schema }]));
      responses[code] = resp;
    } else {
      responses[code] = r.schema ? { description: r.description, schema: r.schema } : { description: r.description };
    }
  }
  if (ctx.dialect === 'v3') {
    if (o.params.length > 0) out['parameters'] = o.params.map((p) => renderParam(p, 'v3'));
    if (o.body) out['requestBody'] = { content: Object.fromEntries(o.body.types.map((t) => [t, { schema: o.body!.schema }])), required: o.body.required };
    out['responses'] = responses;
  } else {
    if (o.body) out['consumes'] = o.body.types;
    out['produces'] = [...new Set(Object.values(o.responses).flatMap((r) => r.types))];
    out['schemes'] = ['https'];
    const ps = o.params.map((p) => renderParam(p, 'v2'));
    if (o.body) ps.unshift({ name: 'body', in: 'body', required: o.body.required, schema: o.body.schema });
    if (ps.length > 0) out['parameters'] = ps;
    out['responses'] = responses;
  }
  out['x-kubernetes-action'] = o.action;
  out['x-kubernetes-group-version-kind'] = { group: o.gvk.group, kind: o.gvk.kind, version: o.gvk.version };
  return out;
}

/** `apps` → Apps, `coordination.k8s.io` → Coordination, `` → Core (upstream's operationId style). */
export function groupIdentifier(group: string): string {
  if (!group) return 'Core';
  return group
    .replace(/\.k8s\.io$/, '')
    .split(/[.-]/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

export function groupVersionTag(group: string, version: string): string {
  return `${group ? group.replace(/\.k8s\.io$/, '').replace(/[.-]/g, '_') : 'core'}_${version}`;
}

/** `api/v1` or `apis/apps/v1`: the key of a group-version in the v3 index. */
export function groupVersionPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

type PathItems = Record<string, SchemaObject>;

function addOperation(items: PathItems, path: string, method: string, op: SchemaObject, pathParams: SchemaObject[]) {
  let item = items[path];
  if (!item) {
    item = {};
    items[path] = item;
  }
  item[method] = op;
  if (pathParams.length > 0) item['parameters'] = pathParams;
}

/** Adds the path items of one resource type. */
export function addResourcePaths(ctx: PathContext, items: PathItems, rt: AnyResourceType) {
  const prefix = `/${groupVersionPath(rt.group, rt.version)}`;
  const gvk: GVK = { group: rt.group, version: rt.version, kind: rt.kind };
  const tag = groupVersionTag(rt.group, rt.version);
  const idBase = `${groupIdentifier(rt.group)}${rt.version[0]!.toUpperCase()}${rt.version.slice(1)}`;
  const ns = rt.namespaced ? 'Namespaced' : '';
  const kindRef = ctx.refName(ctx.kindDefinition(rt));
  const listRef = ctx.refName(ctx.listDefinition(rt));
  const statusRef = ctx.refSchema(StatusSchema);
  const deleteOptionsRef = ctx.refSchema(DeleteOptionsSchema);
  const watchEventRef = ctx.refSchema(WatchEventSchema);
  const patchRef = ctx.refSchema(PatchSchema);
  const verbs = new Set(rt.verbs);
  const d = ctx.dialect;
  const render = (o: Omit<OperationSpec, 'tag'>) => renderOperation(ctx, { ...o, tag });
  const pp = (ps: Param[]) => ps.map((p) => renderParam(p, d));

  const collection = rt.namespaced ? `${prefix}/namespaces/{namespace}/${rt.resource}` : `${prefix}/${rt.resource}`;
  const item = `${collection}/{name}`;
  const collectionParams = pp(rt.namespaced ? [params.namespace, params.pretty] : [params.pretty]);
  const itemParams = pp(rt.namespaced ? [params.name(rt.kind), params.namespace, params.pretty] : [params.name(rt.kind), params.pretty]);
  const ok = (schema: SchemaObject, types = jsonTypes): Response => ({ description: 'OK', schema, types });
  const created = (schema: SchemaObject): Response => ({ description: 'Created', schema, types: jsonTypes });
  const accepted = (schema: SchemaObject): Response => ({ description: 'Accepted', schema, types: jsonTypes });
  const kindBody = { schema: kindRef, types: jsonTypes, required: true };
  // Custom resources take no strategic merge patch.
  const patchBody = { schema: patchRef, types: rt.custom ? patchTypes.filter((t) => !t.includes('strategic')) : patchTypes, required: true };

  // Collection: list (or watch with ?watch=true), create, delete a collection.
  if (verbs.has('list')) {
    addOperation(items, collection, 'get', render({
      action: 'list', gvk, operationId: `list${idBase}${ns}${rt.kind}`,
      description: `List the ${rt.kind} objects${rt.namespaced ? ' of a namespace' : ''}, or watch them with watch=true.`,
      params: listParams, responses: { '200': { description: 'OK', schema: listRef, types: jsonTypes } },
    }), collectionParams);
    if (verbs.has('watch')) {
      // The watch form of the list answers a stream of events in place of the list.
      const op = (items[collection] as SchemaObject)['get'] as SchemaObject;
      addWatchContent(d, op, watchEventRef);
    }
  }
  if (verbs.has('create')) {
    addOperation(items, collection, 'post', render({
      action: 'post', gvk, operationId: `create${idBase}${ns}${rt.kind}`, description: `Create a ${rt.kind}.`,
      params: writeParams, body: kindBody, responses: { '200': ok(kindRef), '201': created(kindRef), '202': accepted(kindRef) },
    }), collectionParams);
  }
  if (verbs.has('deletecollection')) {
    addOperation(items, collection, 'delete', render({
      action: 'deletecollection', gvk, operationId: `delete${idBase}Collection${ns}${rt.kind}`,
      description: `Delete every ${rt.kind} that matches the selectors; answers the deleted objects.`,
      params: [...listParams.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks' && p.name !== 'sendInitialEvents'), ...deleteParams],
      body: { schema: deleteOptionsRef, types: jsonTypes, required: false },
      responses: { '200': ok(listRef) },
    }), collectionParams);
  }

  // One object: read, replace, patch, delete.
  if (verbs.has('get')) {
    addOperation(items, item, 'get', render({
      action: 'get', gvk, operationId: `read${idBase}${ns}${rt.kind}`, description: `Read the named ${rt.kind}.`,
      params: [], responses: { '200': ok(kindRef) },
    }), itemParams);
  }
  if (verbs.has('update')) {
    addOperation(items, item, 'put', render({
      action: 'put', gvk, operationId: `replace${idBase}${ns}${rt.kind}`,
      description: `Replace the named ${rt.kind}; metadata.resourceVersion, when set, must be the current one.`,
      params: writeParams, body: kindBody, responses: { '200': ok(kindRef), '201': created(kindRef) },
    }), itemParams);
  }
  if (verbs.has('patch')) {
    addOperation(items, item, 'patch', render({
      action: 'patch', gvk, operationId: `patch${idBase}${ns}${rt.kind}`,
      description: `Change part of the named ${rt.kind} with a JSON patch, a merge patch, a strategic merge patch or an apply patch.`,
      params: patchParams, body: patchBody, responses: { '200': ok(kindRef), '201': created(kindRef) },
    }), itemParams);
  }
  if (verbs.has('delete')) {
    addOperation(items, item, 'delete', render({
      action: 'delete', gvk, operationId: `delete${idBase}${ns}${rt.kind}`,
      description: `Delete the named ${rt.kind}; answers the object (202 while finalizers or a grace period hold it).`,
      params: deleteParams, body: { schema: deleteOptionsRef, types: jsonTypes, required: false },
      responses: { '200': ok(kindRef), '202': accepted(kindRef) },
    }), itemParams);
  }

  // Across namespaces.
  if (rt.namespaced && verbs.has('list')) {
    const all = `${prefix}/${rt.resource}`;
    addOperation(items, all, 'get', render({
      action: 'list', gvk, operationId: `list${idBase}${rt.kind}ForAllNamespaces`,
      description: `List the ${rt.kind} objects of every namespace, or watch them with watch=true.`,
      params: listParams, responses: { '200': ok(listRef) },
    }), pp([params.pretty]));
    if (verbs.has('watch')) addWatchContent(d, (items[all] as SchemaObject)['get'] as SchemaObject, watchEventRef);
  }

  // The deprecated /watch/ paths, still served.
  if (verbs.has('watch')) {
    const watchParams = listParams.filter((p) => p.name !== 'watch');
    const watchResp = { '200': { description: 'OK', schema: watchEventRef, types: [...jsonTypes, ...watchTypes] } };
    const wcoll = rt.namespaced ? `${prefix}/watch/namespaces/{namespace}/${rt.resource}` : `${prefix}/watch/${rt.resource}`;
    addOperation(items, wcoll, 'get', render({
      action: 'watchlist', gvk, operationId: `watch${idBase}${ns}${rt.kind}List`,
      description: `Watch the ${rt.kind} objects. Deprecated: use the list operation with watch=true.`, params: watchParams, responses: watchResp,
    }), collectionParams);
    addOperation(items, `${wcoll}/{name}`, 'get', render({
      action: 'watch', gvk, operationId: `watch${idBase}${ns}${rt.kind}`,
      description: `Watch the named ${rt.kind}. Deprecated: use the list operation with watch=true and a metadata.name field selector.`,
      params: watchParams, responses: watchResp,
    }), itemParams);
    if (rt.namespaced) {
      addOperation(items, `${prefix}/watch/${rt.resource}`, 'get', render({
        action: 'watchlist', gvk, operationId: `watch${idBase}${rt.kind}ListForAllNamespaces`,
        description: `Watch the ${rt.kind} objects of every namespace. Deprecated: use the list operation with watch=true.`,
        params: watchParams, responses: watchResp,
      }), pp([params.pretty]));
    }
  }

  for (const sub of rt.subresources) addSubresourcePaths(ctx, items, rt, sub, { prefix: item, gv: idBase, ns, tag, itemParams, kindRef, patchBody, statusRef });
}

function addWatchContent(d: Dialect, op: SchemaObject, watchEventRef: SchemaObject) {
  const r = (op['responses'] as SchemaObject)['200'] as SchemaObject;
  if (d === 'v3') (r['content'] as SchemaObject)['application/json;stream=watch'] = { schema: watchEventRef };
  else (op['produces'] as string[]).push(...watchTypes);
}

interface SubContext {
  prefix: string;
  /** CoreV1, AppsV1...: the group-version part of operation ids. */
  gv: string;
  /** 'Namespaced' or ''. */
  ns: string;
  tag: string;
  itemParams: SchemaObject[];
  kindRef: SchemaObject;
  patchBody: { schema: SchemaObject; types: string[]; required: boolean };
  statusRef: SchemaObject;
}

const subName = (s: string) => s[0]!.toUpperCase() + s.slice(1);

function addSubresourcePaths(ctx: PathContext, items: PathItems, rt: AnyResourceType, sub: string, c: SubContext) {
  const path = `${c.prefix}/${sub}`;
  const gvk: GVK = { group: rt.group, version: rt.version, kind: rt.kind };
  const render = (o: Omit<OperationSpec, 'tag'>) => renderOperation(ctx, { ...o, tag: c.tag });
  const pp = (ps: Param[]) => ps.map((p) => renderParam(p, ctx.dialect));
  const verbs = new Set(rt.verbs);
  const S = subName(sub);
  const idBase = `${c.gv}${c.ns}${rt.kind}`;
  const ok = (schema: SchemaObject, types = jsonTypes): Response => ({ description: 'OK', schema, types });

  /** get/put/patch of an object shaped subresource (status, scale, ephemeralcontainers). */
  const readWrite = (schemaRef: SchemaObject, g: GVK, what: string, methods: ('get' | 'put' | 'patch')[]) => {
    if (methods.includes('get') && verbs.has('get')) {
      addOperation(items, path, 'get', render({ action: 'get', gvk: g, operationId: `read${idBase}${S}`, description: `Read ${what} of the named ${rt.kind}.`, params: [], responses: { '200': ok(schemaRef) } }), c.itemParams);
    }
    if (methods.includes('put') && verbs.has('update')) {
      addOperation(items, path, 'put', render({
        action: 'put', gvk: g, operationId: `replace${idBase}${S}`, description: `Replace ${what} of the named ${rt.kind}.`,
        params: writeParams, body: { schema: schemaRef, types: jsonTypes, required: true },
        responses: { '200': ok(schemaRef), '201': { description: 'Created', schema: schemaRef, types: jsonTypes } },
      }), c.itemParams);
    }
    if (methods.includes('patch') && verbs.has('patch')) {
      addOperation(items, path, 'patch', render({
        action: 'patch', gvk: g, operationId: `patch${idBase}${S}`, description: `Change part of ${what} of the named ${rt.kind}.`,
        params: patchParams, body: c.patchBody, responses: { '200': ok(schemaRef), '201': { description: 'Created', schema: schemaRef, types: jsonTypes } },
      }), c.itemParams);
    }
  };
  const connect = (kind: string, methods: string[], ps: Param[], what: string, p = path, extraParams: SchemaObject[] = []) => {
    for (const m of methods) {
      const M = m[0]!.toUpperCase() + m.slice(1);
      addOperation(items, p, m, render({
        action: 'connect', gvk: { group: rt.group, version: rt.version, kind }, operationId: `connect${c.gv}${M}${c.ns}${rt.kind}${S}${p.endsWith('{path}') ? 'WithPath' : ''}`,
        description: what, params: ps, responses: { '200': { description: 'OK', schema: { type: 'string' }, types: anyTypes } },
      }), [...c.itemParams, ...extraParams]);
    }
  };

  switch (sub) {
    case 'status':
      readWrite(c.kindRef, gvk, 'the status', ['get', 'put', 'patch']);
      break;
    case 'ephemeralcontainers':
      readWrite(c.kindRef, gvk, 'the ephemeral containers', ['get', 'put', 'patch']);
      break;
    case 'finalize':
      readWrite(c.kindRef, gvk, 'the finalizers (spec.finalizers)', ['put']);
      break;
    case 'scale':
      readWrite(ctx.refSchema(ScaleSchema), { group: 'autoscaling', version: 'v1', kind: 'Scale' }, 'the scale (replica count)', ['get', 'put', 'patch']);
      break;
    case 'binding':
      addOperation(items, path, 'post', render({
        action: 'post', gvk: { group: '', version: 'v1', kind: 'Binding' }, operationId: `create${idBase}Binding`,
        description: `Bind the named ${rt.kind} to a node (the scheduler's decision).`, params: [params.dryRun, params.fieldManager],
        body: { schema: ctx.refSchema(BindingSchema), types: jsonTypes, required: true }, responses: { '201': { description: 'Created', schema: c.statusRef, types: jsonTypes } },
      }), c.itemParams);
      break;
    case 'eviction':
      addOperation(items, path, 'post', render({
        action: 'post', gvk: { group: 'policy', version: 'v1', kind: 'Eviction' }, operationId: `create${idBase}Eviction`,
        description: `Evict the named ${rt.kind}, unless a PodDisruptionBudget forbids it (429).`, params: [params.dryRun, params.fieldManager],
        body: { schema: ctx.refSchema(EvictionSchema), types: jsonTypes, required: true }, responses: { '201': { description: 'Created', schema: c.statusRef, types: jsonTypes } },
      }), c.itemParams);
      break;
    case 'log':
      addOperation(items, path, 'get', render({
        action: 'get', gvk, operationId: `read${idBase}Log`, description: `Read the log of a container of the named ${rt.kind}.`,
        params: [params.container, params.follow, params.limitBytes, params.previous, params.sinceSeconds, params.tailLines, params.timestamps],
        responses: { '200': ok({ type: 'string' }, textTypes) },
      }), c.itemParams);
      break;
    case 'exec':
      connect('PodExecOptions', ['get', 'post'], [params.command, params.container, params.stderr, params.stdin, params.stdout, params.tty], `Run a command in a container of the named ${rt.kind} (WebSocket or SPDY upgrade).`);
      break;
    case 'attach':
      connect('PodAttachOptions', ['get', 'post'], [params.container, params.stderr, params.stdin, params.stdout, params.tty], `Attach to the main process of a container of the named ${rt.kind} (WebSocket or SPDY upgrade).`);
      break;
    case 'portforward':
      connect('PodPortForwardOptions', ['get', 'post'], [params.ports], `Forward ports of the named ${rt.kind} (WebSocket or SPDY upgrade).`);
      break;
    case 'proxy': {
      const methods = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];
      const kind = `${rt.kind}ProxyOptions`;
      connect(kind, methods, [params.proxyPath], `Proxy HTTP requests to the named ${rt.kind}.`);
      connect(kind, methods, [params.proxyPath], `Proxy HTTP requests to a path of the named ${rt.kind}.`, `${path}/{path}`, pp([params.path]));
      break;
    }
    default:
      // Subresources without a described body (token...) are left out rather than guessed.
      break;
  }
}
