/**
 * The real tkube-kubelet serving its HTTPS API, locked down as a secured cluster runs it, with
 * the real kubectl going through the API server to a pod the kubelet runs in Docker:
 *
 *   kubectl ─► API server (TLS, Node+RBAC) ──kubelet client cert──► tkube-kubelet :10250 (netns)
 *                                                                     │ TokenReview / SubjectAccessReview
 *                                                                     └──────────► API server
 *
 * The kubelet runs in a test network namespace; its uplink's peer sits in this machine's
 * namespace with a /30 of its own (TestKubeletNode's host link), so that the API server
 * reaches the node's InternalIP. The kubelet authenticates to the API server as
 * system:node:<name> (tkube-pki's certificate), serves tkube-pki's serving certificate for its
 * address, and runs with --anonymous-auth=false --client-ca-file --authentication-token-webhook
 * --authorization-mode=Webhook.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../lib/api/index.js';
import { Resources, type RESTClient } from '../../lib/client/index.js';
import { busyboxImage } from '../../hack/images/images.js';
import { newestKubectl, runKubectl } from '../support/kubectl.js';
import { randomHostLink, type TestKubeletNode } from '../support/kubelet-node.js';
import { randomSuffix, waitFor } from '../support/node-host.js';
import { eventually, type Credentials, type SecureTestServer } from '../support/secure.js';
import { startSecuredKubeletNode } from '../support/secure-node.js';

const k = newestKubectl()!;
const nodeName = `node-${randomSuffix()}`;
const link = randomHostLink();
const ns = `serve-${randomSuffix()}`;
let api: SecureTestServer;
let node: TestKubeletNode;
let admin: RESTClient;
const children: ChildProcessWithoutNullStreams[] = [];

const kubectl = (args: string[], opts: { input?: string; timeoutMs?: number } = {}) => runKubectl(k, api.kubeconfigs.admin!, ['-n', ns, ...args], opts);

/** One request to the kubelet API, verifying its certificate with the cluster CA. */
function kubeletGet(p: string, creds: Credentials = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = creds.token ? { authorization: `Bearer ${creds.token}` } : {};
    https
      .get({ host: link.nodeIP, port: 10250, path: p, ca: api.caPEM, cert: creds.cert, key: creds.key, headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

beforeAll(async () => {
  ({ api, admin, node } = await startSecuredKubeletNode({ nodeName, link, podCIDR: '10.244.7.0/24', namespace: ns }));
  await admin.resource(Resources.pods, ns).create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: {
      nodeName,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'app', image: busyboxImage, command: ['sh', '-c', 'echo hello-from-pod; mkdir -p /www && echo served-by-pod > /www/index.html && exec httpd -f -p 8080 -h /www'] }],
    },
  } as Pod);
  await waitFor('the pod to run', async () => (await admin.resource(Resources.pods, ns).get('web')).status?.phase === 'Running', 90_000, 250).catch(async (err) => {
    const p = await admin.resource(Resources.pods, ns).get('web').catch(() => undefined);
    throw new Error(`${(err as Error).message}\nstatus: ${JSON.stringify(p?.status)}\nkubelet: ${node.logLines('"level":50').slice(-10).join('\n')}`);
  });
}, 240_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await node?.cleanup();
  await api?.stop();
});

