/**
 * --use-service-account-credentials with the real tkube-controller-manager (its own client
 * certificate) against a TLS API server with RBAC: each controller acts as its own service
 * account in kube-system, with the rights of its system:controller:<name> ClusterRole and no
 * more. Checked with the real kubectl and through what a user sees when a role is missing.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/apiserver.js';
import { startControllerManager, type RunningControllerManager } from '../support/controller-manager.js';
import { newestKubectl, runKubectl } from '../support/kubectl.js';
import { eventually, startSecureAPIServer, type SecureTestServer } from '../support/secure.js';

const ns = 'sa-creds';
let s: SecureTestServer;
let cm: RunningControllerManager | undefined;

beforeAll(async () => {
  s = await startSecureAPIServer();
  cm = startControllerManager(s.kubeconfigs['kube-controller-manager'], ['--controllers=deployment,replicaset', '--use-service-account-credentials=true']);
  expect((await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await cm?.stop();
  await s?.stop();
});

const kubectl = (...args: string[]) => {
  const k = newestKubectl();
  if (!k) throw new Error('no kubectl on this machine');
  return runKubectl(k, s.kubeconfigs.admin, args);
};

async function podsOf(app: string): Promise<number> {
  const r = await api(s.url, 'GET', `/api/v1/namespaces/${ns}/pods?labelSelector=app%3D${app}`);
  return (r.body.items as unknown[]).length;
}

async function until(what: string, fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
  try {
    await eventually(fn, ms);
  } catch {
    throw new Error(`${what} did not happen\ncontroller manager log:\n${cm?.log()}`);
  }
}

describe('--use-service-account-credentials', () => {
  test('every controller gets its service account and acts as it: a Deployment still becomes a ReplicaSet and pods', async () => {
    await until('the controllers\' service accounts', async () => {
      const r = await kubectl('get', 'serviceaccounts', '-n', 'kube-system', '-o', 'name');
      return r.stdout.includes('serviceaccount/deployment-controller') && r.stdout.includes('serviceaccount/replicaset-controller');
    });
    const created = await kubectl('create', 'deployment', 'web', '-n', ns, '--image=tkube/busybox:1.36', '--replicas=2');
    expect(created.stderr).toBe('');
    await until('two pods of web', async () => (await podsOf('web')) === 2);
    // The deployment controller writes the revision and the status with the rights it has
    // (update of deployments/status; no patch of deployments).
    await until('the status and revision of web', async () => {
      const d = (await api(s.url, 'GET', `/apis/apps/v1/namespaces/${ns}/deployments/web`)).body;
      return d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1' && d.status?.observedGeneration === 1 && d.status?.replicas === 2;
    });
    // The roles the controllers act with, as upstream's bootstrap policy has them.
    const can = async (verb: string, resource: string, account: string) =>
      (await kubectl('auth', 'can-i', verb, resource, '-n', ns, `--as=system:serviceaccount:kube-system:${account}`)).stdout.trim();
    expect(await can('create', 'replicasets.apps', 'deployment-controller')).toBe('yes');
    expect(await can('create', 'pods', 'deployment-controller')).toBe('no');
    expect(await can('create', 'pods', 'replicaset-controller')).toBe('yes');
    expect(await can('create', 'replicasets.apps', 'replicaset-controller')).toBe('no');
  }, 90_000);

  test('a controller whose ClusterRoleBinding is gone is refused as its own account, and works again once it is back', async () => {
    const binding = (await api(s.url, 'GET', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/system:controller:replicaset-controller')).body;
    expect(binding.subjects).toEqual([expect.objectContaining({ kind: 'ServiceAccount', name: 'replicaset-controller', namespace: 'kube-system' })]);
    expect((await kubectl('delete', 'clusterrolebinding', 'system:controller:replicaset-controller')).stderr).toBe('');
    try {
      expect((await kubectl('create', 'deployment', 'locked', '-n', ns, '--image=tkube/busybox:1.36', '--replicas=1')).stderr).toBe('');
      // The deployment controller still has its rights: the ReplicaSet is made; its pods are not.
      await until('a FailedCreate event naming the replicaset controller\'s account', async () => {
        const r = await kubectl('get', 'events', '-n', ns, '--field-selector=reason=FailedCreate', '-o', 'jsonpath={.items[*].message}');
        return r.stdout.includes('User "system:serviceaccount:kube-system:replicaset-controller" cannot create resource "pods"');
      });
      expect((await kubectl('get', 'replicasets', '-n', ns, '-l', 'app=locked', '-o', 'name')).stdout).toMatch(/^replicaset.apps\/locked-/);
      expect(await podsOf('locked')).toBe(0);
    } finally {
      const { metadata, ...rest } = binding;
      await api(s.url, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { ...rest, metadata: { name: metadata.name, labels: metadata.labels, annotations: metadata.annotations } });
    }
    await until('the pod of locked, once the binding is back', async () => (await podsOf('locked')) === 1, 60_000);
  }, 120_000);
});
