/**
 * pods/ephemeralcontainers: GET, PUT and PATCH (JSON, merge, strategic merge) of the whole pod,
 * of which only spec.ephemeralContainers changes; upstream's validation messages; regular pod
 * updates may not touch ephemeral containers; and the real `kubectl debug` adding one.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';

let s: TestAPIServer;
beforeAll(async () => {
  s = await startAPIServer();
});
afterAll(async () => s?.stop());

const base = '/api/v1/namespaces/default/pods';
const merge = { 'content-type': 'application/merge-patch+json' };
const strategic = { 'content-type': 'application/strategic-merge-patch+json' };
const jsonPatch = { 'content-type': 'application/json-patch+json' };

let n = 0;
/** A pod with an app container and an init container, bound to a node (as a running pod is). */
async function newPod(extra: Record<string, unknown> = {}): Promise<string> {
  const name = `ec-${++n}`;
  const r = await api(s.url, 'POST', base, {
    metadata: { name, labels: { app: 'ec' }, ...extra },
    spec: { nodeName: 'node-a', initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'app', image: 'busybox' }] },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return name;
}

const debugger_ = (name = 'debugger', more: Record<string, unknown> = {}) => ({ name, image: 'busybox', command: ['sh'], stdin: true, tty: true, targetContainerName: 'app', ...more });
const causes = (r: { body: { details?: { causes?: Array<{ field: string; message: string; reason: string }> } } }) => r.body.details?.causes ?? [];