describe('tkube-kubelet API through the API server, secured (kubectl ' + k.version + ')', { timeout: 120_000 }, () => {
  it('reports the port it serves in the Node', async () => {
    const n: Node = await admin.resource(Resources.nodes).get(nodeName);
    expect(n.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(10250);
    expect(n.status?.addresses).toContainEqual({ type: 'InternalIP', address: link.nodeIP });
  });

  it('kubectl logs', async () => {
    const r = await kubectl(['logs', 'web']);
    expect(r).toMatchObject({ code: 0, stdout: 'hello-from-pod\n' });
  });

  it('kubectl exec -- echo hi, and with stdin', async () => {
    expect(await kubectl(['exec', 'web', '--', 'echo', 'hi'])).toMatchObject({ code: 0, stdout: 'hi\n' });
    expect(await kubectl(['exec', '-i', 'web', '--', 'tr', 'a-z', 'A-Z'], { input: 'from stdin\n' })).toMatchObject({ code: 0, stdout: 'FROM STDIN\n' });
    const failed = await kubectl(['exec', 'web', '--', 'sh', '-c', 'exit 3']);
    expect(failed.code).toBe(3);
  });

  it('kubectl port-forward', async () => {
    const p = spawn(k.path, ['--kubeconfig', api.kubeconfigs.admin!, '-n', ns, 'port-forward', 'pod/web', ':8080', '--address', '127.0.0.1'], { env: { ...process.env, HOME: os.tmpdir() }, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(p);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('port-forward to listen', () => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.test(out), 20_000);
    const local = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)![1]);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${local}/index.html`);
      expect(await res.text()).toBe('served-by-pod\n');
    }
    p.kill('SIGINT');
  });

  it('kubectl top pod (metrics.k8s.io from the kubelet stats)', async () => {
    let r = { code: -1, stdout: '', stderr: '' };
    // The first summary of a new container has no CPU rate yet: metrics may take a moment.
    await waitFor('pod metrics', async () => (r = await kubectl(['top', 'pod', 'web'])).code === 0, 30_000, 1000).catch(() => {
      throw new Error(`kubectl top pod: ${r.stderr}`);
    });
    expect(r.stdout).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    expect(r.stdout).toMatch(/\nweb\s+\d+m\s+\d+Mi/);
  });

  it('kubectl get --raw through nodes/proxy', async () => {
    const r = await kubectl(['get', '--raw', `/api/v1/nodes/${nodeName}/proxy/pods`]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).items.map((p: Pod) => p.metadata.name)).toEqual(['web']);
  });
});

describe('tkube-kubelet API refuses who it must', { timeout: 60_000 }, () => {
  it('anonymous: 401 Unauthorized on /pods, /exec and /stats (its certificate is the node\'s, from the cluster CA)', async () => {
    expect(await kubeletGet('/pods')).toEqual({ status: 401, body: 'Unauthorized\n' });
    expect(await kubeletGet(`/containerLogs/${ns}/web/app`)).toEqual({ status: 401, body: 'Unauthorized\n' });
    expect(await kubeletGet('/stats/summary')).toEqual({ status: 401, body: 'Unauthorized\n' });
  });

  it('a token the API server does not know: 401', async () => {
    expect(await kubeletGet('/pods', { token: 'not-a-token-0123456789' })).toEqual({ status: 401, body: 'Unauthorized\n' });
  });

  it('a user without nodes/proxy (token checked by TokenReview, rights by SubjectAccessReview): 403 as upstream', async () => {
    expect(await kubeletGet('/pods', { token: api.tokens.bob })).toEqual({ status: 403, body: 'Forbidden (user=bob, verb=get, resource=nodes, subresource=proxy)\n' });
    expect(await kubeletGet('/stats/summary', { token: api.tokens.bob })).toEqual({ status: 403, body: 'Forbidden (user=bob, verb=get, resource=nodes, subresource=stats)\n' });
  });

  it('the API server\'s kubelet client certificate is allowed through system:kubelet-api-admin', async () => {
    const r = await kubeletGet('/pods', api.client('apiserver-kubelet-client'));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).items.map((p: Pod) => p.metadata.name)).toEqual(['web']);
  });

  it('a token user bound to system:kubelet-api-admin gets in', async () => {
    await admin.resource({ group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', listKind: 'ClusterRoleBindingList', namespaced: false }).create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `erin-kubelet-api-${randomSuffix()}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'erin' }],
    } as never);
    await eventually(async () => (await kubeletGet('/stats/summary', { token: api.tokens.erin })).status === 200, 45_000);
    const logs = await kubeletGet(`/containerLogs/${ns}/web/app`, { token: api.tokens.erin });
    expect(logs).toEqual({ status: 200, body: 'hello-from-pod\n' });
  });
});
