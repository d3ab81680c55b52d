/** CustomResourceDefinitions: the API server serves a new kind live, validates it, and cleans up. */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYAML } from 'yaml';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl } from '../support/kubectl.js';
import { Etcd3 } from 'etcd3';

let s: TestAPIServer;
const k = kubectls()[kubectls().length - 1]!;
const kc = (args: string[], input?: string) => runKubectl(k, s.kubeconfig, args, { input });

beforeAll(async () => {
  s = await startAPIServer();
});
afterAll(async () => s?.stop());

const crd = (opts: { group?: string; plural?: string; kind?: string; scope?: string; versions?: unknown[] } = {}) => {
  const group = opts.group ?? 'stable.example.com';
  const plural = opts.plural ?? 'crontabs';
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: opts.scope ?? 'Namespaced',
      names: { plural, singular: plural.replace(/s$/, ''), kind: opts.kind ?? 'CronTab', shortNames: ['ct'], categories: ['all'] },
      versions: opts.versions ?? [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } },
          additionalPrinterColumns: [
            { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' },
            { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', priority: 1 },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['cronSpec'],
                  properties: {
                    cronSpec: { type: 'string', pattern: '^\\S+( \\S+){4}$', description: 'When to run, in cron syntax.' },
                    image: { type: 'string' },
                    replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
                  },
                },
                status: { type: 'object', properties: { replicas: { type: 'integer' }, selector: { type: 'string' }, conditions: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' }, status: { type: 'string' } } } } } },
              },
            },
          },
        },
      ],
    },
  };
};

async function waitEstablished(name: string) {
  const r = await kc(['wait', '--for=condition=established', `crd/${name}`, '--timeout=20s']);
  expect(r.stderr).toBe('');
}