describe('pods/ephemeralcontainers', () => {
  test('a strategic merge patch adds an ephemeral container, defaulted, and changes nothing else', async () => {
    const name = await newPod();
    const before = (await api(s.url, 'GET', `${base}/${name}`)).body;
    const r = await api(
      s.url,
      'PATCH',
      `${base}/${name}/ephemeralcontainers`,
      { metadata: { labels: { sneaky: 'yes' } }, spec: { ephemeralContainers: [debugger_()], activeDeadlineSeconds: 5, containers: [{ name: 'app', image: 'other' }] } },
      strategic,
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.kind).toBe('Pod');
    expect(r.body.spec.ephemeralContainers).toEqual([
      { ...debugger_(), imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {} },
    ]);
    // The rest of the body is ignored: the live pod's labels, containers and deadline stay.
    expect(r.body.metadata.labels).toEqual({ app: 'ec' });
    expect(r.body.spec.containers[0].image).toBe('busybox');
    expect(r.body.spec.activeDeadlineSeconds).toBeUndefined();
    expect(r.body.metadata.generation).toBe(before.metadata.generation);
    // Recorded under the subresource in managedFields.
    expect(r.body.metadata.managedFields.some((f: { subresource?: string }) => f.subresource === 'ephemeralcontainers')).toBe(true);
    const got = (await api(s.url, 'GET', `${base}/${name}`)).body;
    expect(got.spec.ephemeralContainers.map((c: { name: string }) => c.name)).toEqual(['debugger']);
  });

  test('PUT of the whole pod, a merge patch and a JSON patch add more; a stale resourceVersion conflicts', async () => {
    const name = await newPod();
    const cur = (await api(s.url, 'GET', `${base}/${name}/ephemeralcontainers`)).body;
    const put = await api(s.url, 'PUT', `${base}/${name}/ephemeralcontainers`, { ...cur, spec: { ...cur.spec, ephemeralContainers: [debugger_('one')] } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const stale = await api(s.url, 'PUT', `${base}/${name}/ephemeralcontainers`, { ...cur, spec: { ...cur.spec, ephemeralContainers: [debugger_('one'), debugger_('x')] } });
    expect(stale.status).toBe(409);
    const m = await api(s.url, 'PATCH', `${base}/${name}/ephemeralcontainers`, { spec: { ephemeralContainers: [...put.body.spec.ephemeralContainers, debugger_('two')] } }, merge);
    expect(m.status, JSON.stringify(m.body)).toBe(200);
    const j = await api(s.url, 'PATCH', `${base}/${name}/ephemeralcontainers`, [{ op: 'add', path: '/spec/ephemeralContainers/-', value: { name: 'three', image: 'busybox' } }], jsonPatch);
    expect(j.status, JSON.stringify(j.body)).toBe(200);
    expect(j.body.spec.ephemeralContainers.map((c: { name: string }) => c.name)).toEqual(['one', 'two', 'three']);
  });

  test('validation: names unique across every container, a target that exists, an image, no forbidden fields', async () => {
    const name = await newPod();
    const r = await api(
      s.url,
      'PATCH',
      `${base}/${name}/ephemeralcontainers`,
      {
        spec: {
          ephemeralContainers: [
            { name: 'app', image: 'busybox' },
            { name: 'init', image: 'busybox' },
            { name: 'lost', image: 'busybox', targetContainerName: 'nope' },
            { name: 'noimage' },
            {
              name: 'loaded',
              image: 'busybox',
              ports: [{ containerPort: 80 }],
              resources: { limits: { cpu: '1' } },
              restartPolicy: 'Always',
              livenessProbe: { exec: { command: ['true'] } },
              readinessProbe: { exec: { command: ['true'] } },
              startupProbe: { exec: { command: ['true'] } },
              lifecycle: { preStop: { exec: { command: ['true'] } } },
            },
          ],
        },
      },
      strategic,
    );
    expect(r.status).toBe(422);
    expect(r.body.message).toMatch(/^Pod "ec-\d+" is invalid: \[/);
    const got = causes(r).map((c) => `${c.field}: ${c.reason}: ${c.message}`);
    const forbidden = (f: string) => `spec.ephemeralContainers[4].${f}: FieldValueForbidden: Forbidden: cannot be set for an Ephemeral Container`;
    expect(got).toEqual([
      'spec.ephemeralContainers[0].name: FieldValueDuplicate: Duplicate value: "app"',
      'spec.ephemeralContainers[1].name: FieldValueDuplicate: Duplicate value: "init"',
      'spec.ephemeralContainers[2].targetContainerName: FieldValueNotFound: Not found: "nope"',
      'spec.ephemeralContainers[3].image: FieldValueRequired: Required value',
      ...['ports', 'resources', 'restartPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'].map(forbidden),
    ]);
    // Nothing was stored.
    expect((await api(s.url, 'GET', `${base}/${name}`)).body.spec.ephemeralContainers).toBeUndefined();
  });

  test('existing ephemeral containers may not be changed or removed', async () => {
    const name = await newPod();
    const add = await api(s.url, 'PATCH', `${base}/${name}/ephemeralcontainers`, { spec: { ephemeralContainers: [debugger_('one'), debugger_('two')] } }, strategic);
    expect(add.status).toBe(200);
    const changed = await api(s.url, 'PATCH', `${base}/${name}/ephemeralcontainers`, { spec: { ephemeralContainers: [{ name: 'one', image: 'alpine' }] } }, strategic);
    expect(changed.status).toBe(422);
    expect(causes(changed)[0]).toMatchObject({ reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers' });
    expect(causes(changed)[0]!.message).toMatch(/^Forbidden: existing ephemeral containers "one" may not be changed\n/);
    expect(causes(changed)[0]!.message).toContain('+ image: "alpine"');
    const removed = await api(s.url, 'PATCH', `${base}/${name}/ephemeralcontainers`, { spec: { ephemeralContainers: [add.body.spec.ephemeralContainers[0]] } }, merge);
    expect(removed.status).toBe(422);
    expect(causes(removed).map((c) => c.message)).toEqual(['Forbidden: existing ephemeral containers "two" may not be removed\n']);
  });

  test('regular pod updates may neither add nor change ephemeral containers; pods may not be created with them', async () => {
    const name = await newPod();
    const viaPod = await api(s.url, 'PATCH', `${base}/${name}`, { spec: { ephemeralContainers: [debugger_()] } }, strategic);
    expect(viaPod.status).toBe(422);
    expect(causes(viaPod)[0]).toMatchObject({ field: 'spec', reason: 'FieldValueForbidden' });
    expect(causes(viaPod)[0]!.message).toContain('pod updates may not change fields other than');
    await api(s.url, 'PATCH', `${base}/${name}/ephemeralcontainers`, { spec: { ephemeralContainers: [debugger_()] } }, strategic);
    const rm = await api(s.url, 'PATCH', `${base}/${name}`, [{ op: 'remove', path: '/spec/ephemeralContainers' }], jsonPatch);
    expect(rm.status).toBe(422);
    // A regular update that leaves them alone still works.
    const label = await api(s.url, 'PATCH', `${base}/${name}`, { metadata: { labels: { more: 'yes' } } }, merge);
    expect(label.status).toBe(200);
    expect(label.body.spec.ephemeralContainers).toHaveLength(1);

    const created = await api(s.url, 'POST', base, { metadata: { name: 'born-with' }, spec: { containers: [{ name: 'app', image: 'busybox' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox' }] } });
    expect(created.status).toBe(422);
    expect(causes(created)).toEqual([{ reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: 'Forbidden: cannot be set on create' }]);
  });

  test('static (mirror) pods take none', async () => {
    const name = await newPod({ annotations: { 'kubernetes.io/config.mirror': 'abc' } });
    const r = await api(s.url, 'PATCH', `${base}/${name}/ephemeralcontainers`, { spec: { ephemeralContainers: [debugger_()] } }, strategic);
    expect(r.status).toBe(422);
    expect(causes(r)).toEqual([{ reason: 'FieldValueForbidden', field: '', message: 'Forbidden: static pods do not support ephemeral containers' }]);
  });

  test('GET answers with the whole pod; other kinds have no ephemeralcontainers; DELETE and POST are not allowed', async () => {
    const name = await newPod();
    const r = await api(s.url, 'GET', `${base}/${name}/ephemeralcontainers`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { name }, spec: { containers: [{ name: 'app' }] } });
    expect((await api(s.url, 'GET', `/api/v1/namespaces/default/services/x/ephemeralcontainers`)).status).toBe(404);
    expect((await api(s.url, 'DELETE', `${base}/${name}/ephemeralcontainers`)).status).toBe(405);
    expect((await api(s.url, 'POST', `${base}/${name}/ephemeralcontainers`, { metadata: { name } })).status).toBe(405);
  });
});

describe.each(kubectls().map((k) => [k.version, k] as [string, Kubectl]))('kubectl %s debug', (_v, k) => {
  test('adds an ephemeral container targeting a container, with a strategic merge patch of pods/ephemeralcontainers', async () => {
    const name = await newPod();
    const r = await runKubectl(k, s.kubeconfig, ['debug', `pod/${name}`, '--image=tkube/tkube:0.1.0', '--target=app', '-c', 'dbg', '-v=8', '--', 'sh', '-c', 'ps']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`PATCH https?://[^ ]+/api/v1/namespaces/default/pods/${name}/ephemeralcontainers`));
    expect(r.stderr).toContain('Request Headers:');
    expect(r.stderr).toMatch(/Content-Type: application\/strategic-merge-patch\+json/);
    const p = (await api(s.url, 'GET', `${base}/${name}`)).body;
    expect(p.spec.ephemeralContainers).toEqual([
      expect.objectContaining({ name: 'dbg', image: 'tkube/tkube:0.1.0', command: ['sh', '-c', 'ps'], targetContainerName: 'app', terminationMessagePolicy: 'File' }),
    ]);
    // A second debug container beside it, named by kubectl.
    const again = await runKubectl(k, s.kubeconfig, ['debug', name, '--image=tkube/tkube:0.1.0', '--', 'true']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr + again.stdout).toMatch(/Defaulting debug container name to debugger-\w+/);
    const p2 = (await api(s.url, 'GET', `${base}/${name}`)).body;
    expect(p2.spec.ephemeralContainers.map((c: { name: string }) => c.name)).toEqual(['dbg', expect.stringMatching(/^debugger-\w+$/)]);
  });
});
