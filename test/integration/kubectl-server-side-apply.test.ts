/**
 * Server-side apply with the real kubectl (v1.31 from npm and the one on PATH):
 * `apply --server-side` (create, prune, conflicts, --force-conflicts, --field-manager),
 * `scale` then apply, migration from client-side apply, `get --show-managed-fields`,
 * custom resources, and `diff` (a server-side dry run).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYAML } from 'yaml';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl, type Kubectl, type RunResult } from '../support/kubectl.js';

let s: TestAPIServer;
beforeAll(async () => {
  s = await startAPIServer();
});
afterAll(async () => s?.stop());

interface Entry {
  manager: string;
  operation: string;
  subresource?: string;
  fieldsV1: Record<string, unknown>;
}

const deployment = (ns: string, name: string, opts: { replicas?: number; image?: string; labels?: Record<string, string> } = {}) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
  labels: ${JSON.stringify(opts.labels ?? { app: name })}
spec:
${opts.replicas !== undefined ? `  replicas: ${opts.replicas}\n` : ''}  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: web
        image: ${opts.image ?? 'nginx:1.25'}
`;

/** A failed expectation shows what kubectl printed. */
function ok(r: RunResult): RunResult {
  if (r.code !== 0) throw new Error(`kubectl exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

describe.each(kubectls().map((k) => [k.version, k] as [string, Kubectl]))('kubectl %s', (version, k) => {
  const ns = `ssa${version.replace('.', '')}`;
  const kc = (args: string[], input?: string) => runKubectl(k, s.kubeconfig, args, { input });
  const get = async (path: string) => (await api(s.url, 'GET', path)).body;
  const deployPath = (name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;
  const entries = (o: { metadata: { managedFields?: Entry[] } }) => o.metadata.managedFields ?? [];

  beforeAll(async () => {
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
  });

  test('apply --server-side creates, and re-applying without a field removes it', async () => {
    const c = ok(await kc(['apply', '--server-side', '-f', '-'], deployment(ns, 'web', { replicas: 2, labels: { app: 'web', tier: 'front' } })));
    expect(c.stdout.trim()).toBe('deployment.apps/web serverside-applied');
    const created = await get(deployPath('web'));
    expect(created.spec.replicas).toBe(2);
    expect(created.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    expect(entries(created).map((e) => [e.manager, e.operation])).toEqual([['kubectl', 'Apply']]);
    expect(created.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();

    const again = ok(await kc(['apply', '--server-side', '-f', '-'], deployment(ns, 'web', { replicas: 2 })));
    expect(again.stdout.trim()).toBe('deployment.apps/web serverside-applied');
    const pruned = await get(deployPath('web'));
    expect(pruned.metadata.labels).toEqual({ app: 'web' });
    expect(pruned.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
  });

  test('another manager changing an owned field gets a conflict naming the field; --force-conflicts takes it over', async () => {
    const conflict = await kc(['apply', '--server-side', '--field-manager=ops', '-f', '-'], deployment(ns, 'web', { replicas: 5 }));
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
    expect(conflict.stderr).toContain('--force-conflicts');
    expect((await get(deployPath('web'))).spec.replicas).toBe(2);

    ok(await kc(['apply', '--server-side', '--field-manager=ops', '--force-conflicts', '-f', '-'], deployment(ns, 'web', { replicas: 5 })));
    const forced = await get(deployPath('web'));
    expect(forced.spec.replicas).toBe(5);
    const ops = entries(forced).find((e) => e.manager === 'ops')!;
    expect(ops.operation).toBe('Apply');
    expect(ops.fieldsV1).toHaveProperty(['f:spec', 'f:replicas']);
    const kubectlEntry = entries(forced).find((e) => e.manager === 'kubectl')!;
    expect(kubectlEntry.fieldsV1).not.toHaveProperty(['f:spec', 'f:replicas']);
  });

  test('kubectl scale takes replicas; applying without replicas keeps the scaled value', async () => {
    ok(await kc(['apply', '--server-side', '-f', '-'], deployment(ns, 'scaled', { replicas: 2 })));
    ok(await kc(['scale', 'deployment', 'scaled', '-n', ns, '--replicas=4']));
    const scaled = await get(deployPath('scaled'));
    expect(scaled.spec.replicas).toBe(4);
    const scaler = entries(scaled).find((e) => e.operation === 'Update' && e.subresource === 'scale')!;
    expect(scaler.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });

    ok(await kc(['apply', '--server-side', '-f', '-'], deployment(ns, 'scaled', { image: 'nginx:1.26' })));
    const after = await get(deployPath('scaled'));
    expect(after.spec.replicas).toBe(4);
    expect(after.spec.template.spec.containers[0].image).toBe('nginx:1.26');
    expect(entries(after).find((e) => e.subresource === 'scale')!.manager).toBe(scaler.manager);
  });

  test('get -o yaml shows managedFields only with --show-managed-fields', async () => {
    const plain = parseYAML(ok(await kc(['get', 'deployment', 'scaled', '-n', ns, '-o', 'yaml'])).stdout);
    expect(plain.metadata.managedFields).toBeUndefined();
    const shown = parseYAML(ok(await kc(['get', 'deployment', 'scaled', '-n', ns, '-o', 'yaml', '--show-managed-fields'])).stdout);
    const applyEntry = shown.metadata.managedFields.find((e: Entry) => e.operation === 'Apply');
    expect(applyEntry).toMatchObject({ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1' });
    expect(applyEntry.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}']).toEqual({ '.': {}, 'f:image': {}, 'f:name': {} });
  });

  test('apply --server-side over a client-side apply takes its fields over; fields changed since still conflict', async () => {
    ok(await kc(['apply', '-f', '-'], deployment(ns, 'migrate', { replicas: 1 })));
    const csa = await get(deployPath('migrate'));
    expect(entries(csa).map((e) => e.manager)).toEqual(['kubectl-client-side-apply']);
    ok(await kc(['scale', 'deployment', 'migrate', '-n', ns, '--replicas=4']));

    // replicas changed since the client-side apply (kubectl scale owns it now); the image did not.
    const conflict = await kc(['apply', '--server-side', '-f', '-'], deployment(ns, 'migrate', { replicas: 3, image: 'nginx:1.26' }));
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/Apply failed with 1 conflict: conflict with "kubectl(-scale)?" with subresource "scale" using apps\/v1: \.spec\.replicas/);

    const r = ok(await kc(['apply', '--server-side', '-f', '-'], deployment(ns, 'migrate', { replicas: 4, image: 'nginx:1.26' })));
    expect(r.stdout.trim()).toBe('deployment.apps/migrate serverside-applied');
    const ssa = await get(deployPath('migrate'));
    expect(ssa.spec.template.spec.containers[0].image).toBe('nginx:1.26');
    expect(entries(ssa).some((e) => e.manager === 'kubectl-client-side-apply')).toBe(false);
    expect(entries(ssa).find((e) => e.manager === 'kubectl' && e.operation === 'Apply')!.fieldsV1).toHaveProperty(['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image']);
    // The annotation follows the applied configuration, so client-side apply still works after.
    const last = JSON.parse(ssa.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    expect(last.spec.template.spec.containers[0].image).toBe('nginx:1.26');
    ok(await kc(['apply', '-f', '-'], deployment(ns, 'migrate', { replicas: 4, image: 'nginx:1.27' })));
    expect((await get(deployPath('migrate'))).spec.template.spec.containers[0].image).toBe('nginx:1.27');
  });

  test('a custom resource is applied server-side with its schema\'s list types', async () => {
    const group = `ssa${version.replace('.', '')}.example.com`;
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `gadgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
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
                      color: { type: 'string' },
                      ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer' } } } },
                    },
                  },
                },
              },
            },
          },
        ],
      },
    };
    ok(await kc(['apply', '--server-side', '-f', '-'], JSON.stringify(crd)));
    ok(await kc(['wait', '--for=condition=established', `crd/gadgets.${group}`, '--timeout=20s']));
    const gadget = (spec: Record<string, unknown>) => JSON.stringify({ apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g', namespace: ns }, spec });
    let r: RunResult = { code: 1, stdout: '', stderr: '' };
    // Discovery of the new kind can take kubectl a moment.
    for (let i = 0; i < 20 && r.code !== 0; i++) {
      r = await kc(['apply', '--server-side', '-f', '-'], gadget({ color: 'red', ports: [{ name: 'http', port: 80 }] }));
      if (r.code !== 0) await new Promise((res) => setTimeout(res, 250));
    }
    ok(r);
    expect(r.stdout.trim()).toBe(`gadget.${group}/g serverside-applied`);
    ok(await kc(['apply', '--server-side', '--field-manager=other', '-f', '-'], gadget({ ports: [{ name: 'metrics', port: 9090 }] })));
    const both = await get(`/apis/${group}/v1/namespaces/${ns}/gadgets/g`);
    expect(both.spec.ports).toEqual([
      { name: 'http', port: 80 },
      { name: 'metrics', port: 9090 },
    ]);
    const conflict = await kc(['apply', '--server-side', '--field-manager=other', '-f', '-'], gadget({ color: 'blue' }));
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('conflict with "kubectl": .spec.color');
  });

  test('diff shows the change a server-side dry run would make, without storing it', async () => {
    const before = await get(deployPath('web'));
    for (const extra of [[], ['--server-side', '--force-conflicts']]) {
      const d = await kc(['diff', ...extra, '-f', '-'], deployment(ns, 'web', { replicas: 5, image: 'nginx:1.27' }));
      expect(d.code, d.stderr).toBe(1);
      expect(d.stdout).toMatch(/^-\s+- image: nginx:1\.25$/m);
      expect(d.stdout).toMatch(/^\+\s+- image: nginx:1\.27$/m);
      expect(d.stdout).not.toContain('managedFields');
    }
    const after = await get(deployPath('web'));
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.spec.template.spec.containers[0].image).toBe('nginx:1.25');
    const same = await kc(['diff', '--server-side', '-f', '-'], deployment(ns, 'web', { replicas: 5 }));
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toBe('');
  });
});
