/** Bad input gets the right Status, and nothing is stored or half-written. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';

let s: TestAPIServer;
beforeAll(async () => {
  s = await startAPIServer();
});
afterAll(async () => s?.stop());

async function podCount(): Promise<number> {
  return (await api(s.url, 'GET', '/api/v1/namespaces/default/pods')).body.items.length;
}

describe('bad requests', () => {
  test.each([
    ['malformed JSON', '{"metadata": {"name": "x"', 'application/json', 400, 'json parse error'],
    ['malformed YAML', 'metadata:\n  name: [x\n', 'application/yaml', 400, 'error converting YAML to JSON'],
    ['an empty body', '', 'application/json', 400, 'the body of the request was empty'],
    ['a list instead of an object', '[1,2]', 'application/json', 400, 'must be an object'],
    ['a number where a string belongs', JSON.stringify({ metadata: { name: 5 }, spec: { containers: [] } }), 'application/json', 400, 'metadata.name'],
    ['a string where a list belongs', JSON.stringify({ metadata: { name: 'x' }, spec: { containers: 'busybox' } }), 'application/json', 400, 'spec.containers'],
    ['an unknown content type', '{}', 'text/html', 415, 'application/json'],
    ['the wrong kind', JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' } }), 'application/json', 400, 'Service'],
    ['the wrong apiVersion', JSON.stringify({ apiVersion: 'apps/v1', kind: 'Pod', metadata: { name: 'x' } }), 'application/json', 400, 'apps/v1'],
  ])('%s is refused with %s and nothing is stored', async (_what, body, type, code, text) => {
    const before = await podCount();
    const r = await api(s.url, 'POST', '/api/v1/namespaces/default/pods', body, { 'content-type': type });
    expect(r.status).toBe(code);
    expect(r.body.kind).toBe('Status');
    expect(r.body.status).toBe('Failure');
    expect(r.body.code).toBe(code);
    expect(r.body.message).toContain(text);
    expect(await podCount()).toBe(before);
  });

  test('YAML bodies are accepted', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: "1"\n';
    const r = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', yaml, { 'content-type': 'application/yaml' });
    expect(r.status).toBe(201);
    expect(r.body.data).toEqual({ a: '1' });
  });

  test('invalid names and fields are 422 Invalid with a cause per field', async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'Bad_Name', labels: { 'bad key!': 'v' } },
      spec: { restartPolicy: 'Sometimes', containers: [{ name: 'c', ports: [{ containerPort: 70000 }] }] },
    });
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe('Invalid');
    const fields = r.body.details.causes.map((c: any) => c.field);
    expect(fields).toContain('spec.restartPolicy');
    expect(r.body.details.causes.find((c: any) => c.field === 'spec.restartPolicy').reason).toBe('FieldValueNotSupported');
    expect(r.body.message).toContain('Pod "Bad_Name" is invalid');
    // Name, label and container errors are reported together once the structure decodes.
    const r2 = await api(s.url, 'POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'Bad_Name', labels: { 'bad key!': 'v' } },
      spec: { containers: [{ name: 'c', ports: [{ containerPort: 70000 }] }] },
    });
    expect(r2.status).toBe(422);
    const f2 = r2.body.details.causes.map((c: any) => c.field);
    expect(f2).toEqual(expect.arrayContaining(['metadata.name', 'metadata.labels', 'spec.containers[0].image', 'spec.containers[0].ports[0].containerPort']));
    expect(r2.body.details.causes.find((c: any) => c.field === 'spec.containers[0].image').reason).toBe('FieldValueRequired');
    expect(r2.body.details.causes.find((c: any) => c.field === 'metadata.name').message).toContain('a lowercase RFC 1123 subdomain');
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/pods/Bad_Name')).status).toBe(404);
  });

  test('a missing name is 422 naming metadata.name', async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: {} });
    expect(r.status).toBe(422);
    expect(r.body.details.causes).toContainEqual(expect.objectContaining({ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' }));
  });

  test('a body over 3 MiB is 413 and nothing is stored', async () => {
    const big = JSON.stringify({ metadata: { name: 'huge' }, data: { blob: 'x'.repeat(3 * 1024 * 1024 + 10) } });
    const r = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', big);
    expect(r.status).toBe(413);
    expect(r.body.reason).toBe('RequestEntityTooLarge');
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/huge')).status).toBe(404);
  });

  test('an object over etcd’s value limit is refused without a partial write', async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'toolarge' }, data: { blob: 'x'.repeat(2 * 1024 * 1024) } });
    expect(r.status).toBe(413);
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/toolarge')).status).toBe(404);
  });

  test('unknown resources and groups are 404 with a Status', async () => {
    for (const p of ['/api/v1/namespaces/default/widgets', '/apis/example.com/v1/things', '/apis/apps/v2/deployments', '/api/v1/namespaces/default/pods/x/bogus']) {
      const r = await api(s.url, 'GET', p);
      expect(r.status, p).toBe(404);
      expect(r.body.kind).toBe('Status');
      expect(r.body.reason).toBe('NotFound');
    }
    const missing = await api(s.url, 'GET', '/api/v1/namespaces/default/pods/nope');
    expect(missing.body).toMatchObject({ reason: 'NotFound', message: 'pods "nope" not found', details: { name: 'nope', kind: 'pods' }, code: 404 });
    const dep = await api(s.url, 'GET', '/apis/apps/v1/namespaces/default/deployments/nope');
    expect(dep.body.message).toBe('deployments.apps "nope" not found');
  });

  test('verbs a resource does not have are 405', async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps/named', { metadata: { name: 'named' } });
    expect(r.status).toBe(405);
    expect(r.body.reason).toBe('MethodNotAllowed');
    const cs = await api(s.url, 'POST', '/api/v1/componentstatuses', { metadata: { name: 'x' } });
    expect(cs.status).toBe(405);
  });

  test('a namespace in the body that differs from the URL is refused', async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'ns-mismatch', namespace: 'kube-system' } });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('does not match the namespace');
  });

  test('bad patches are refused and leave the object unchanged', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'patchme' }, data: { a: '1' } });
    const cases: [string, string, number][] = [
      ['application/json-patch+json', '{"op":"add"}', 400],
      ['application/json-patch+json', JSON.stringify([{ op: 'remove', path: '/data/missing' }]), 422],
      ['application/json-patch+json', JSON.stringify([{ op: 'test', path: '/data/a', value: '2' }, { op: 'replace', path: '/data/a', value: '3' }]), 422],
      ['application/merge-patch+json', '[1]', 400],
      ['application/merge-patch+json', JSON.stringify({ metadata: { name: 'renamed' } }), 400],
      ['application/merge-patch+json', JSON.stringify({ data: { 'bad key!': 'x' } }), 422],
      ['application/json', '{}', 415],
    ];
    for (const [type, body, code] of cases) {
      const r = await api(s.url, 'PATCH', '/api/v1/namespaces/default/configmaps/patchme', body, { 'content-type': type });
      expect(r.status, `${type} ${body}`).toBe(code);
    }
    const g = await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/patchme');
    expect(g.body.data).toEqual({ a: '1' });
    const ok = await api(s.url, 'PATCH', '/api/v1/namespaces/default/configmaps/patchme', JSON.stringify([{ op: 'test', path: '/data/a', value: '1' }, { op: 'add', path: '/data/b', value: '2' }]), {
      'content-type': 'application/json-patch+json',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toEqual({ a: '1', b: '2' });
  });
});

describe('strategic merge patch', () => {
  test('containers merge by name, env by name, and $patch: delete removes an item', async () => {
    await api(s.url, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'smp' },
      spec: {
        selector: { matchLabels: { app: 'smp' } },
        template: {
          metadata: { labels: { app: 'smp' } },
          spec: { containers: [{ name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }] }, { name: 'b', image: 'b:1' }] },
        },
      },
    });
    const patch = { spec: { template: { spec: { containers: [{ name: 'a', image: 'a:2', env: [{ name: 'Y', value: '2' }] }, { name: 'b', $patch: 'delete' }, { name: 'c', image: 'c:1' }] } } } };
    const r = await api(s.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/smp', patch, { 'content-type': 'application/strategic-merge-patch+json' });
    expect(r.status).toBe(200);
    const cs = r.body.spec.template.spec.containers;
    expect(cs.map((c: any) => `${c.name}=${c.image}`)).toEqual(['a=a:2', 'c=c:1']);
    expect(cs[0].env).toEqual([{ name: 'X', value: '1' }, { name: 'Y', value: '2' }]);
  });
});

describe('API discovery and operations', () => {
  test('discovery lists every group and resource with short names and subresources', async () => {
    const core = await api(s.url, 'GET', '/api');
    expect(core.body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const v1 = await api(s.url, 'GET', '/api/v1');
    const pods = v1.body.resources.find((r: any) => r.name === 'pods');
    expect(pods).toMatchObject({ namespaced: true, kind: 'Pod', shortNames: ['po'], categories: ['all'] });
    expect(pods.verbs).toEqual(expect.arrayContaining(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']));
    const names = v1.body.resources.map((r: any) => r.name);
    expect(names).toEqual(expect.arrayContaining(['pods/status', 'pods/binding', 'pods/eviction', 'namespaces/finalize', 'replicationcontrollers/scale']));
    const groups = await api(s.url, 'GET', '/apis');
    expect(groups.body.groups.map((g: any) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'coordination.k8s.io', 'discovery.k8s.io', 'policy']));
    const apps = await api(s.url, 'GET', '/apis/apps/v1');
    expect(apps.body.resources.find((r: any) => r.name === 'deployments/scale')).toMatchObject({ kind: 'Scale', group: 'autoscaling', version: 'v1' });
    const agg = await api(s.url, 'GET', '/apis', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
    expect(agg.headers.get('content-type')).toContain('as=APIGroupDiscoveryList');
    expect(agg.body.items.find((g: any) => g.metadata.name === 'apps').versions[0].resources.find((r: any) => r.resource === 'deployments')).toMatchObject({ scope: 'Namespaced', singularResource: 'deployment' });
    const version = await api(s.url, 'GET', '/version');
    expect(version.body).toMatchObject({ major: '1', minor: '32' });
  });

  test('health endpoints and metrics', async () => {
    for (const p of ['/healthz', '/livez', '/readyz']) {
      const r = await fetch(s.url + p);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe('ok');
    }
    const verbose = await (await fetch(`${s.url}/readyz?verbose`)).text();
    expect(verbose).toContain('[+]etcd ok');
    const m = await (await fetch(`${s.url}/metrics`)).text();
    expect(m).toMatch(/apiserver_request_total\{code="201",group="",resource="configmaps",subresource="",verb="POST"\} \d+/);
    expect(m).toMatch(/apiserver_request_duration_seconds_bucket\{resource="configmaps",verb="POST",le="0.1"\} \d+/);
    expect(m).toMatch(/etcd_request_duration_seconds_count\{operation="create"\} \d+/);
  });
});
