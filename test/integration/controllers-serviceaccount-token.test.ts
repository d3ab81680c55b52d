/**
 * The serviceaccount-token controller of the real tkube-controller-manager (its own client
 * certificate, --service-account-private-key-file) against a TLS API server with RBAC: a
 * kubernetes.io/service-account-token Secret gets a token that authenticates as the account,
 * with exactly the account's rights, until the Secret is deleted.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/apiserver.js';
import { startControllerManager, type RunningControllerManager } from '../support/controller-manager.js';
import { eventually, secureAPI, startSecureAPIServer, type Credentials, type SecureTestServer } from '../support/secure.js';

const ns = 'tokens';
let s: SecureTestServer;
let cm: RunningControllerManager | undefined;

beforeAll(async () => {
  s = await startSecureAPIServer();
  cm = startControllerManager(s.kubeconfigs['kube-controller-manager'], ['--controllers=serviceaccount-token', `--service-account-private-key-file=${path.join(s.pkiDir, 'sa.key')}`]);
  expect((await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await cm?.stop();
  await s?.stop();
});

const b64 = (v: string | undefined) => Buffer.from(v ?? '', 'base64').toString('utf8');
const secret = (name: string, account: string) => ({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name, annotations: { 'kubernetes.io/service-account.name': account } } });

async function filled(name: string): Promise<{ data: Record<string, string>; metadata: { annotations: Record<string, string> } }> {
  let last: unknown;
  try {
    await eventually(async () => {
      last = (await api(s.url, 'GET', `/api/v1/namespaces/${ns}/secrets/${name}`)).body;
      return !!(last as { data?: { token?: string } }).data?.token;
    }, 30_000);
  } catch {
    throw new Error(`secret ${name} was not filled in: ${JSON.stringify(last)}\ncontroller manager log:\n${cm?.log()}`);
  }
  return last as never;
}

describe('serviceaccount-token', () => {
  test('the token of a token Secret authenticates as the account, with its RoleBinding\'s rights and no more; deleting the Secret revokes it', async () => {
    const sa = await api(s.url, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'robot' } });
    expect(sa.status).toBe(201);
    expect((await api(s.url, 'POST', `/api/v1/namespaces/${ns}/secrets`, secret('robot-token', 'robot'))).status).toBe(201);
    const got = await filled('robot-token');
    expect(b64(got.data['ca.crt'])).toBe(s.caPEM);
    expect(b64(got.data.namespace)).toBe(ns);
    expect(got.metadata.annotations['kubernetes.io/service-account.uid']).toBe(sa.body.metadata.uid);

    const token: Credentials = { token: b64(got.data.token) };
    const who = await secureAPI(s, token, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(who.status).toBe(201);
    expect(who.body.status.userInfo).toMatchObject({ username: `system:serviceaccount:${ns}:robot`, uid: sa.body.metadata.uid, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] });

    // RBAC: nothing before a binding; what the view role gives after, and only in its namespace.
    const denied = await secureAPI(s, token, 'GET', `/api/v1/namespaces/${ns}/pods`);
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe(`pods is forbidden: User "system:serviceaccount:${ns}:robot" cannot list resource "pods" in API group "" in the namespace "${ns}"`);
    const rb = await api(s.url, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      metadata: { name: 'robot-view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace: ns }],
    });
    expect(rb.status).toBe(201);
    await eventually(async () => (await secureAPI(s, token, 'GET', `/api/v1/namespaces/${ns}/pods`)).status === 200);
    expect((await secureAPI(s, token, 'GET', '/api/v1/namespaces/default/pods')).status).toBe(403);
    expect((await secureAPI(s, token, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'x' } })).status).toBe(403);

    expect((await api(s.url, 'DELETE', `/api/v1/namespaces/${ns}/secrets/robot-token`)).status).toBe(200);
    await eventually(async () => (await secureAPI(s, token, 'GET', `/api/v1/namespaces/${ns}/pods`)).status === 401);
  }, 60_000);

  test('a token Secret naming an account that does not exist is deleted; so are an account\'s Secrets when it is deleted', async () => {
    expect((await api(s.url, 'POST', `/api/v1/namespaces/${ns}/secrets`, secret('ghost-token', 'ghost'))).status).toBe(201);
    await eventually(async () => (await api(s.url, 'GET', `/api/v1/namespaces/${ns}/secrets/ghost-token`)).status === 404, 30_000);

    expect((await api(s.url, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'temp' } })).status).toBe(201);
    expect((await api(s.url, 'POST', `/api/v1/namespaces/${ns}/secrets`, secret('temp-token', 'temp'))).status).toBe(201);
    const token: Credentials = { token: b64((await filled('temp-token')).data.token) };
    expect((await secureAPI(s, token, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' })).status).toBe(201);
    expect((await api(s.url, 'DELETE', `/api/v1/namespaces/${ns}/serviceaccounts/temp`)).status).toBe(200);
    await eventually(async () => (await api(s.url, 'GET', `/api/v1/namespaces/${ns}/secrets/temp-token`)).status === 404, 30_000);
    expect((await secureAPI(s, token, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' })).status).toBe(401);
  }, 60_000);
});
