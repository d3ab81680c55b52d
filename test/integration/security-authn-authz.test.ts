/**
 * The authentication and authorization matrix of the secure port: who gets in (401), who may
 * do what (403 with upstream's message, or 200), across reads, writes, subresources and
 * non-resource URLs, with static tokens, client certificates and service account tokens.
 */
import crypto from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api } from '../support/apiserver.js';
import { eventually, secureAPI, startSecureAPIServer, type Credentials, type SecureTestServer } from '../support/secure.js';
import { ensurePKI } from '../../lib/pki/index.js';
import { signJWT, signingKeyFromPEM } from '../../lib/apiserver/index.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let s: SecureTestServer;
const ns = 'matrix';
const other = 'matrix-other';
const tok = (user: string): Credentials => ({ token: s.tokens[user] });
const req = (c: Credentials, method: string, p: string, body?: unknown, type?: string) => secureAPI(s, c, method, p, body, type);

/** Another CA's client certificate for "admin": signed by the wrong CA. */
let wrongCA: Credentials;

beforeAll(async () => {
  s = await startSecureAPIServer();
  for (const n of [ns, other]) expect((await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: n } })).status).toBe(201);
  await api(s.url, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'cm1' }, data: { a: '1' } });
  await api(s.url, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'cm2' }, data: { a: '2' } });
  await api(s.url, 'POST', `/api/v1/namespaces/${other}/configmaps`, { metadata: { name: 'cm1' } });
  const pod = await api(s.url, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'web' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
  expect(pod.status).toBe(201);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-wrong-ca-'));
  ensurePKI({ dir, kubeconfigDir: dir, clusterName: 'evil', apiserverAddress: '127.0.0.1', securePort: 1, serviceIP: '10.96.0.1', clusterDomain: 'cluster.local', extraSANs: [], nodes: [], caDays: 3650, certDays: 30, renewBeforeDays: 1, keyAlgorithm: 'ecdsa', keyBits: 256 });
  wrongCA = { cert: fs.readFileSync(path.join(dir, 'admin.crt')), key: fs.readFileSync(path.join(dir, 'admin.key')) };
  fs.rmSync(dir, { recursive: true, force: true });
});
afterAll(async () => s?.stop());

const rbac = '/apis/rbac.authorization.k8s.io/v1';
async function bind(kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, roleKind: 'Role' | 'ClusterRole', role: string, subjects: object[], namespace = ns) {
  const p = kind === 'RoleBinding' ? `${rbac}/namespaces/${namespace}/rolebindings` : `${rbac}/clusterrolebindings`;
  const r = await api(s.url, 'POST', p, { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role }, subjects });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}
const user = (name: string) => ({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name });
async function allowedSoon(c: Credentials, method: string, p: string, body?: unknown) {
  await eventually(async () => (await req(c, method, p, body)).status !== 403);
}

