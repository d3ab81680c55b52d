/**
 * The real kubectl against the secure port: certificate kubeconfigs from tkube-pki, a token
 * kubeconfig, `kubectl auth can-i` (with --list), `kubectl auth whoami`, and RBAC objects made
 * with `kubectl create role/rolebinding`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/apiserver.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';
import { eventually, startSecureAPIServer, type SecureTestServer } from '../support/secure.js';

let s: SecureTestServer;
const ns = 'kc-sec';

beforeAll(async () => {
  s = await startSecureAPIServer();
  await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
});
afterAll(async () => s?.stop());

describe.each(kubectls().map((k) => [k.version, k] as [string, Kubectl]))('kubectl %s', (v, k) => {
  const admin = (args: string[]) => runKubectl(k, s.kubeconfigs.admin!, args);
  const as = (user: string, args: string[]) => runKubectl(k, s.tokenKubeconfig(user), args);
  const suffix = v.replace('.', '');

  test('the admin kubeconfig (client certificate, system:masters) works; whoami says who', async () => {
    const ns_ = await admin(['get', 'namespaces']);
    expect(ns_.code, ns_.stderr).toBe(0);
    expect(ns_.stdout).toMatch(/^kube-system\s+Active/m);
    const who = await admin(['auth', 'whoami', '-o', 'json']);
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout).status.userInfo).toEqual({ username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] });
    const table = await admin(['auth', 'whoami']);
    expect(table.stdout).toMatch(/Username\s+kubernetes-admin/);
    expect(table.stdout).toMatch(/Groups\s+\[system:masters system:authenticated\]/);
    expect((await admin(['auth', 'can-i', '*', '*'])).stdout.trim()).toBe('yes');
  });

  test('a token user: denied until bound; can-i and can-i --list follow RBAC', async () => {
    const user = 'bob';
    const denied = await as(user, ['get', 'pods', '-n', ns]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(`Error from server (Forbidden): pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "${ns}"`);
    expect((await as(user, ['auth', 'can-i', 'list', 'pods', '-n', ns])).stdout.trim()).toBe('no');

    const role = await admin(['create', 'role', `pod-reader-${suffix}`, '-n', ns, '--verb=get,list,watch', '--resource=pods']);
    expect(role.code, role.stderr).toBe(0);
    const rb = await admin(['create', 'rolebinding', `bob-reads-${suffix}`, '-n', ns, `--role=pod-reader-${suffix}`, '--user=bob']);
    expect(rb.code, rb.stderr).toBe(0);
    await eventually(async () => (await as(user, ['auth', 'can-i', 'list', 'pods', '-n', ns])).stdout.trim() === 'yes');
    expect((await as(user, ['get', 'pods', '-n', ns])).code).toBe(0);
    const no = await as(user, ['auth', 'can-i', 'create', 'pods', '-n', ns]);
    expect(no.stdout.trim()).toBe('no');
    expect(no.code).toBe(1);
    expect((await as(user, ['auth', 'can-i', 'list', 'pods', '-n', 'default'])).stdout.trim()).toBe('no');

    const list = await as(user, ['auth', 'can-i', '--list', '-n', ns]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/);
    expect(list.stdout).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    expect(list.stdout).toMatch(/^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    expect(list.stdout).toMatch(/^\s+\[\/healthz\]\s+\[\]\s+\[get\]$/m);

    const who = await as(user, ['auth', 'whoami', '-o', 'json']);
    expect(JSON.parse(who.stdout).status.userInfo).toEqual({ username: 'bob', uid: '1001', groups: ['system:authenticated'] });

    // Unbound again (for the next kubectl version's run), bob is denied again.
    expect((await admin(['delete', 'rolebinding', `bob-reads-${suffix}`, '-n', ns])).code).toBe(0);
    await eventually(async () => (await as(user, ['auth', 'can-i', 'list', 'pods', '-n', ns])).stdout.trim() === 'no');
  });

  test('kubectl create rolebinding to more than one holds is refused with the escalation message', async () => {
    await admin(['create', 'rolebinding', `carol-admin-${suffix}`, '-n', ns, '--clusterrole=admin', '--user=carol']);
    await eventually(async () => (await as('carol', ['auth', 'can-i', 'create', 'rolebindings', '-n', ns])).stdout.trim() === 'yes');
    const r = await as('carol', ['create', 'rolebinding', `carol-root-${suffix}`, '-n', ns, '--clusterrole=cluster-admin', '--user=carol']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`rolebindings.rbac.authorization.k8s.io "carol-root-${suffix}" is forbidden: user "carol" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:`);
    // --as needs impersonate rights.
    const imp = await as('carol', ['get', 'pods', '-n', ns, '--as=bob']);
    expect(imp.stderr).toContain('users "bob" is forbidden: User "carol" cannot impersonate resource "users" in API group "" at the cluster scope');
    // The admin may impersonate: the answers are carol's and bob's.
    expect((await admin(['auth', 'can-i', 'create', 'rolebindings', '-n', ns, '--as=carol'])).stdout.trim()).toBe('yes');
    expect((await admin(['auth', 'can-i', 'create', 'rolebindings', '-n', ns, '--as=bob'])).stdout.trim()).toBe('no');
  });

  test('kubectl create token: a bound token that authenticates as the service account', async () => {
    await admin(['create', 'serviceaccount', `builder-${suffix}`, '-n', ns]);
    const t = await admin(['create', 'token', `builder-${suffix}`, '-n', ns, '--duration=10m']);
    expect(t.code, t.stderr).toBe(0);
    const token = t.stdout.trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(600);
    const who = await runKubectl(k, s.tokenKubeconfig(`builder-${suffix}`, token), ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect(who.stdout).toBe(`system:serviceaccount:${ns}:builder-${suffix}`);
  });

  test('kubectl get rolebindings -o wide shows the role and its subjects', async () => {
    await admin(['create', 'rolebinding', `wide-${suffix}`, '-n', ns, '--clusterrole=view', '--user=alice', '--group=devs', `--serviceaccount=${ns}:robot`]);
    const r = await admin(['get', 'rolebinding', `wide-${suffix}`, '-n', ns, '-o', 'wide']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS$/);
    expect(r.stdout).toMatch(new RegExp(`wide-${suffix}\\s+ClusterRole/view\\s+\\S+\\s+alice\\s+devs\\s+${ns}/robot`));
  });

  test('kubectl get clusterroles and the bootstrap policy', async () => {
    const r = await admin(['get', 'clusterroles', 'cluster-admin', 'admin', 'edit', 'view', 'system:node', 'system:basic-user', 'system:discovery', 'system:public-info-viewer']);
    expect(r.code, r.stderr).toBe(0);
    const b = await admin(['get', 'clusterrolebinding', 'cluster-admin', '-o', 'jsonpath={.subjects[0].name}']);
    expect(b.stdout).toBe('system:masters');
    // The aggregated roles got their rules.
    const view = await admin(['get', 'clusterrole', 'view', '-o', 'json']);
    const rules = JSON.parse(view.stdout).rules as { resources?: string[] }[];
    expect(rules.some((x) => x.resources?.includes('pods'))).toBe(true);
  });

  test('the namespaced bootstrap policy: kube-system and kube-public roles and bindings, and the published client CA', async () => {
    const names = async (args: string[]) => (await admin([...args, '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ').sort();
    // The API server writes its policy just after it starts serving.
    await eventually(async () => (await names(['get', 'rolebindings', '-n', 'kube-public'])).includes('system:controller:bootstrap-signer'));
    expect(await names(['get', 'roles', '-n', 'kube-system'])).toEqual(expect.arrayContaining(['extension-apiserver-authentication-reader', 'system::leader-locking-kube-controller-manager', 'system::leader-locking-kube-scheduler', 'system:controller:bootstrap-signer', 'system:controller:cloud-provider', 'system:controller:token-cleaner']));
    expect(await names(['get', 'rolebindings', '-n', 'kube-system'])).toEqual(expect.arrayContaining(['system::extension-apiserver-authentication-reader', 'system::leader-locking-kube-controller-manager', 'system::leader-locking-kube-scheduler', 'system:controller:token-cleaner']));
    expect(await names(['get', 'roles,rolebindings', '-n', 'kube-public'])).toEqual(['system:controller:bootstrap-signer', 'system:controller:bootstrap-signer']);
    const can = async (args: string[]) => (await admin(['auth', 'can-i', ...args])).stdout.trim();
    expect(await can(['get', 'configmaps/extension-apiserver-authentication', '-n', 'kube-system', '--as=system:kube-scheduler'])).toBe('yes');
    expect(await can(['update', 'leases', '-n', 'kube-system', '--as=system:serviceaccount:kube-system:kube-scheduler'])).toBe('yes');
    expect(await can(['update', 'leases', '-n', 'default', '--as=system:serviceaccount:kube-system:kube-scheduler'])).toBe('no');
    expect(await can(['delete', 'secrets', '-n', 'kube-system', '--as=system:serviceaccount:kube-system:token-cleaner'])).toBe('yes');
    const cm = await admin(['get', 'configmap', 'extension-apiserver-authentication', '-n', 'kube-system', '-o', 'json']);
    expect(cm.code, cm.stderr).toBe(0);
    expect(JSON.parse(cm.stdout).data).toEqual({ 'client-ca-file': s.caPEM });
  });
});
