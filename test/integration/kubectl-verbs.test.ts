/**
 * The real kubectl, verb by verb, against tkube-apiserver (issue 3). Commands that need a
 * running node (logs, exec, attach, port-forward, drain, top) are covered with the kubelet.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYAML } from 'yaml';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';

let s: TestAPIServer;
let dir: string;
beforeAll(async () => {
  s = await startAPIServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-verbs-'));
});
afterAll(async () => {
  await s?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.each(kubectls().map((k) => [k.version, k] as [string, Kubectl]))('kubectl %s', (version, k) => {
  const ns = `v${version.replace('.', '')}`;
  const kc = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) => runKubectl(k, s.kubeconfig, args, opts);
  const get = async (p: string) => (await api(s.url, 'GET', p)).body;

  test('create namespace|deployment|configmap|secret|service, run and expose', async () => {
    expect((await kc(['create', 'namespace', ns])).stdout).toContain(`namespace/${ns} created`);
    expect((await kc(['-n', ns, 'create', 'deployment', 'web', '--image=busybox:1.36', '--replicas=3', '--port=8080'])).stdout).toContain('deployment.apps/web created');
    expect((await kc(['-n', ns, 'create', 'configmap', 'cfg', '--from-literal=color=blue', '--from-literal=size=L'])).stdout).toContain('configmap/cfg created');
    expect((await kc(['-n', ns, 'create', 'secret', 'generic', 'sec', '--from-literal=password=s3cret'])).stdout).toContain('secret/sec created');
    expect((await kc(['-n', ns, 'create', 'service', 'clusterip', 'backend', '--tcp=5678:8080'])).stdout).toContain('service/backend created');
    expect((await kc(['-n', ns, 'run', 'solo', '--image=busybox:1.36', '--labels=app=solo', '--', 'sleep', '3600'])).stdout).toContain('pod/solo created');
    expect((await kc(['-n', ns, 'expose', 'deployment', 'web', '--port=80', '--target-port=8080', '--name=web'])).stdout).toContain('service/web exposed');
    const dep = await get(`/apis/apps/v1/namespaces/${ns}/deployments/web`);
    expect(dep.spec.replicas).toBe(3);
    expect(dep.spec.template.spec.containers[0]).toMatchObject({ image: 'busybox:1.36', ports: [{ containerPort: 8080, protocol: 'TCP' }] });
    expect((await get(`/api/v1/namespaces/${ns}/configmaps/cfg`)).data).toEqual({ color: 'blue', size: 'L' });
    expect(Buffer.from((await get(`/api/v1/namespaces/${ns}/secrets/sec`)).data.password, 'base64').toString()).toBe('s3cret');
    const svc = await get(`/api/v1/namespaces/${ns}/services/web`);
    expect(svc.spec.selector).toEqual({ app: 'web' });
    expect(svc.spec.clusterIP).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect((await get(`/api/v1/namespaces/${ns}/pods/solo`)).spec.containers[0].args).toEqual(['sleep', '3600']);
  });

  test('apply -f with files, directories and -k, then unchanged and configured', async () => {
    const d = path.join(dir, ns);
    fs.mkdirSync(path.join(d, 'app'), { recursive: true });
    fs.writeFileSync(path.join(d, 'app', 'cm.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: ${ns}\ndata:\n  a: "1"\n`);
    fs.writeFileSync(path.join(d, 'app', 'svc.yaml'), `apiVersion: v1\nkind: Service\nmetadata:\n  name: applied\n  namespace: ${ns}\nspec:\n  selector: {app: applied}\n  ports: [{port: 80}]\n`);
    const first = await kc(['apply', '-f', path.join(d, 'app')]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain('configmap/applied created');
    expect(first.stdout).toContain('service/applied created');
    const again = await kc(['apply', '-f', path.join(d, 'app')]);
    expect(again.stdout).toContain('configmap/applied unchanged');
    expect(again.stdout).toContain('service/applied unchanged');
    fs.writeFileSync(path.join(d, 'app', 'cm.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: ${ns}\ndata:\n  b: "2"\n`);
    const changed = await kc(['apply', '-f', path.join(d, 'app', 'cm.yaml')]);
    expect(changed.stdout).toContain('configmap/applied configured');
    // Three-way merge: the field dropped from the file is removed, one added by someone else stays.
    expect((await get(`/api/v1/namespaces/${ns}/configmaps/applied`)).data).toEqual({ b: '2' });

    fs.mkdirSync(path.join(d, 'kust'), { recursive: true });
    fs.writeFileSync(path.join(d, 'kust', 'kustomization.yaml'), `namespace: ${ns}\nnamePrefix: k-\nlabels:\n- pairs: {team: blue}\n  includeSelectors: true\nresources: [cm.yaml]\nconfigMapGenerator:\n- name: gen\n  literals: [x=y]\n`);
    fs.writeFileSync(path.join(d, 'kust', 'cm.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base}\ndata: {k: v}\n`);
    const kust = await kc(['apply', '-k', path.join(d, 'kust')]);
    expect(kust.stderr).toBe('');
    expect(kust.stdout).toContain('configmap/k-base created');
    expect(kust.stdout).toMatch(/configmap\/k-gen-[a-z0-9]+ created/);
    expect((await get(`/api/v1/namespaces/${ns}/configmaps/k-base`)).metadata.labels).toEqual({ team: 'blue' });
  });

  test('patch (strategic, merge, json), label, annotate, scale, set image, edit', async () => {
    expect((await kc(['-n', ns, 'patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"busybox","env":[{"name":"MODE","value":"fast"}]}]}}}}'])).stdout).toContain('deployment.apps/web patched');
    expect((await kc(['-n', ns, 'patch', 'deployment', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"tier":"front"}}}'])).stdout).toContain('patched');
    expect((await kc(['-n', ns, 'patch', 'deployment', 'web', '--type=json', '-p', '[{"op":"add","path":"/spec/minReadySeconds","value":2}]'])).stdout).toContain('patched');
    let dep = await get(`/apis/apps/v1/namespaces/${ns}/deployments/web`);
    expect(dep.spec.template.spec.containers[0].env).toEqual([{ name: 'MODE', value: 'fast' }]);
    expect(dep.spec.template.spec.containers[0].image).toBe('busybox:1.36');
    expect(dep.metadata.labels.tier).toBe('front');
    expect(dep.spec.minReadySeconds).toBe(2);

    expect((await kc(['-n', ns, 'label', 'deploy', 'web', 'stage=beta'])).stdout).toContain('labeled');
    expect((await kc(['-n', ns, 'label', 'deploy', 'web', 'stage=ga', '--overwrite'])).stdout).toContain('labeled');
    expect((await kc(['-n', ns, 'annotate', 'deploy', 'web', 'owner=ops'])).stdout).toContain('annotated');
    expect((await kc(['-n', ns, 'scale', 'deploy', 'web', '--replicas=5'])).stdout).toContain('deployment.apps/web scaled');
    expect((await kc(['-n', ns, 'scale', 'deploy', 'web', '--current-replicas=4', '--replicas=6'])).code).not.toBe(0);
    expect((await kc(['-n', ns, 'set', 'image', 'deployment/web', 'busybox=busybox:1.37'])).stdout).toContain('image updated');
    dep = await get(`/apis/apps/v1/namespaces/${ns}/deployments/web`);
    expect(dep.metadata.labels.stage).toBe('ga');
    expect(dep.metadata.annotations.owner).toBe('ops');
    expect(dep.spec.replicas).toBe(5);
    expect(dep.spec.template.spec.containers[0].image).toBe('busybox:1.37');

    const editor = path.join(dir, `${ns}-editor.sh`);
    fs.writeFileSync(editor, '#!/bin/sh\nsed -i "s/replicas: 5/replicas: 2/" "$1"\n', { mode: 0o755 });
    const edit = await kc(['-n', ns, 'edit', 'deployment', 'web'], { env: { EDITOR: editor } });
    expect(edit.stdout).toContain('deployment.apps/web edited');
    expect((await get(`/apis/apps/v1/namespaces/${ns}/deployments/web`)).spec.replicas).toBe(2);
    // An edit that breaks validation is refused and nothing changes.
    const bad = path.join(dir, `${ns}-bad-editor.sh`);
    fs.writeFileSync(bad, '#!/bin/sh\nsed -i "s/replicas: 2/replicas: -3/" "$1"\n', { mode: 0o755 });
    const badEdit = await kc(['-n', ns, 'edit', 'deployment', 'web'], { env: { EDITOR: bad } });
    expect(badEdit.code).not.toBe(0);
    expect(badEdit.stderr).toContain('deployments.apps "web" is invalid');
    expect(badEdit.stderr).toContain('Edit cancelled, no valid changes were saved.');
    expect((await get(`/apis/apps/v1/namespaces/${ns}/deployments/web`)).spec.replicas).toBe(2);
  });

  test('rollout pause, resume and restart write what the controllers read', async () => {
    expect((await kc(['-n', ns, 'rollout', 'pause', 'deployment/web'])).stdout).toContain('paused');
    expect((await get(`/apis/apps/v1/namespaces/${ns}/deployments/web`)).spec.paused).toBe(true);
    expect((await kc(['-n', ns, 'rollout', 'resume', 'deployment/web'])).stdout).toContain('resumed');
    expect((await kc(['-n', ns, 'rollout', 'restart', 'deployment/web'])).stdout).toContain('restarted');
    const dep = await get(`/apis/apps/v1/namespaces/${ns}/deployments/web`);
    expect(dep.spec.paused).toBeUndefined();
    expect(dep.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBeTruthy();
  });

  test('cordon, uncordon and taint a node', async () => {
    const node = `node-${ns}`;
    await api(s.url, 'POST', '/api/v1/nodes', { metadata: { name: node, labels: { 'kubernetes.io/hostname': node } } });
    expect((await kc(['cordon', node])).stdout).toContain(`node/${node} cordoned`);
    expect((await get(`/api/v1/nodes/${node}`)).spec.unschedulable).toBe(true);
    expect((await kc(['get', 'node', node])).stdout).toMatch(/SchedulingDisabled/);
    expect((await kc(['uncordon', node])).stdout).toContain(`node/${node} uncordoned`);
    expect((await get(`/api/v1/nodes/${node}`)).spec.unschedulable).toBeUndefined();
    expect((await kc(['taint', 'nodes', node, 'dedicated=gpu:NoSchedule'])).stdout).toContain(`node/${node} tainted`);
    // (A new node also carries node.kubernetes.io/not-ready until a kubelet reports Ready: TaintNodesByCondition.)
    expect((await get(`/api/v1/nodes/${node}`)).spec.taints).toContainEqual(expect.objectContaining({ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }));
    expect((await kc(['taint', 'nodes', node, 'dedicated:NoSchedule-'])).stdout).toContain('untainted');
    expect((await get(`/api/v1/nodes/${node}`)).spec.taints ?? []).not.toContainEqual(expect.objectContaining({ key: 'dedicated' }));
  });

  test('empty lists and maps are not stored, as upstream: get shows none, diff after a server-side apply shows only the change', async () => {
    const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: empties\n  namespace: ${ns}\n  labels: {}\n  annotations: {}\n  finalizers: []\ndata: {}\nbinaryData: {}\n`;
    expect((await kc(['create', '-f', '-'], { input: cm })).stdout).toContain('configmap/empties created');
    const created = JSON.parse((await kc(['-n', ns, 'get', 'configmap', 'empties', '-o', 'json'])).stdout);
    expect(Object.keys(created).sort()).toEqual(['apiVersion', 'kind', 'metadata']);
    expect(created.metadata).not.toHaveProperty('labels');
    expect(created.metadata).not.toHaveProperty('annotations');
    expect(created.metadata).not.toHaveProperty('finalizers');
    // The last finalizer removed leaves no list behind: jsonpath prints nothing.
    await kc(['-n', ns, 'patch', 'configmap', 'empties', '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/hold"]}}']);
    await kc(['-n', ns, 'patch', 'configmap', 'empties', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers/0"}]']);
    expect((await kc(['-n', ns, 'get', 'configmap', 'empties', '-o', 'jsonpath={.metadata.finalizers}'])).stdout).toBe('');
    // kubectl diff patches with annotations: {} (no last-applied yet): the merged object carries no empty map.
    const ssa = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa-diff\n  namespace: ${ns}\ndata:\n  a: "${v}"\n`;
    expect((await kc(['apply', '--server-side', '-f', '-'], { input: ssa('1') })).stdout).toContain('serverside-applied');
    const d = await kc(['diff', '-f', '-'], { input: ssa('2') });
    const changed = d.stdout.split('\n').filter((l) => /^[-+] /.test(l));
    expect(changed).toEqual(['-  a: "1"', '+  a: "2"']);
  });

  test('wait, explain, api-resources, api-versions, version, cluster-info, config view', async () => {
    await api(s.url, 'PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/web/status`, { status: { conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }] } }, { 'content-type': 'application/merge-patch+json' });
    const w = await kc(['-n', ns, 'wait', '--for=condition=Available', 'deployment/web', '--timeout=10s']);
    expect(w.stdout).toContain('deployment.apps/web condition met');
    const ex = await kc(['explain', 'service.spec.sessionAffinity']);
    expect(ex.stdout).toContain('FIELD: sessionAffinity <string>');
    const res = await kc(['api-resources']);
    expect(res.stdout).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    expect(res.stdout).toMatch(/namespaces\s+ns\s+v1\s+false\s+Namespace/);
    const gv = await kc(['api-versions']);
    expect(gv.stdout.split('\n')).toEqual(expect.arrayContaining(['apps/v1', 'batch/v1', 'v1', 'coordination.k8s.io/v1']));
    const v = await kc(['version', '-o', 'json']);
    expect(JSON.parse(v.stdout).serverVersion).toMatchObject({ major: '1', minor: '32' });
    const ci = await kc(['cluster-info']);
    // cluster-info colours its output; the text is what matters.
    expect(ci.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toContain(`Kubernetes control plane is running at ${s.url}`);
    const cv = parseYAML((await kc(['config', 'view'])).stdout);
    expect(cv.clusters[0].cluster.server).toBe(s.url);
  });

  test('delete with cascade policies, grace periods and --wait', async () => {
    const r = await kc(['-n', ns, 'delete', 'pod', 'solo', '--grace-period=0', '--force']);
    expect(r.stdout).toContain('pod "solo" force deleted');
    expect((await api(s.url, 'GET', `/api/v1/namespaces/${ns}/pods/solo`)).status).toBe(404);
    const orphan = await kc(['-n', ns, 'delete', 'configmap', 'cfg', '--cascade=orphan']);
    expect(orphan.stdout).toContain('configmap "cfg" deleted');
    const bg = await kc(['-n', ns, 'delete', 'service', 'backend', '--cascade=background', '--wait=true']);
    expect(bg.stdout).toContain('service "backend" deleted');
    expect((await api(s.url, 'GET', `/api/v1/namespaces/${ns}/services/backend`)).status).toBe(404);
    const sel = await kc(['-n', ns, 'delete', 'configmaps', '-l', 'team=blue']);
    expect(sel.stdout).toContain('configmap "k-base" deleted');
  });
});