describe('authentication', () => {
  test('an idle keep-alive connection stays open well past the 5 s of Node (upstream keeps it 90 s), so clients do not handshake again', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: s.caPEM, ...s.client('admin') });
    let connections = 0;
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const u = new URL('/api/v1/namespaces/default', s.secureURL);
        const r = https.request({ host: u.hostname, port: u.port, path: u.pathname, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        r.on('socket', (sock) => {
          if (!(sock as tls.TLSSocket & { counted?: boolean }).counted) {
            (sock as tls.TLSSocket & { counted?: boolean }).counted = true;
            connections++;
          }
        });
        r.on('error', reject).end();
      });
    try {
      expect(await get()).toBe(200);
      await new Promise((r) => setTimeout(r, 6500));
      expect(await get()).toBe(200);
      expect(connections).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  test('no credentials: 401 with a Status, on resources and on /healthz (anonymous requests are off)', async () => {
    for (const p of [`/api/v1/namespaces/${ns}/pods`, '/healthz', '/version', '/api']) {
      const r = await req({}, 'GET', p);
      expect(r.status, p).toBe(401);
      expect(r.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401, message: 'Unauthorized' });
    }
  });

  test('a client certificate from another CA: 401', async () => {
    expect((await req(wrongCA, 'GET', `/api/v1/namespaces/${ns}/pods`)).status).toBe(401);
  });

  test('a client certificate of the cluster CA: CN is the user, O the groups (system:masters: everything)', async () => {
    const r = await req(s.client('admin'), 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(r.status).toBe(201);
    expect(r.body.status.userInfo).toEqual({ username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] });
    expect((await req(s.client('admin'), 'GET', `/api/v1/namespaces/${ns}/pods`)).status).toBe(200);
    expect((await req(s.client('admin'), 'DELETE', `/api/v1/namespaces/${other}/configmaps/cm1`)).status).toBe(200);
  });

  test('a connection keeps the user of its handshake: TLS renegotiation is refused (as Go\'s server), each connection has its own user', async () => {
    const admin = s.client('admin');
    const u = new URL(s.secureURL);
    const sock = tls.connect({ host: u.hostname, port: Number(u.port), ca: s.caPEM, cert: admin.cert, key: admin.key, maxVersion: 'TLSv1.2', servername: 'localhost' });
    await new Promise<void>((resolve, reject) => sock.once('secureConnect', resolve).once('error', reject));
    const outcome = await new Promise<string>((resolve) => {
      sock.once('close', () => resolve('closed'));
      sock.on('error', () => resolve('refused'));
      const asked = sock.renegotiate({ rejectUnauthorized: false }, (err) => resolve(err ? 'refused' : 'renegotiated'));
      if (!asked) resolve('refused');
      // The server reads the new handshake with the next request.
      sock.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    });
    sock.destroy();
    expect(outcome).not.toBe('renegotiated');
    // Users read once per connection still differ per connection.
    const who = async (c: Credentials) => (await req(c, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' })).body.status.userInfo.username;
    expect(await Promise.all([who(admin), who(s.client('kube-scheduler')), who(admin)])).toEqual(['kubernetes-admin', 'system:kube-scheduler', 'kubernetes-admin']);
  });

  test('unknown, malformed, forged and expired bearer tokens: 401', async () => {
    expect((await req({ token: 'no-such-token' }, 'GET', '/api')).status).toBe(401);
    expect((await req({ headers: { authorization: 'Basic Ym9iOnB3' } }, 'GET', '/api')).status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    const claims = (exp: number) => ({
      iss: 'https://kubernetes.default.svc.cluster.local',
      aud: ['https://kubernetes.default.svc.cluster.local'],
      sub: `system:serviceaccount:${ns}:default`,
      iat: now - 7200,
      nbf: now - 7200,
      exp,
      'kubernetes.io': { namespace: ns, serviceaccount: { name: 'default', uid: '' } },
    });
    const forger = signingKeyFromPEM(crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect((await req({ token: signJWT(claims(now + 3600), forger) }, 'GET', '/api')).status).toBe(401);
    const real = signingKeyFromPEM(fs.readFileSync(path.join(s.pkiDir, 'sa.key')));
    // The same claims signed with the real key are good (the account exists) until they expire.
    expect((await req({ token: signJWT(claims(now + 3600), real) }, 'GET', '/api')).status).toBe(200);
    expect((await req({ token: signJWT(claims(now - 3600), real) }, 'GET', '/api')).status).toBe(401);
  });

  test('every authenticated user is in system:authenticated; static tokens carry the file\'s uid and groups', async () => {
    const r = await req(tok('dave'), 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(r.body.status.userInfo).toEqual({ username: 'dave', uid: '1003', groups: ['devs', 'qa', 'system:authenticated'] });
  });
});

describe('authorization: the matrix', () => {
  test('a valid token without rights: 403 with upstream\'s message for reads, writes, subresources and paths', async () => {
    const cases: [string, string, string][] = [
      ['GET', `/api/v1/namespaces/${ns}/pods`, `pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "${ns}"`],
      ['GET', `/api/v1/namespaces/${ns}/pods/web`, `pods "web" is forbidden: User "bob" cannot get resource "pods" in API group "" in the namespace "${ns}"`],
      ['POST', `/api/v1/namespaces/${ns}/configmaps`, `configmaps is forbidden: User "bob" cannot create resource "configmaps" in API group "" in the namespace "${ns}"`],
      ['DELETE', `/api/v1/namespaces/${ns}/configmaps/cm1`, `configmaps "cm1" is forbidden: User "bob" cannot delete resource "configmaps" in API group "" in the namespace "${ns}"`],
      ['GET', `/api/v1/namespaces/${ns}/pods/web/log`, `pods "web" is forbidden: User "bob" cannot get resource "pods/log" in API group "" in the namespace "${ns}"`],
      ['POST', `/api/v1/namespaces/${ns}/pods/web/exec?command=sh`, `pods "web" is forbidden: User "bob" cannot create resource "pods/exec" in API group "" in the namespace "${ns}"`],
      ['GET', `/api/v1/namespaces/${ns}/pods/web/status`, `pods "web" is forbidden: User "bob" cannot get resource "pods/status" in API group "" in the namespace "${ns}"`],
      ['GET', '/api/v1/nodes', 'nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope'],
      ['GET', '/apis/apps/v1/deployments', 'deployments.apps is forbidden: User "bob" cannot list resource "deployments" in API group "apps" at the cluster scope'],
      ['GET', '/metrics', 'forbidden: User "bob" cannot get path "/metrics"'],
    ];
    for (const [method, p, message] of cases) {
      const r = await req(tok('bob'), method, p, method === 'POST' ? { metadata: { name: 'x' } } : undefined);
      expect(r.status, `${method} ${p}`).toBe(403);
      expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message });
    }
    // What every authenticated user may do: discovery, health, version, self reviews.
    for (const p of ['/api', '/apis', '/api/v1', '/healthz', '/readyz', '/livez', '/version', '/openapi/v2']) expect((await req(tok('bob'), 'GET', p)).status, p).toBe(200);
  });

  test('a RoleBinding grants its role in its namespace only', async () => {
    await bind('RoleBinding', 'carol-view', 'ClusterRole', 'view', [user('carol')]);
    await allowedSoon(tok('carol'), 'GET', `/api/v1/namespaces/${ns}/pods`);
    expect((await req(tok('carol'), 'GET', `/api/v1/namespaces/${ns}/pods`)).status).toBe(200);
    expect((await req(tok('carol'), 'GET', `/api/v1/namespaces/${ns}/pods/web`)).status).toBe(200);
    expect((await req(tok('carol'), 'GET', `/api/v1/namespaces/${ns}/pods/web/status`)).status).toBe(200);
    expect((await req(tok('carol'), 'GET', `/api/v1/namespaces/${ns}/configmaps/cm1`)).status).toBe(200);
    // view reads no secrets, writes nothing, and says nothing about other namespaces.
    expect((await req(tok('carol'), 'GET', `/api/v1/namespaces/${ns}/secrets`)).status).toBe(403);
    expect((await req(tok('carol'), 'POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'x' } })).status).toBe(403);
    expect((await req(tok('carol'), 'POST', `/api/v1/namespaces/${ns}/pods/web/exec?command=sh`)).status).toBe(403);
    expect((await req(tok('carol'), 'GET', `/api/v1/namespaces/${other}/pods`)).status).toBe(403);
    expect((await req(tok('carol'), 'GET', '/api/v1/pods')).status).toBe(403);
  });

  test('a ClusterRoleBinding grants its role everywhere; groups are subjects too', async () => {
    await bind('ClusterRoleBinding', 'devs-edit', 'ClusterRole', 'edit', [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' }]);
    await allowedSoon(tok('dave'), 'GET', '/api/v1/pods');
    for (const n of [ns, other]) {
      expect((await req(tok('dave'), 'GET', `/api/v1/namespaces/${n}/configmaps`)).status).toBe(200);
      const c = await req(tok('dave'), 'POST', `/api/v1/namespaces/${n}/configmaps`, { metadata: { name: 'from-dave' } });
      expect(c.status).toBe(201);
    }
    expect((await req(tok('dave'), 'GET', '/api/v1/pods')).status).toBe(200);
    // edit may not touch RBAC or cluster-scoped objects.
    expect((await req(tok('dave'), 'GET', `${rbac}/namespaces/${ns}/roles`)).status).toBe(403);
    expect((await req(tok('dave'), 'GET', '/api/v1/nodes')).status).toBe(403);
    // Subresources: edit may exec; what a kubelet would serve is not there, but authorization passed.
    const exec = await req(tok('dave'), 'POST', `/api/v1/namespaces/${ns}/pods/web/exec?command=sh`);
    expect([401, 403]).not.toContain(exec.status);
  });

  test('client certificate users are authorized by their CN and O', async () => {
    // kube-scheduler: system:kube-scheduler may bind pods and read nodes, but not read secrets.
    const sched = s.client('kube-scheduler');
    expect((await req(sched, 'GET', '/api/v1/nodes')).status).toBe(200);
    expect((await req(sched, 'GET', `/api/v1/namespaces/${ns}/pods`)).status).toBe(200);
    const r = await req(sched, 'GET', `/api/v1/namespaces/${ns}/secrets`);
    expect(r.status).toBe(403);
    expect(r.body.message).toBe(`secrets is forbidden: User "system:kube-scheduler" cannot list resource "secrets" in API group "" in the namespace "${ns}"`);
    const cm = s.client('kube-controller-manager');
    expect((await req(cm, 'GET', '/apis/apps/v1/deployments')).status).toBe(200);
    const proxy = s.client('kube-proxy');
    expect((await req(proxy, 'GET', '/api/v1/services')).status).toBe(200);
    expect((await req(proxy, 'GET', `/api/v1/namespaces/${ns}/configmaps`)).status).toBe(403);
  });

  test('resourceNames limit a rule to named objects; a list narrowed by metadata.name counts as that object', async () => {
    const role = await api(s.url, 'POST', `${rbac}/namespaces/${ns}/roles`, {
      metadata: { name: 'cm1-reader' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['cm1'], verbs: ['get', 'list'] }],
    });
    expect(role.status).toBe(201);
    await bind('RoleBinding', 'erin-cm1', 'Role', 'cm1-reader', [user('erin')]);
    await allowedSoon(tok('erin'), 'GET', `/api/v1/namespaces/${ns}/configmaps/cm1`);
    expect((await req(tok('erin'), 'GET', `/api/v1/namespaces/${ns}/configmaps/cm2`)).status).toBe(403);
    expect((await req(tok('erin'), 'GET', `/api/v1/namespaces/${ns}/configmaps`)).status).toBe(403);
    const narrowed = await req(tok('erin'), 'GET', `/api/v1/namespaces/${ns}/configmaps?fieldSelector=metadata.name%3Dcm1`);
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.items.map((i: any) => i.metadata.name)).toEqual(['cm1']);
  });

  test('subresource rules: pods/log and pods/status without the pods themselves', async () => {
    await api(s.url, 'POST', `${rbac}/clusterroles`, { metadata: { name: 'log-reader' }, rules: [{ apiGroups: [''], resources: ['pods/log', 'pods/status'], verbs: ['get'] }] });
    await bind('RoleBinding', 'frank-logs', 'ClusterRole', 'log-reader', [user('frank')]);
    await allowedSoon(tok('frank'), 'GET', `/api/v1/namespaces/${ns}/pods/web/status`);
    expect((await req(tok('frank'), 'GET', `/api/v1/namespaces/${ns}/pods/web/status`)).status).toBe(200);
    expect((await req(tok('frank'), 'GET', `/api/v1/namespaces/${ns}/pods/web`)).status).toBe(403);
    expect((await req(tok('frank'), 'PUT', `/api/v1/namespaces/${ns}/pods/web/status`, {})).status).toBe(403);
    // pods/log passes authorization (no kubelet serves it in this test).
    expect([401, 403]).not.toContain((await req(tok('frank'), 'GET', `/api/v1/namespaces/${ns}/pods/web/log`)).status);
    const sar = await req(s.client('admin'), 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: 'frank', groups: ['system:authenticated'], resourceAttributes: { namespace: ns, verb: 'get', resource: 'pods', subresource: 'log', name: 'web' } },
    });
    expect(sar.status).toBe(201);
    expect(sar.body.status.allowed).toBe(true);
  });

  test('non-resource URLs: exact paths and "*" suffixes', async () => {
    await api(s.url, 'POST', `${rbac}/clusterroles`, { metadata: { name: 'metrics-prefix' }, rules: [{ nonResourceURLs: ['/metr*'], verbs: ['get'] }] });
    await bind('ClusterRoleBinding', 'bob-metrics', 'ClusterRole', 'metrics-prefix', [user('bob')]);
    await allowedSoon(tok('bob'), 'GET', '/metrics');
    expect((await req(tok('bob'), 'GET', '/metrics')).status).toBe(200);
    // The rule is for get only.
    const post = await req(tok('bob'), 'POST', '/metrics', {});
    expect(post.status).toBe(403);
    expect(post.body.message).toBe('forbidden: User "bob" cannot post path "/metrics"');
  });
});

describe('service account tokens', () => {
  test('TokenRequest issues a pod-bound token; the account is a user with its groups; deleting the pod revokes it', async () => {
    expect((await api(s.url, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'robot' } })).status).toBe(201);
    const pod = await api(s.url, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'robot-pod' }, spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'busybox' }] } });
    expect(pod.status).toBe(201);
    // Asked for by its kubelet would be usual; here by the admin.
    const tr = await req(s.client('admin'), 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/robot/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'robot-pod', uid: pod.body.metadata.uid } },
    });
    expect(tr.status, JSON.stringify(tr.body)).toBe(201);
    const token = tr.body.status.token as string;
    const exp = Date.parse(tr.body.status.expirationTimestamp);
    expect(exp - Date.now()).toBeGreaterThan(500_000);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({
      iss: 'https://kubernetes.default.svc.cluster.local',
      aud: ['https://kubernetes.default.svc.cluster.local'],
      sub: `system:serviceaccount:${ns}:robot`,
      'kubernetes.io': { namespace: ns, pod: { name: 'robot-pod', uid: pod.body.metadata.uid }, serviceaccount: { name: 'robot' } },
    });

    const who = await req({ token }, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(who.status).toBe(201);
    expect(who.body.status.userInfo).toMatchObject({ username: `system:serviceaccount:${ns}:robot`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] });
    expect(who.body.status.userInfo.extra['authentication.kubernetes.io/pod-name']).toEqual(['robot-pod']);

    const denied = await req({ token }, 'GET', `/api/v1/namespaces/${ns}/pods`);
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe(`pods is forbidden: User "system:serviceaccount:${ns}:robot" cannot list resource "pods" in API group "" in the namespace "${ns}"`);
    await bind('RoleBinding', 'robot-view', 'ClusterRole', 'view', [{ kind: 'ServiceAccount', name: 'robot', namespace: ns }]);
    await allowedSoon({ token }, 'GET', `/api/v1/namespaces/${ns}/pods`);

    // TokenReview says the same.
    const review = await req(s.client('admin'), 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
    expect(review.body.status).toMatchObject({ authenticated: true, user: { username: `system:serviceaccount:${ns}:robot` }, audiences: ['https://kubernetes.default.svc.cluster.local'] });

    expect((await api(s.url, 'DELETE', `/api/v1/namespaces/${ns}/pods/robot-pod?gracePeriodSeconds=0`)).status).toBe(200);
    await eventually(async () => (await req({ token }, 'GET', `/api/v1/namespaces/${ns}/pods`)).status === 401);
    const gone = await req(s.client('admin'), 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
    expect(gone.body.status.authenticated).toBeUndefined();
    expect(gone.body.status.error).toContain('robot-pod has been deleted');
  });

  test('deleting the service account revokes its tokens; TokenRequest refuses short lifetimes and other pods', async () => {
    await api(s.url, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'temp' } });
    const tr = await req(s.client('admin'), 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/temp/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
    expect(tr.status).toBe(201);
    const token = tr.body.status.token;
    expect((await req({ token }, 'GET', '/api')).status).toBe(200);
    await api(s.url, 'DELETE', `/api/v1/namespaces/${ns}/serviceaccounts/temp`);
    await eventually(async () => (await req({ token }, 'GET', '/api')).status === 401);

    const short = await req(s.client('admin'), 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/default/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 60 } });
    expect(short.status).toBe(422);
    expect(short.body.message).toContain('spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes');
    const wrongPod = await req(s.client('admin'), 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/default/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'no-such-pod' } } });
    expect(wrongPod.status).toBe(404);
    const noRights = await req(tok('bob'), 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/default/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
    expect(noRights.status).toBe(403);
    expect(noRights.body.message).toBe(`serviceaccounts "default" is forbidden: User "bob" cannot create resource "serviceaccounts/token" in API group "" in the namespace "${ns}"`);
  });
});

