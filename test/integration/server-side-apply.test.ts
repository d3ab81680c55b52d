/**
 * managedFields and server-side apply over HTTP, against a real etcd: who owns what after
 * creates, updates, patches and applies; pruning, conflicts, force, resets, dry runs and
 * custom resources.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';

let s: TestAPIServer;
beforeAll(async () => {
  s = await startAPIServer();
  await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'ssa' } });
});
afterAll(async () => s?.stop());

const yaml = { 'content-type': 'application/apply-patch+yaml' };
const cms = '/api/v1/namespaces/ssa/configmaps';
const deploys = '/apis/apps/v1/namespaces/ssa/deployments';

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}
const entries = (o: { metadata: { managedFields?: Entry[] } }) => o.metadata.managedFields ?? [];
const entryOf = (o: { metadata: { managedFields?: Entry[] } }, manager: string, operation = 'Update') => entries(o).find((e) => e.manager === manager && e.operation === operation);
/** PATCHes `body` as an apply configuration to the object it names under `collection`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const apply = (collection: string, body: { metadata: { name: string } & Record<string, any> } & Record<string, any>, manager: string, extra = '') =>
  api(s.url, 'PATCH', `${collection}/${body.metadata.name}?fieldManager=${manager}${extra}`, JSON.stringify(body), yaml);

const deployment = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } },
    ...spec,
  },
});

describe('managedFields on every write', () => {
  test('a create records its fields under the fieldManager, or the User-Agent up to its first "/"', async () => {
    const c = await api(s.url, 'POST', `${cms}?fieldManager=creator`, { metadata: { name: 'a', labels: { tier: 'web' } }, data: { color: 'blue' } });
    expect(c.status).toBe(201);
    expect(entries(c.body)).toEqual([
      {
        manager: 'creator',
        operation: 'Update',
        apiVersion: 'v1',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { '.': {}, 'f:color': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:tier': {} } } },
      },
    ]);
    const ua = await api(s.url, 'POST', cms, { metadata: { name: 'ua' }, data: { x: '1' } }, { 'user-agent': 'my-tool/v0.3 (linux/amd64)' });
    expect(entries(ua.body).map((e) => e.manager)).toEqual(['my-tool']);
  });

  test('what mutating admission adds to a create (the service account token volume) belongs to no manager, as upstream', async () => {
    const c = await api(s.url, 'POST', '/api/v1/namespaces/ssa/pods?fieldManager=runner', { metadata: { name: 'sa-pod' }, spec: { containers: [{ name: 'app', image: 'busybox:1.36' }] } });
    expect(c.status).toBe(201);
    // The ServiceAccount plugin did its work...
    expect(c.body.spec.serviceAccountName).toBe('default');
    expect(c.body.spec.volumes.map((v: { name: string }) => v.name)).toEqual([expect.stringMatching(/^kube-api-access-[a-z0-9]{5}$/)]);
    // ...but the runner owns only what it sent (and the defaults it was given).
    const spec = entryOf(c.body, 'runner')!.fieldsV1['f:spec'] as Record<string, unknown>;
    expect(Object.keys(spec)).toContain('f:containers');
    expect(Object.keys(spec)).not.toContain('f:volumes');
    expect(Object.keys(spec)).not.toContain('f:serviceAccountName');
    expect(JSON.stringify(spec)).not.toContain('volumeMounts');
  });

  test('a change moves the field to the writer; a manager left with nothing disappears', async () => {
    const p = await api(s.url, 'PATCH', `${cms}/a?fieldManager=editor`, { data: { color: 'red', size: 'L' } }, { 'content-type': 'application/merge-patch+json' });
    expect(p.status).toBe(200);
    // The creator keeps the data map itself (a member with nothing under it is `{}`).
    expect(entryOf(p.body, 'creator')!.fieldsV1).toEqual({ 'f:data': {}, 'f:metadata': { 'f:labels': { '.': {}, 'f:tier': {} } } });
    expect(entryOf(p.body, 'editor')!.fieldsV1).toEqual({ 'f:data': { 'f:color': {}, 'f:size': {} } });
    // Updates by the same manager merge into one entry.
    const p2 = await api(s.url, 'PATCH', `${cms}/a?fieldManager=editor`, { metadata: { labels: { tier: 'db' } } }, { 'content-type': 'application/merge-patch+json' });
    expect(entries(p2.body).filter((e) => e.manager === 'editor')).toHaveLength(1);
    expect(entryOf(p2.body, 'editor')!.fieldsV1).toEqual({ 'f:data': { 'f:color': {}, 'f:size': {} }, 'f:metadata': { 'f:labels': { 'f:tier': {} } } });
    expect(entryOf(p2.body, 'creator')!.fieldsV1).toEqual({ 'f:data': {}, 'f:metadata': { 'f:labels': {} } });
    // A PUT that removes everything the creator still had.
    const cur = p2.body;
    const put = await api(s.url, 'PUT', `${cms}/a?fieldManager=editor`, { ...cur, metadata: { ...cur.metadata, labels: undefined, annotations: { note: 'x' } }, data: undefined });
    expect(put.status).toBe(200);
    expect(entries(put.body).map((e) => e.manager)).toEqual(['editor']);
    expect(entryOf(put.body, 'editor')!.fieldsV1).toEqual({ 'f:metadata': { 'f:annotations': { '.': {}, 'f:note': {} } } });
  });

  test('a write that changes nothing leaves managedFields (and the object) alone', async () => {
    const before = (await api(s.url, 'GET', `${cms}/ua`)).body;
    const p = await api(s.url, 'PATCH', `${cms}/ua?fieldManager=someone-else`, { data: { x: '1' } }, { 'content-type': 'application/merge-patch+json' });
    expect(p.body.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(entries(p.body)).toEqual(entries(before));
  });

  test('status writes are recorded with subresource "status"', async () => {
    const d = await apply(deploys, deployment('st'), 'owner');
    expect(d.status).toBe(201);
    const st = await api(s.url, 'PATCH', `${deploys}/st/status?fieldManager=ctrl`, { status: { replicas: 2 } }, { 'content-type': 'application/merge-patch+json' });
    expect(st.status).toBe(200);
    expect(entryOf(st.body, 'ctrl')).toMatchObject({ subresource: 'status', apiVersion: 'apps/v1', fieldsV1: { 'f:status': { 'f:replicas': {} } } });
  });

  test('managedFields set to [] or [{}] are cleared, and stay untracked until the next apply', async () => {
    for (const [name, reset] of [['r1', []], ['r2', [{}]]] as const) {
      await api(s.url, 'POST', `${cms}?fieldManager=creator`, { metadata: { name }, data: { a: '1' } });
      const r = await api(s.url, 'PATCH', `${cms}/${name}`, { metadata: { managedFields: reset } }, { 'content-type': 'application/merge-patch+json' });
      expect(r.status).toBe(200);
      expect(r.body.metadata.managedFields).toBeUndefined();
      const u = await api(s.url, 'PATCH', `${cms}/${name}?fieldManager=later`, { data: { b: '2' } }, { 'content-type': 'application/merge-patch+json' });
      expect(u.body.metadata.managedFields).toBeUndefined();
    }
    // Apply gives what was there to "before-first-apply" so it is not pruned.
    const a = await apply(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'r1' }, data: { c: '3' } }, 'applier');
    expect(a.status).toBe(200);
    expect(entryOf(a.body, 'before-first-apply')!.fieldsV1).toEqual({ 'f:data': { 'f:a': {}, 'f:b': {} } });
    expect(entryOf(a.body, 'applier', 'Apply')!.fieldsV1).toEqual({ 'f:data': { 'f:c': {} } });
  });

  test('managedFields a client sends are kept (kubectl uses this to move client-side apply fields to its apply entry)', async () => {
    const c = await api(s.url, 'POST', `${cms}?fieldManager=kubectl-client-side-apply`, { metadata: { name: 'mf' }, data: { a: '1' } });
    const moved = [{ ...entries(c.body)[0], manager: 'kubectl', operation: 'Apply' }];
    const p = await api(
      s.url,
      'PATCH',
      `${cms}/mf`,
      [
        { op: 'replace', path: '/metadata/managedFields', value: moved },
        { op: 'replace', path: '/metadata/resourceVersion', value: c.body.metadata.resourceVersion },
      ],
      { 'content-type': 'application/json-patch+json' },
    );
    expect(p.status).toBe(200);
    expect(entries(p.body).map((e) => [e.manager, e.operation])).toEqual([['kubectl', 'Apply']]);
  });
});

describe('server-side apply', () => {
  test('creates the object; the applier owns exactly what it sent', async () => {
    const r = await apply(deploys, deployment('web', { replicas: 3 }), 'alice');
    expect(r.status).toBe(201);
    expect(r.body.spec.replicas).toBe(3);
    expect(r.body.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(entries(r.body)).toHaveLength(1);
    expect(entryOf(r.body, 'alice', 'Apply')!.fieldsV1).toEqual({
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        },
      },
    });
  });

  test('re-applying without a field removes it, unless another manager owns it', async () => {
    await apply(deploys, deployment('prune', { replicas: 3, template: { metadata: { labels: { app: 'prune' } }, spec: { hostname: 'h', containers: [{ name: 'web', image: 'nginx' }, { name: 'side', image: 'busybox' }] } } }), 'alice');
    // bob shares the hostname by applying the same value.
    const b = await apply(deploys, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'prune' }, spec: { template: { spec: { hostname: 'h' } } } }, 'bob');
    expect(b.status).toBe(200);
    const r = await apply(deploys, deployment('prune', { template: { metadata: { labels: { app: 'prune' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } }), 'alice');
    expect(r.status).toBe(200);
    expect(r.body.spec.replicas).toBe(1); // removed, then defaulted
    expect(r.body.spec.template.spec.hostname).toBe('h'); // bob still owns it
    expect(r.body.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['web']);
  });

  test('changing a value another manager owns is a 409 naming the field and the manager; force takes it over', async () => {
    await apply(deploys, deployment('cf', { replicas: 2 }), 'alice');
    const sc = await api(s.url, 'PATCH', `${deploys}/cf?fieldManager=scaler`, { spec: { replicas: 5 } }, { 'content-type': 'application/merge-patch+json' });
    expect(sc.status).toBe(200);
    expect(entryOf(sc.body, 'alice', 'Apply')!.fieldsV1).not.toHaveProperty(['f:spec', 'f:replicas']);

    const c = await apply(deploys, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'cf' }, spec: { replicas: 7, template: { spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } } }, 'carol');
    expect(c.status).toBe(409);
    expect(c.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: 'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.template.spec.containers[name="web"].image\nconflicts with "scaler" using apps/v1:\n- .spec.replicas',
      details: {
        causes: [
          { reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.template.spec.containers[name="web"].image' },
          { reason: 'FieldManagerConflict', message: 'conflict with "scaler" using apps/v1', field: '.spec.replicas' },
        ],
      },
    });
    const one = await apply(deploys, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'cf' }, spec: { replicas: 7 } }, 'carol');
    expect(one.body.message).toBe('Apply failed with 1 conflict: conflict with "scaler" using apps/v1: .spec.replicas');
    // The same value is no conflict: ownership is shared.
    const same = await apply(deploys, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'cf' }, spec: { replicas: 5 } }, 'carol');
    expect(same.status).toBe(200);
    expect(entryOf(same.body, 'scaler')!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });

    const forced = await apply(deploys, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'cf' }, spec: { replicas: 7 } }, 'carol', '&force=true');
    expect(forced.status).toBe(200);
    expect(forced.body.spec.replicas).toBe(7);
    expect(entryOf(forced.body, 'scaler')).toBeUndefined();
    expect(entryOf(forced.body, 'carol', 'Apply')!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  test('lists and maps merge by their list type: keyed items, sets by value, atomic lists whole', async () => {
    await apply(deploys, deployment('lists', { template: { metadata: { labels: { app: 'lists' } }, spec: { containers: [{ name: 'web', image: 'nginx', args: ['a', 'b'], ports: [{ containerPort: 80 }] }] } } }), 'alice');
    const r = await apply(
      deploys,
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'lists', finalizers: ['example.com/x'] }, spec: { template: { spec: { containers: [{ name: 'side', image: 'busybox' }] } } } },
      'bob',
    );
    expect(r.status).toBe(200);
    expect(r.body.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['web', 'side']);
    expect(entryOf(r.body, 'alice', 'Apply')!.fieldsV1).toMatchObject({
      'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:args': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } } } },
    });
    // An atomic list belongs whole to one manager: changing it conflicts.
    const args = await apply(deploys, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'lists' }, spec: { template: { spec: { containers: [{ name: 'web', args: ['c'] }] } } } }, 'bob');
    expect(args.status).toBe(409);
    expect(args.body.details.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.spec.template.spec.containers[name="web"].args' }]);
  });

  test('requests apply refuses, as upstream', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad' }, data: { a: '1' } };
    const noManager = await api(s.url, 'PATCH', `${cms}/bad`, JSON.stringify(cm), yaml);
    expect(noManager.status).toBe(422);
    expect(noManager.body.message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const force = await api(s.url, 'PATCH', `${cms}/ua?force=true`, { data: {} }, { 'content-type': 'application/merge-patch+json' });
    expect(force.status).toBe(422);
    expect(force.body.message).toContain('force: Forbidden: may not be specified for non-apply patch');
    expect((await apply(cms, { ...cm, metadata: { name: 'bad', managedFields: [] } }, 'm')).body.message).toBe('metadata.managedFields must be nil');
    expect((await apply(cms, { ...cm, apiVersion: 'v2' }, 'm')).body.message).toBe('Incorrect version specified in apply patch. Specified patch version: v2, expected: v1');
    const renamed = await api(s.url, 'PATCH', `${cms}/bad?fieldManager=m`, JSON.stringify({ ...cm, metadata: { name: 'other' } }), yaml);
    expect(renamed.body.message).toBe('the name of the object (other) does not match the name on the URL (bad)');
    expect((await apply(cms, { ...cm, metadata: { name: 'bad', namespace: 'default' } }, 'm')).body.message).toBe('the namespace of the provided object does not match the namespace sent on the request');
    const dup = await apply(deploys, deployment('dup', { template: { spec: { containers: [{ name: 'a' }, { name: 'a' }] } } }), 'm');
    expect(dup.status).toBe(500);
    expect(dup.body.message).toBe('failed to create typed patch object (ssa/dup; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="a"]');
    const strict = await apply(cms, { ...cm, bogus: 1 }, 'm', '&fieldValidation=Strict');
    expect(strict.status).toBe(400);
    expect(strict.body.message).toContain('unknown field "bogus"');
    expect((await api(s.url, 'GET', `${cms}/bad`)).status).toBe(404);
  });

  test('status is applied through the status subresource only', async () => {
    await apply(deploys, deployment('sta', { replicas: 1 }), 'alice');
    const main = await apply(deploys, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'sta' }, status: { replicas: 3 } }, 'ctrl');
    expect(main.body.status?.replicas).toBeUndefined();
    const st = await api(s.url, 'PATCH', `${deploys}/sta/status?fieldManager=ctrl`, JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'sta' }, spec: { replicas: 9 }, status: { replicas: 3 } }), yaml);
    expect(st.status).toBe(200);
    expect(st.body.status.replicas).toBe(3);
    expect(st.body.spec.replicas).toBe(1);
    expect(entryOf(st.body, 'ctrl', 'Apply')).toMatchObject({ subresource: 'status', fieldsV1: { 'f:status': { 'f:replicas': {} } } });
  });

  test('dryRun=All computes the result without storing it', async () => {
    const dry = await apply(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry' }, data: { a: '1' } }, 'm', '&dryRun=All');
    expect(dry.status).toBe(201);
    expect(entryOf(dry.body, 'm', 'Apply')).toBeDefined();
    expect((await api(s.url, 'GET', `${cms}/dry`)).status).toBe(404);
  });

  test('custom resources merge by their structural schema', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    properties: {
                      size: { type: 'integer' },
                      parts: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['id'], items: { type: 'object', properties: { id: { type: 'string' }, qty: { type: 'integer' } } } },
                      tags: { type: 'array', items: { type: 'string' } },
                    },
                  },
                },
              },
            },
          },
        ],
      },
    };
    expect((await api(s.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(201);
    const path = '/apis/example.com/v1/namespaces/ssa/widgets';
    const w = (body: Record<string, unknown>) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, ...body });
    let r = { status: 404, body: {} as any };
    for (let i = 0; i < 50 && r.status === 404; i++) {
      r = await apply(path, w({ spec: { size: 1, parts: [{ id: 'a', qty: 1 }], tags: ['x'] } }), 'alice');
      if (r.status === 404) await new Promise((res) => setTimeout(res, 100));
    }
    expect(r.status).toBe(201);
    expect(entryOf(r.body, 'alice', 'Apply')!.fieldsV1).toEqual({ 'f:spec': { 'f:parts': { 'k:{"id":"a"}': { '.': {}, 'f:id': {}, 'f:qty': {} } }, 'f:size': {}, 'f:tags': {} } });
    const b = await apply(path, w({ spec: { parts: [{ id: 'b', qty: 2 }] } }), 'bob');
    expect(b.status).toBe(200);
    expect(b.body.spec.parts).toEqual([
      { id: 'a', qty: 1 },
      { id: 'b', qty: 2 },
    ]);
    const t = await apply(path, w({ spec: { tags: ['y'] } }), 'bob');
    expect(t.status).toBe(409);
    expect(t.body.details.causes[0].field).toBe('.spec.tags');
  });
});
