/**
 * One node as a cluster runs it, for the e2e tests of the kubelet's secured API: the secured
 * API server (client certificates, the kubelet client certificate, InternalIP first), a
 * tkube-kubelet in its own network namespace that talks to it through the relay with its node
 * certificate, serves :10250 with its serving certificate and authenticates and authorizes
 * callers through the API server (webhook), Ready with a podCIDR; and a namespace with its
 * default service account for the test's pods.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Resources, RESTClient } from '../../lib/client/index.js';
import { kubeconfigYAML } from '../../lib/pki/index.js';
import { busyboxImage, ensureTestImages, pauseImage } from '../../hack/images/images.js';
import { relayPort, TestKubeletNode, type HostLink } from './kubelet-node.js';
import { waitFor } from './node-host.js';
import { startSecureAPIServer, type SecureTestServer } from './secure.js';

export interface SecuredNode {
  api: SecureTestServer;
  /** A client with no rate limit, through the insecure test port. */
  admin: RESTClient;
  node: TestKubeletNode;
}

export async function startSecuredKubeletNode(o: { nodeName: string; link: HostLink; podCIDR: string; namespace: string }): Promise<SecuredNode> {
  await ensureTestImages([pauseImage, busyboxImage]);
  const api = await startSecureAPIServer({ nodes: [{ name: o.nodeName, addresses: [o.link.nodeIP] }], withKubeletClientCertificate: true, kubeletPreferredAddressTypes: ['InternalIP'] });
  const admin = new RESTClient({ config: { server: api.url, source: 'test', namespace: 'default' }, qps: 0 });
  // The relay in the node's namespace carries TLS through to the secure port.
  const node = new TestKubeletNode(api.secureURL, o.nodeName, o.link);
  try {
    await node.setUp();
    await startAndRegister(api, admin, node, o);
  } catch (err) {
    // The caller never gets these to clean up: leave no namespace, engine or server behind.
    await node.cleanup().catch(() => {});
    await api.stop().catch(() => {});
    throw err;
  }
  return { api, admin, node };
}

async function startAndRegister(api: SecureTestServer, admin: RESTClient, node: TestKubeletNode, o: { nodeName: string; podCIDR: string; namespace: string }): Promise<void> {
  const pki = (f: string) => path.join(api.pkiDir, f);
  fs.writeFileSync(
    node.kubeconfig,
    kubeconfigYAML({
      clusterName: 'tkube-test',
      server: `https://127.0.0.1:${relayPort}`,
      caPEM: api.caPEM,
      user: `system:node:${o.nodeName}`,
      certPEM: fs.readFileSync(pki(`kubelet-${o.nodeName}.crt`), 'utf8'),
      keyPEM: fs.readFileSync(pki(`kubelet-${o.nodeName}.key`), 'utf8'),
    }),
    { mode: 0o600 },
  );
  node.startKubelet({
    args: [
      '--cluster-dns=10.96.0.10',
      `--client-ca-file=${pki('ca.crt')}`,
      '--anonymous-auth=false',
      '--authentication-token-webhook',
      '--authorization-mode=Webhook',
      `--tls-cert-file=${pki(`kubelet-${o.nodeName}-serving.crt`)}`,
      `--tls-private-key-file=${pki(`kubelet-${o.nodeName}-serving.key`)}`,
    ],
  });
  const nodes = admin.resource(Resources.nodes);
  await waitFor('the node to register', async () => !!(await nodes.get(o.nodeName).catch(() => undefined)), 60_000, 200).catch((err) => {
    throw new Error(`${(err as Error).message}\nkubelet: ${node.output.slice(-15).join('\n')}`);
  });
  await nodes.patch(o.nodeName, 'merge', { spec: { podCIDR: o.podCIDR, podCIDRs: [o.podCIDR] } });
  await waitFor('the node to be Ready', async () => (await nodes.get(o.nodeName)).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', 60_000, 200);
  await admin.resource(Resources.namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace } });
  await admin.resource(Resources.serviceAccounts, o.namespace).create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
}