describe('escalation prevention', () => {
  const team = 'team';
  beforeAll(async () => {
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: team } });
    // carol administers the team namespace.
    await bind('RoleBinding', 'carol-admin', 'ClusterRole', 'admin', [user('carol')], team);
    await allowedSoon(tok('carol'), 'GET', `${rbac}/namespaces/${team}/roles`);
  });

  test('a Role with permissions the writer lacks is refused; one within them is allowed', async () => {
    const bad = await req(tok('carol'), 'POST', `${rbac}/namespaces/${team}/roles`, { metadata: { name: 'node-reader' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }] });
    expect(bad.status).toBe(403);
    expect(bad.body.message).toBe(
      'roles.rbac.authorization.k8s.io "node-reader" is forbidden: user "carol" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get" "list"]}',
    );
    expect((await api(s.url, 'GET', `${rbac}/namespaces/${team}/roles/node-reader`)).status).toBe(404);
    const ok = await req(tok('carol'), 'POST', `${rbac}/namespaces/${team}/roles`, { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] });
    expect(ok.status).toBe(201);
  });

  test('a binding to a role with more than the writer holds is refused unless they may bind it', async () => {
    const body = { metadata: { name: 'bob-cluster-admin' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [user('bob')] };
    const bad = await req(tok('carol'), 'POST', `${rbac}/namespaces/${team}/rolebindings`, body);
    expect(bad.status).toBe(403);
    expect(bad.body.message).toMatch(/^rolebindings\.rbac\.authorization\.k8s\.io "bob-cluster-admin" is forbidden: user "carol" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n/);
    // A binding to what carol holds herself is fine.
    const fine = await req(tok('carol'), 'POST', `${rbac}/namespaces/${team}/rolebindings`, { ...body, metadata: { name: 'bob-pod-reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' } });
    expect(fine.status).toBe(201);
    // Given `bind` on cluster-admin, she may.
    await api(s.url, 'POST', `${rbac}/clusterroles`, { metadata: { name: 'bind-cluster-admin' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['cluster-admin'] }] });
    await bind('RoleBinding', 'carol-bind', 'ClusterRole', 'bind-cluster-admin', [user('carol')], team);
    await eventually(async () => (await req(tok('carol'), 'POST', `${rbac}/namespaces/${team}/rolebindings`, body)).status === 201);
  });

  test('escalate lets a writer create roles beyond their own rights; cluster-wide objects stay out of reach', async () => {
    await api(s.url, 'POST', `${rbac}/clusterroles`, { metadata: { name: 'escalate-roles' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['escalate'] }] });
    await bind('RoleBinding', 'carol-escalate', 'ClusterRole', 'escalate-roles', [user('carol')], team);
    await eventually(async () => (await req(tok('carol'), 'POST', `${rbac}/namespaces/${team}/roles`, { metadata: { name: 'secret-reader' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }, { apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] })).status === 201);
    const crb = await req(tok('carol'), 'POST', `${rbac}/clusterrolebindings`, { metadata: { name: 'carol-everything' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [user('carol')] });
    expect(crb.status).toBe(403);
    expect(crb.body.message).toBe('clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "carol" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope');
  });
});

