import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { builtinResources } from '../builtin.js';
import { defineResource, type AnyResourceType } from '../resource-type.js';
import { ObjectMetaSchema } from '../meta/v1.js';
import { OpenAPIGenerator } from './documents.js';
import type { SchemaObject } from './schema-convert.js';

type Obj = Record<string, any>;

/** Every $ref in `node`, anywhere. */
function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refsIn(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

const crontab = defineResource({
  group: 'stable.example.com',
  version: 'v1',
  kind: 'CronTab',
  resource: 'crontabs',
  namespaced: true,
  schema: z.object({ apiVersion: z.string().optional(), kind: z.string().optional(), metadata: ObjectMetaSchema, spec: z.object({ cronSpec: z.string() }).optional() }) as never,
});

const gen = new OpenAPIGenerator({ title: 'tkube', version: 'test' });
const docs = gen.documents(builtinResources);

describe('v3 documents', () => {
  test('no field repeats its type\'s description (kubectl explain prints both, one after the other)', () => {
    const repeated: string[] = [];
    for (const gv of docs.groupVersions()) {
      const schemas = JSON.parse(docs.v3(gv)!.json).components.schemas as Obj;
      for (const [name, schema] of Object.entries(schemas)) {
        for (const [field, prop] of Object.entries((schema as Obj).properties ?? {}) as [string, Obj][]) {
          const ref: string | undefined = prop.allOf?.[0]?.$ref ?? prop.$ref ?? prop.items?.allOf?.[0]?.$ref ?? prop.items?.$ref;
          const type = ref ? (schemas[ref.split('/').pop()!] as Obj | undefined) : undefined;
          if (type?.description && type.description === prop.description) repeated.push(`${name}.${field}: ${prop.description}`);
        }
      }
    }
    expect([...new Set(repeated)]).toEqual([]);
  });

  test('one document per served group-version, listed in the index with the SHA-512 of its JSON', () => {
    const served = [...new Set(builtinResources.map((r) => (r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`)))].sort();
    expect(docs.groupVersions()).toEqual(served);
    const index = JSON.parse(docs.v3Index().json) as { paths: Record<string, { serverRelativeURL: string }> };
    for (const gv of docs.groupVersions()) {
      const d = docs.v3(gv)!;
      const hash = createHash('sha512').update(d.json).digest('hex').toUpperCase();
      expect(index.paths[gv]!.serverRelativeURL).toBe(`/openapi/v3/${gv}?hash=${hash}`);
    }
    expect(docs.v3('apis/nothing/v1')).toBeUndefined();
  });

  test.each(['api/v1', 'apis/apps/v1', 'apis/batch/v1', 'apis/policy/v1'])('%s: valid JSON, OpenAPI 3.0, every $ref resolvable', (gv) => {
    const d = JSON.parse(docs.v3(gv)!.json) as Obj;
    expect(d['openapi']).toBe('3.0.0');
    const schemas = d['components']['schemas'] as Obj;
    const refs = refsIn(d);
    expect(refs.length).toBeGreaterThan(50);
    for (const r of refs) {
      expect(r.startsWith('#/components/schemas/'), r).toBe(true);
      expect(schemas[r.slice('#/components/schemas/'.length)], r).toBeDefined();
    }
  });

  test('kinds and their lists carry x-kubernetes-group-version-kind, as do Status, DeleteOptions, WatchEvent and Scale', () => {
    const apps = JSON.parse(docs.v3('apis/apps/v1')!.json).components.schemas as Obj;
    expect(apps['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    expect(apps['io.k8s.api.apps.v1.DeploymentList']['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', kind: 'DeploymentList', version: 'v1' }]);
    expect(apps['io.k8s.api.apps.v1.DeploymentList']['properties']['items']['items']).toEqual({ $ref: '#/components/schemas/io.k8s.api.apps.v1.Deployment' });
    expect(apps['io.k8s.api.autoscaling.v1.Scale']['x-kubernetes-group-version-kind']).toEqual([{ group: 'autoscaling', kind: 'Scale', version: 'v1' }]);
    expect(apps['io.k8s.apimachinery.pkg.apis.meta.v1.Status']['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Status', version: 'v1' }]);
    expect(apps['io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions']['x-kubernetes-group-version-kind']).toContainEqual({ group: 'apps', kind: 'DeleteOptions', version: 'v1' });
    expect(apps['io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent']).toBeDefined();
    const core = JSON.parse(docs.v3('api/v1')!.json).components.schemas as Obj;
    expect(core['io.k8s.api.core.v1.Binding']['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Binding', version: 'v1' }]);
    expect(core['io.k8s.api.policy.v1.Eviction']['x-kubernetes-group-version-kind']).toEqual([{ group: 'policy', kind: 'Eviction', version: 'v1' }]);
  });

  test('every PATCH operation names its kind and offers fieldValidation, force and the four patch types (what kubectl checks)', () => {
    for (const gv of docs.groupVersions()) {
      const d = JSON.parse(docs.v3(gv)!.json) as Obj;
      for (const [path, item] of Object.entries(d['paths'] as Obj)) {
        const patch = item['patch'];
        // Proxy paths take PATCH too, as a connect operation of the ...ProxyOptions kind.
        if (!patch || patch['x-kubernetes-action'] === 'connect') continue;
        expect(patch['x-kubernetes-action'], path).toBe('patch');
        expect(patch['x-kubernetes-group-version-kind'], path).toMatchObject({ version: expect.any(String), kind: expect.any(String) });
        const names = (patch['parameters'] as Obj[]).filter((p) => p['in'] === 'query').map((p) => p['name']);
        expect(names, path).toEqual(expect.arrayContaining(['dryRun', 'fieldManager', 'fieldValidation', 'force']));
        expect(Object.keys(patch['requestBody']['content'])).toEqual([
          'application/json-patch+json',
          'application/merge-patch+json',
          'application/strategic-merge-patch+json',
          'application/apply-patch+yaml',
        ]);
      }
    }
  });

  test('paths cover list, watch, create, read, replace, delete, deletecollection and subresources with upstream query parameters', () => {
    const d = JSON.parse(docs.v3('api/v1')!.json) as Obj;
    const paths = d['paths'] as Obj;
    const pods = paths['/api/v1/namespaces/{namespace}/pods'];
    expect(Object.keys(pods).sort()).toEqual(['delete', 'get', 'parameters', 'post']);
    expect(pods['get']['x-kubernetes-action']).toBe('list');
    const listParams = (pods['get']['parameters'] as Obj[]).map((p) => p['name']);
    expect(listParams).toEqual(expect.arrayContaining(['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'watch', 'allowWatchBookmarks', 'timeoutSeconds']));
    expect(Object.keys(pods['get']['responses']['200']['content'])).toContain('application/json;stream=watch');
    expect((pods['post']['parameters'] as Obj[]).map((p) => p['name'])).toEqual(['dryRun', 'fieldManager', 'fieldValidation']);
    const deleteParams = (pods['delete']['parameters'] as Obj[]).map((p) => p['name']);
    expect(deleteParams).toEqual(expect.arrayContaining(['gracePeriodSeconds', 'propagationPolicy', 'labelSelector']));
    expect((pods['parameters'] as Obj[]).map((p) => p['name'])).toEqual(['namespace', 'pretty']);
    const pod = paths['/api/v1/namespaces/{namespace}/pods/{name}'];
    expect(Object.keys(pod).sort()).toEqual(['delete', 'get', 'parameters', 'patch', 'put']);
    expect((pod['put']['parameters'] as Obj[]).map((p) => p['name'])).toContain('fieldValidation');
    expect(paths['/api/v1/pods']['get']['operationId']).toBe('listCoreV1PodForAllNamespaces');
    expect(paths['/api/v1/watch/namespaces/{namespace}/pods/{name}']['get']['x-kubernetes-action']).toBe('watch');
    expect(Object.keys(paths['/api/v1/namespaces/{namespace}/pods/{name}/status']).sort()).toEqual(['get', 'parameters', 'patch', 'put']);
    expect(paths['/api/v1/namespaces/{namespace}/pods/{name}/binding']['post']['x-kubernetes-group-version-kind']).toEqual({ group: '', kind: 'Binding', version: 'v1' });
    expect(paths['/api/v1/namespaces/{namespace}/pods/{name}/exec']['post']['x-kubernetes-action']).toBe('connect');
    expect(paths['/api/v1/namespaces/{name}/finalize']['put']).toBeDefined();
    // Cluster-scoped kinds have no namespace parameter and no all-namespaces path.
    expect((paths['/api/v1/nodes/{name}']['parameters'] as Obj[]).map((p) => p['name'])).toEqual(['name', 'pretty']);
    // ComponentStatus is read-only: no write operations at all.
    expect(Object.keys(paths['/api/v1/componentstatuses/{name}']).sort()).toEqual(['get', 'parameters']);
    const apps = JSON.parse(docs.v3('apis/apps/v1')!.json).paths as Obj;
    expect(apps['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']['patch']['x-kubernetes-group-version-kind']).toEqual({ group: 'autoscaling', kind: 'Scale', version: 'v1' });
  });

  test('operation ids are unique within a document', () => {
    for (const gv of docs.groupVersions()) {
      const d = JSON.parse(docs.v3(gv)!.json) as Obj;
      const ids = Object.values(d['paths'] as Obj).flatMap((item) => Object.entries(item as Obj).filter(([k]) => k !== 'parameters').map(([, op]) => (op as Obj)['operationId']));
      expect(new Set(ids).size, gv).toBe(ids.length);
    }
  });

  test('no definition id is claimed by two different schemas', () => {
    expect(docs.conflicts()).toEqual([]);
  });
});

describe('memoization and hashes', () => {
  test('the same resource types give the same documents object; hashes do not depend on the generator instance', () => {
    expect(gen.documents([...builtinResources])).toBe(docs);
    const other = new OpenAPIGenerator({ title: 'tkube', version: 'test' });
    expect(other.documents(builtinResources).v3('apis/apps/v1')!.etag).toBe(docs.v3('apis/apps/v1')!.etag);
  });

  test('a CRD joining adds its group-version and leaves the others (and their hashes) alone', () => {
    const withCRD = gen.documents([...builtinResources, crontab as AnyResourceType]);
    expect(withCRD.groupVersions()).toContain('apis/stable.example.com/v1');
    expect(withCRD.v3('apis/apps/v1')).toBe(docs.v3('apis/apps/v1'));
    const schemas = JSON.parse(withCRD.v3('apis/stable.example.com/v1')!.json).components.schemas as Obj;
    expect(schemas['com.example.stable.v1.CronTab']['x-kubernetes-group-version-kind']).toEqual([{ group: 'stable.example.com', kind: 'CronTab', version: 'v1' }]);
    expect(schemas['com.example.stable.v1.CronTabList']['properties']['items']['items']).toEqual({ $ref: '#/components/schemas/com.example.stable.v1.CronTab' });
    expect(withCRD.v3Index().etag).not.toBe(docs.v3Index().etag);
  });

  test('a change to a group-version changes its hash', () => {
    const fewer = gen.documents(builtinResources.filter((rt) => rt.kind !== 'StatefulSet'));
    expect(fewer.v3('apis/apps/v1')!.etag).not.toBe(docs.v3('apis/apps/v1')!.etag);
    expect(fewer.v3('api/v1')!.etag).toBe(docs.v3('api/v1')!.etag);
  });

  test('generation is fast enough to run on a request', () => {
    const start = performance.now();
    const fresh = new OpenAPIGenerator().documents(builtinResources);
    fresh.v3Index();
    fresh.v2Protobuf();
    // About 0.2 s on an idle 2-core machine; the bound leaves room for a busy CI.
    expect(performance.now() - start).toBeLessThan(5000);
  });
});

describe('v2 document', () => {
  const v2 = JSON.parse(docs.v2().json) as Obj;

  test('Swagger 2.0 with every $ref resolvable under #/definitions/', () => {
    expect(v2['swagger']).toBe('2.0');
    const defs = v2['definitions'] as Obj;
    for (const r of refsIn(v2)) {
      expect(r.startsWith('#/definitions/'), r).toBe(true);
      expect(defs[r.slice('#/definitions/'.length)], r).toBeDefined();
    }
    expect(defs['io.k8s.api.core.v1.Pod']['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Pod', version: 'v1' }]);
  });

  test('keeps to what kubectl`s v2 model parser accepts: no type or properties beside $ref, one type, items on arrays', () => {
    const check = (s: SchemaObject, where: string) => {
      if (!s || typeof s !== 'object') return;
      if (s['$ref']) {
        expect(s['type'], where).toBeUndefined();
        expect(s['properties'], where).toBeUndefined();
        return;
      }
      if (s['type'] !== undefined) expect(['string', 'integer', 'number', 'boolean', 'object', 'array'], where).toContain(s['type']);
      if (s['type'] === 'array') {
        expect(s['items'], where).toBeDefined();
        check(s['items'] as SchemaObject, `${where}[]`);
      }
      for (const [k, p] of Object.entries((s['properties'] as Obj) ?? {})) check(p, `${where}.${k}`);
      if (s['additionalProperties'] && typeof s['additionalProperties'] === 'object') check(s['additionalProperties'] as SchemaObject, `${where}{}`);
      expect(s['anyOf'], where).toBeUndefined();
      expect(s['nullable'], where).toBeUndefined();
    };
    for (const [name, s] of Object.entries(v2['definitions'] as Obj)) check(s, name);
  });

  test('operations use body parameters and consumes/produces', () => {
    const patch = v2['paths']['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']['patch'] as Obj;
    expect(patch['consumes']).toContain('application/strategic-merge-patch+json');
    expect(patch['parameters'][0]).toMatchObject({ name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } });
    expect(patch['parameters']).toContainEqual(expect.objectContaining({ name: 'fieldValidation', in: 'query', type: 'string' }));
  });
});