describe('a namespaced CRD with status and scale', () => {
  test('is served live, listed in discovery, and printed with its columns', async () => {
    const c = await kc(['apply', '-f', '-'], JSON.stringify(crd()));
    expect(c.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created');
    await waitEstablished('crontabs.stable.example.com');
    const got = await api(s.url, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com');
    expect(got.body.metadata.finalizers).toContain('customresourcecleanup.apiextensions.k8s.io');
    expect(got.body.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'NamesAccepted', status: 'True' }), expect.objectContaining({ type: 'Established', status: 'True' })]));
    expect(got.body.status.storedVersions).toEqual(['v1']);

    const cr = await kc(['apply', '-f', '-'], 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: nightly}\nspec: {cronSpec: "0 3 * * *", image: backup:1}\n');
    expect(cr.stdout).toContain('crontab.stable.example.com/nightly created');
    const table = await kc(['get', 'crontabs']);
    // Custom columns replace the default AGE column (it is only there when a CRD lists none).
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+SPEC\s+REPLICAS$/);
    expect(table.stdout).toMatch(/nightly\s+0 3 \* \* \*\s+1\n/);
    const wide = await kc(['get', 'ct', '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]).toMatch(/READY/);
    const all = await kc(['get', 'all']);
    expect(all.stdout).toContain('crontab.stable.example.com/nightly');
    const res = await kc(['api-resources', '--api-group=stable.example.com']);
    expect(res.stdout).toMatch(/crontabs\s+ct\s+stable.example.com\/v1\s+true\s+CronTab/);
    const explain = await kc(['explain', 'crontab.spec.cronSpec']);
    expect(explain.stdout).toContain('When to run, in cron syntax.');
    // Stored under the group in etcd.
    const etcd = new Etcd3({ hosts: s.etcd.endpoints.map((e) => e.replace('http://', '')) });
    const kv = await etcd.get('/registry/stable.example.com/crontabs/default/nightly').string();
    etcd.close();
    expect(JSON.parse(kv!).spec.replicas).toBe(1);
  });

  test('validates against its schema, prunes nothing silently under Strict, and defaults', async () => {
    const bad = await kc(['apply', '-f', '-'], 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: bad}\nspec: {cronSpec: nope, replicas: 50}\n');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('spec.cronSpec: Invalid value: "nope"');
    expect(bad.stderr).toContain('spec.replicas: Invalid value: 50: spec.replicas in body should be less than or equal to 10');
    const missing = await api(s.url, 'POST', '/apis/stable.example.com/v1/namespaces/default/crontabs', { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'nospec' }, spec: {} });
    expect(missing.status).toBe(422);
    expect(missing.body.details.causes).toContainEqual(expect.objectContaining({ field: 'spec.cronSpec', reason: 'FieldValueRequired' }));
    const typo = await kc(['create', '--validate=strict', '-f', '-'], 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: typo}\nspec: {cronSpec: "* * * * *", imag: x}\n');
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain('unknown field "spec.imag"');
    // Without strict validation the unknown field is dropped, as upstream prunes.
    const lax = await api(s.url, 'POST', '/apis/stable.example.com/v1/namespaces/default/crontabs?fieldValidation=Ignore', { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'lax' }, spec: { cronSpec: '* * * * *', imag: 'x' } });
    expect(lax.status).toBe(201);
    expect(lax.body.spec).toEqual({ cronSpec: '* * * * *', replicas: 1 });
    for (const n of ['bad', 'nospec', 'typo']) expect((await api(s.url, 'GET', `/apis/stable.example.com/v1/namespaces/default/crontabs/${n}`)).status).toBe(404);
    const smp = await api(s.url, 'PATCH', '/apis/stable.example.com/v1/namespaces/default/crontabs/lax', { spec: { image: 'y' } }, { 'content-type': 'application/strategic-merge-patch+json' });
    expect(smp.status).toBe(415);
  });

  test('the status and scale subresources', async () => {
    const base = '/apis/stable.example.com/v1/namespaces/default/crontabs/nightly';
    const cur = (await api(s.url, 'GET', base)).body;
    // The main resource ignores status; /status ignores spec.
    const main = await api(s.url, 'PUT', base, { ...cur, status: { replicas: 9 } });
    expect(main.body.status).toBeUndefined();
    const st = await api(s.url, 'PUT', `${base}/status`, { ...main.body, spec: { ...main.body.spec, image: 'changed' }, status: { replicas: 1, selector: 'app=nightly', conditions: [{ type: 'Ready', status: 'True' }] } });
    expect(st.status).toBe(200);
    expect(st.body.status.replicas).toBe(1);
    expect(st.body.spec.image).toBe('backup:1');
    const sc = await kc(['scale', 'crontab/nightly', '--replicas=4']);
    expect(sc.stdout).toContain('crontab.stable.example.com/nightly scaled');
    const scale = await api(s.url, 'GET', `${base}/scale`);
    expect(scale.body).toMatchObject({ kind: 'Scale', spec: { replicas: 4 }, status: { replicas: 1, selector: 'app=nightly' } });
    const wide = await kc(['get', 'ct', 'nightly', '-o', 'wide']);
    expect(wide.stdout).toMatch(/nightly\s+0 3 \* \* \*\s+4\s+True/);
  });

  test('the same plural in another group is served independently, and a built-in name is not taken over', async () => {
    await kc(['apply', '-f', '-'], JSON.stringify(crd({ group: 'other.example.com' })));
    await waitEstablished('crontabs.other.example.com');
    expect((await api(s.url, 'GET', '/apis/other.example.com/v1/namespaces/default/crontabs')).status).toBe(200);
    expect((await api(s.url, 'GET', '/apis/stable.example.com/v1/namespaces/default/crontabs/nightly')).status).toBe(200);
    // A definition claiming a built-in resource is not established and does not replace it.
    const clash = crd({ group: 'discovery.k8s.io', plural: 'endpointslices', kind: 'EndpointSlice' });
    const r = await api(s.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', clash);
    expect(r.status).toBe(201);
    const deadline = Date.now() + 5000;
    let cond: any;
    while (Date.now() < deadline) {
      const got = await api(s.url, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/endpointslices.discovery.k8s.io');
      cond = got.body.status?.conditions?.find((c: any) => c.type === 'NamesAccepted');
      if (cond) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(cond).toMatchObject({ status: 'False', reason: 'PluralConflict' });
    const slices = await api(s.url, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes');
    expect(slices.body.kind).toBe('EndpointSlice');
    expect(slices.body.addressType).toBe('IPv4');
    // And it can be deleted.
    await api(s.url, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/endpointslices.discovery.k8s.io');
    const until = Date.now() + 5000;
    while ((await api(s.url, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/endpointslices.discovery.k8s.io')).status !== 404) {
      if (Date.now() > until) throw new Error('conflicting CRD was never deleted');
      await new Promise((res) => setTimeout(res, 50));
    }
    expect((await api(s.url, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes')).status).toBe(200);
  });

  test('deleting the definition deletes its objects, then stops serving it', async () => {
    const d = await kc(['delete', 'crd', 'crontabs.stable.example.com', '--timeout=30s']);
    expect(d.stdout).toContain('deleted');
    const gone = await api(s.url, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com');
    expect(gone.status).toBe(404);
    expect((await api(s.url, 'GET', '/apis/stable.example.com/v1/namespaces/default/crontabs')).status).toBe(404);
    const etcd = new Etcd3({ hosts: s.etcd.endpoints.map((e) => e.replace('http://', '')) });
    const keys = await etcd.getAll().prefix('/registry/stable.example.com/').keys();
    etcd.close();
    expect(keys).toEqual([]);
  });
});

describe('more shapes of CRD', () => {
  test('several served versions, one storage version', async () => {
    const schema = { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'string' } } } } } };
    const def = crd({ group: 'multi.example.com', plural: 'widgets', kind: 'Widget', versions: [
      { name: 'v1', served: true, storage: true, schema },
      { name: 'v1beta1', served: true, storage: false, schema },
    ] });
    await kc(['apply', '-f', '-'], JSON.stringify(def));
    await waitEstablished('widgets.multi.example.com');
    const c = await api(s.url, 'POST', '/apis/multi.example.com/v1beta1/namespaces/default/widgets', { apiVersion: 'multi.example.com/v1beta1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 'L' } });
    expect(c.status).toBe(201);
    expect(c.body.apiVersion).toBe('multi.example.com/v1beta1');
    const v1 = await api(s.url, 'GET', '/apis/multi.example.com/v1/namespaces/default/widgets/w');
    expect(v1.body.apiVersion).toBe('multi.example.com/v1');
    const list = await api(s.url, 'GET', '/apis/multi.example.com/v1beta1/namespaces/default/widgets');
    expect(list.body.items[0].apiVersion).toBe('multi.example.com/v1beta1');
    const group = await api(s.url, 'GET', '/apis/multi.example.com');
    expect(group.body.preferredVersion.version).toBe('v1');
    expect(group.body.versions.map((v: any) => v.version)).toEqual(['v1', 'v1beta1']);
  });

  test('a cluster-scoped CRD; bad definitions are refused with field errors', async () => {
    const def = crd({ group: 'cluster.example.com', plural: 'regions', kind: 'Region', scope: 'Cluster' });
    await kc(['apply', '-f', '-'], JSON.stringify(def));
    await waitEstablished('regions.cluster.example.com');
    const c = await api(s.url, 'POST', '/apis/cluster.example.com/v1/regions', { apiVersion: 'cluster.example.com/v1', kind: 'Region', metadata: { name: 'eu' }, spec: { cronSpec: 'a b c d e' } });
    expect(c.status).toBe(201);
    expect(c.body.metadata.namespace).toBeUndefined();
    const y = parseYAML((await kc(['get', 'region', 'eu', '-o', 'yaml'])).stdout);
    expect(y.metadata.name).toBe('eu');

    const bad = await api(s.url, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      metadata: { name: 'wrong.example.com' },
      spec: { group: 'example', scope: 'Namespaced', names: { plural: 'things', kind: 'Thing' }, versions: [{ name: 'v1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } } } }] },
    });
    expect(bad.status).toBe(422);
    const fields = bad.body.details.causes.map((c: any) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['spec.group', 'metadata.name', 'spec.versions', 'spec.versions[0].schema.openAPIV3Schema.properties[spec].type']));
  });
});

void fs;