describe('impersonation', () => {
  const whoami = (c: Credentials) => req(c, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });

  test('without the impersonate verb: 403', async () => {
    const r = await whoami({ ...tok('bob'), headers: { 'Impersonate-User': 'alice' } });
    expect(r.status).toBe(403);
    expect(r.body.message).toBe('users "alice" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope');
    const g = await req({ ...tok('bob'), headers: { 'Impersonate-User': 'bob', 'Impersonate-Group': 'system:masters' } }, 'GET', '/api/v1/nodes');
    expect(g.status).toBe(403);
  });

  test('with rights on exactly those users and groups; the request then runs as them', async () => {
    await api(s.url, 'POST', `${rbac}/clusterroles`, {
      metadata: { name: 'impersonate-alice' },
      rules: [
        { apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: ['alice'] },
        { apiGroups: [''], resources: ['groups'], verbs: ['impersonate'], resourceNames: ['readers'] },
      ],
    });
    await bind('ClusterRoleBinding', 'erin-impersonates', 'ClusterRole', 'impersonate-alice', [user('erin')]);
    await eventually(async () => (await whoami({ ...tok('erin'), headers: { 'Impersonate-User': 'alice' } })).status === 201);
    const r = await whoami({ ...tok('erin'), headers: { 'Impersonate-User': 'alice', 'Impersonate-Group': 'readers' } });
    expect(r.body.status.userInfo).toEqual({ username: 'alice', groups: ['readers', 'system:authenticated'] });
    const masters = await whoami({ ...tok('erin'), headers: { 'Impersonate-User': 'alice', 'Impersonate-Group': 'system:masters' } });
    expect(masters.status).toBe(403);
    expect(masters.body.message).toBe('groups "system:masters" is forbidden: User "erin" cannot impersonate resource "groups" in API group "" at the cluster scope');
    const mallory = await whoami({ ...tok('erin'), headers: { 'Impersonate-User': 'mallory' } });
    expect(mallory.status).toBe(403);
    // Alice has no rights of her own.
    const asAlice = await req({ ...tok('erin'), headers: { 'Impersonate-User': 'alice' } }, 'GET', `/api/v1/namespaces/${ns}/pods`);
    expect(asAlice.status).toBe(403);
    expect(asAlice.body.message).toBe(`pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "${ns}"`);
  });

  test('an admin may impersonate anyone, service accounts included', async () => {
    const r = await whoami({ ...s.client('admin'), headers: { 'Impersonate-User': `system:serviceaccount:${ns}:default` } });
    expect(r.body.status.userInfo).toEqual({ username: `system:serviceaccount:${ns}:default`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] });
    const groupOnly = await whoami({ ...s.client('admin'), headers: { 'Impersonate-Group': 'x' } });
    expect(groupOnly.status).toBe(400);
  });
});

describe('access reviews', () => {
  test('SelfSubjectAccessReview, LocalSubjectAccessReview and SelfSubjectRulesReview', async () => {
    const can = (c: Credentials, ra: object) => req(c, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: ra } });
    expect((await can(tok('carol'), { namespace: ns, verb: 'list', resource: 'pods' })).body.status).toMatchObject({ allowed: true });
    expect((await can(tok('carol'), { namespace: ns, verb: 'create', resource: 'pods' })).body.status.allowed).toBe(false);
    const nr = await req(tok('bob'), 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { nonResourceAttributes: { verb: 'get', path: '/metrics' } } });
    expect(nr.body.status.allowed).toBe(true);
    const both = await req(tok('bob'), 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {} });
    expect(both.status).toBe(422);

    const local = await req(s.client('admin'), 'POST', `/apis/authorization.k8s.io/v1/namespaces/${ns}/localsubjectaccessreviews`, {
      apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', spec: { user: 'carol', resourceAttributes: { namespace: other, verb: 'get', resource: 'pods' } },
    });
    expect(local.status).toBe(400);
    expect(local.body.message).toBe(`spec.resourceAttributes.namespace must match namespace: ${ns}`);
    // Only who may create localsubjectaccessreviews may ask.
    const bobAsks = await req(tok('bob'), 'POST', `/apis/authorization.k8s.io/v1/namespaces/${ns}/localsubjectaccessreviews`, { apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', spec: { user: 'carol', resourceAttributes: { namespace: ns, verb: 'get', resource: 'pods' } } });
    expect(bobAsks.status).toBe(403);

    const rules = await req(tok('erin'), 'POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: ns } });
    expect(rules.status).toBe(201);
    expect(rules.body.status.resourceRules).toEqual(expect.arrayContaining([{ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['cm1'] }]));
    expect(rules.body.status.nonResourceRules).toEqual(expect.arrayContaining([expect.objectContaining({ nonResourceURLs: expect.arrayContaining(['/healthz']) })]));
  });
});

describe('the Node authorizer and NodeRestriction', () => {
  const n1 = () => s.client('kubelet-n1');
  beforeAll(async () => {
    for (const n of ['n1', 'n2']) await api(s.url, 'POST', '/api/v1/nodes', { metadata: { name: n } });
    await api(s.url, 'POST', `/api/v1/namespaces/${ns}/secrets`, { metadata: { name: 'mounted' }, stringData: { k: 'v' } });
    await api(s.url, 'POST', `/api/v1/namespaces/${ns}/secrets`, { metadata: { name: 'unrelated' }, stringData: { k: 'v' } });
    for (const [name, node] of [['on-n1', 'n1'], ['on-n2', 'n2']]) {
      const p = await api(s.url, 'POST', `/api/v1/namespaces/${ns}/pods`, {
        metadata: { name },
        spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx', env: [{ name: 'K', valueFrom: { secretKeyRef: { name: node === 'n1' ? 'mounted' : 'unrelated', key: 'k' } } }] }] },
      });
      expect(p.status).toBe(201);
    }
  });

  test('a kubelet reads its own node and pods, and the secrets its pods use; nothing else', async () => {
    expect((await req(n1(), 'GET', '/api/v1/nodes/n1')).status).toBe(200);
    const n2 = await req(n1(), 'GET', '/api/v1/nodes/n2');
    expect(n2.status).toBe(403);
    expect(n2.body.message).toBe(`nodes "n2" is forbidden: User "system:node:n1" cannot get resource "nodes" in API group "" at the cluster scope: node 'n1' cannot get 'n2', only its own Node object`);
    expect((await req(n1(), 'GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dn1')).status).toBe(200);
    // Every Node may be listed (tkube's kubelet routes to their podCIDRs: the tkube:node-routes role), not read one by one.
    expect((await req(n1(), 'GET', '/api/v1/nodes')).status).toBe(200);
    expect((await req(n1(), 'GET', '/api/v1/nodes/n2')).status).toBe(403);
    const pods = await req(n1(), 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1');
    expect(pods.status).toBe(200);
    expect(pods.body.items.map((p: any) => p.metadata.name)).toEqual(['on-n1']);
    expect((await req(n1(), 'GET', '/api/v1/pods')).status).toBe(403);
    expect((await req(n1(), 'GET', `/api/v1/namespaces/${ns}/pods/on-n2`)).status).toBe(403);
    await eventually(async () => (await req(n1(), 'GET', `/api/v1/namespaces/${ns}/secrets/mounted`)).status === 200);
    const other = await req(n1(), 'GET', `/api/v1/namespaces/${ns}/secrets/unrelated`);
    expect(other.status).toBe(403);
    expect(other.body.message).toBe(`secrets "unrelated" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "${ns}": no relationship found between node 'n1' and this object`);
    expect((await req(n1(), 'GET', `/api/v1/namespaces/${ns}/secrets`)).status).toBe(403);
  });

  test('a kubelet writes only its own node and its pods\' status, and creates only mirror pods', async () => {
    const status = (await api(s.url, 'GET', `/api/v1/namespaces/${ns}/pods/on-n1`)).body;
    expect((await req(n1(), 'PUT', `/api/v1/namespaces/${ns}/pods/on-n1/status`, { ...status, status: { phase: 'Running' } })).status).toBe(200);
    const theirs = (await api(s.url, 'GET', `/api/v1/namespaces/${ns}/pods/on-n2`)).body;
    const r = await req(n1(), 'PUT', `/api/v1/namespaces/${ns}/pods/on-n2/status`, { ...theirs, status: { phase: 'Running' } });
    expect(r.status).toBe(403);
    expect(r.body.message).toBe('pods "on-n2" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself');

    const plain = await req(n1(), 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'sneaky' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'nginx' }] } });
    expect(plain.status).toBe(403);
    expect(plain.body.message).toBe('pods "sneaky" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods');
    expect((await api(s.url, 'GET', `/api/v1/namespaces/${ns}/pods/sneaky`)).status).toBe(404);
    const mirror = await req(n1(), 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'static-web-n1', annotations: { 'kubernetes.io/config.mirror': 'abc' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'nginx' }] } });
    expect(mirror.status, JSON.stringify(mirror.body)).toBe(201);
    const elsewhere = await req(n1(), 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'static-web-n2', annotations: { 'kubernetes.io/config.mirror': 'abc' } }, spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'nginx' }] } });
    expect(elsewhere.status).toBe(403);

    const node = (await req(n1(), 'GET', '/api/v1/nodes/n1')).body;
    const labelled = await req(n1(), 'PUT', '/api/v1/nodes/n1', { ...node, metadata: { ...node.metadata, labels: { ...node.metadata.labels, 'topology.kubernetes.io/zone': 'a' } } });
    expect(labelled.status).toBe(200);
    const tainted = await req(n1(), 'PUT', '/api/v1/nodes/n1', { ...labelled.body, spec: { ...labelled.body.spec, taints: [] } });
    expect(tainted.status).toBe(403);
    expect(tainted.body.message).toBe('nodes "n1" is forbidden: node "n1" is not allowed to modify taints');
    const restricted = await req(n1(), 'PUT', '/api/v1/nodes/n1', { ...labelled.body, metadata: { ...labelled.body.metadata, labels: { 'node-restriction.kubernetes.io/trusted': 'yes' } } });
    expect(restricted.status).toBe(403);
    const n2 = (await api(s.url, 'GET', '/api/v1/nodes/n2')).body;
    const theirNode = await req(n1(), 'PUT', '/api/v1/nodes/n2/status', n2);
    expect(theirNode.status).toBe(403);
  });
});

describe('RBAC objects', () => {
  test('aggregation: a ClusterRole labelled aggregate-to-view joins view, edit and admin, and leaves them when deleted', async () => {
    const rule = { apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list', 'watch'] };
    const has = async (role: string) => ((await api(s.url, 'GET', `${rbac}/clusterroles/${role}`)).body.rules ?? []).some((r: any) => r.apiGroups?.[0] === 'example.com');
    const r = await api(s.url, 'POST', `${rbac}/clusterroles`, { metadata: { name: 'widget-viewer', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }, rules: [rule] });
    expect(r.status).toBe(201);
    await eventually(async () => (await has('view')) && (await has('edit')) && (await has('admin')));
    // The rules of an aggregated role belong to the aggregation: a manual edit is put back.
    const view = (await api(s.url, 'GET', `${rbac}/clusterroles/view`)).body;
    expect((await api(s.url, 'PUT', `${rbac}/clusterroles/view`, { ...view, rules: [] })).status).toBe(200);
    await eventually(() => has('view'));
    expect((await api(s.url, 'DELETE', `${rbac}/clusterroles/widget-viewer`)).status).toBe(200);
    await eventually(async () => !(await has('view')) && !(await has('admin')));
  });

  test('validation as upstream: rules need verbs, groups and resources; Roles take no URLs; roleRef is immutable', async () => {
    const bad = await api(s.url, 'POST', `${rbac}/namespaces/${ns}/roles`, { metadata: { name: 'bad' }, rules: [{ verbs: [], resources: ['pods'] }, { verbs: ['get'], nonResourceURLs: ['/healthz'] }] });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toBe(
      'Role.rbac.authorization.k8s.io "bad" is invalid: [rules[0].verbs: Required value: verbs must contain at least one value, rules[0].apiGroups: Required value: resource rules must supply at least one api group, rules[1].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs]',
    );
    const b = await api(s.url, 'POST', `${rbac}/namespaces/${ns}/rolebindings`, { metadata: { name: 'fixed' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'x' }] });
    expect(b.status).toBe(201);
    expect(b.body.subjects[0].apiGroup).toBe('rbac.authorization.k8s.io');
    const changed = await api(s.url, 'PUT', `${rbac}/namespaces/${ns}/rolebindings/fixed`, { ...b.body, roleRef: { ...b.body.roleRef, name: 'edit' } });
    expect(changed.status).toBe(422);
    expect(changed.body.message).toContain('roleRef: Invalid value: ');
    expect(changed.body.message).toContain('cannot change roleRef');
    const crb = await api(s.url, 'POST', `${rbac}/clusterrolebindings`, { metadata: { name: 'to-role' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'x' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] });
    expect(crb.status).toBe(422);
    expect(crb.body.message).toBe('ClusterRoleBinding.rbac.authorization.k8s.io "to-role" is invalid: [roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole", subjects[0].namespace: Required value]');
  });
});
