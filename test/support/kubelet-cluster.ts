/**
 * A one-node cluster for kubelet end-to-end tests: a test API server, one TestKubeletNode with
 * its podCIDR set (as node IPAM would) and a namespace of its own; helpers to create pods bound
 * to the node and to wait on what the kubelet reports.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Event, Pod } from '../../lib/api/index.js';
import { Resources, RESTClient, type ResourceClient } from '../../lib/client/index.js';
import { busyboxImage, ensureTestImages, pauseImage } from '../../hack/images/images.js';
import { startAPIServer, type TestAPIServer } from './apiserver.js';
import { TestKubeletNode, type KubeletProcessOptions } from './kubelet-node.js';
import { waitFor } from './node-host.js';

export { busyboxImage, pauseImage };

export class KubeletTestCluster {
  api!: TestAPIServer;
  client!: RESTClient;
  node!: TestKubeletNode;
  namespace!: string;
  pods!: ResourceClient<Pod>;
  private keyDir?: string;

  constructor(private readonly podCIDR = '10.244.3.0/24') {}

  async setUp(o: KubeletProcessOptions = {}): Promise<void> {
    await ensureTestImages([pauseImage, busyboxImage]);
    // A signing key, so that the ServiceAccount admission's token volume can be filled.
    this.keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-kubelet-sa-'));
    const keyFile = path.join(this.keyDir, 'sa.key');
    fs.writeFileSync(keyFile, crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    this.api = await startAPIServer({ serviceAccountSigningKeyFile: keyFile });
    this.client = new RESTClient({ config: { server: this.api.url, source: 'test', namespace: 'default' }, qps: 0 });
    this.node = new TestKubeletNode(this.api.url);
    await this.node.setUp();
    this.namespace = `e2e-${this.node.id}`;
    await this.client.resource(Resources.namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespace } });
    this.pods = this.client.resource(Resources.pods, this.namespace);
    // What the controller manager's root CA publisher does in a cluster (none runs here).
    await this.client.resource(Resources.configMaps, this.namespace).create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-root-ca.crt' },
      data: { 'ca.crt': '-----BEGIN CERTIFICATE-----\n(test cluster: no CA)\n-----END CERTIFICATE-----\n' },
    });
    this.node.startKubelet({ ...o, args: ['--cluster-dns=10.96.0.10', ...(o.args ?? [])] });
    await this.waitForNode();
  }

  /** Waits for the Node, then gives it its podCIDR and waits for Ready. */
  async waitForNode(): Promise<void> {
    const nodes = this.client.resource(Resources.nodes);
    await waitFor('the node to register', async () => !!(await nodes.get(this.node.nodeName).catch(() => undefined)), 30_000, 200);
    const n = await nodes.get(this.node.nodeName);
    if (!n.spec?.podCIDR) await nodes.patch(this.node.nodeName, 'merge', { spec: { podCIDR: this.podCIDR, podCIDRs: [this.podCIDR] } });
    await waitFor('the node to be Ready', async () => (await nodes.get(this.node.nodeName)).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', 30_000, 200);
  }

  async cleanup(): Promise<void> {
    await this.node?.cleanup();
    await this.api?.stop();
    if (this.keyDir) fs.rmSync(this.keyDir, { recursive: true, force: true });
  }

  /** Creates a pod bound to the node (spec.nodeName set, no scheduler needed). */
  async createPod(name: string, spec: Partial<NonNullable<Pod['spec']>>, meta: Partial<Pod['metadata']> = {}): Promise<Pod> {
    return this.pods.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, ...meta },
      spec: { nodeName: this.node.nodeName, terminationGracePeriodSeconds: 2, containers: [], ...spec },
    });
  }

  /** Polls the pod until `check` holds; returns the pod. The error names the last state seen. */
  async waitForPod(name: string, what: string, check: (p: Pod) => boolean, timeoutMs = 60_000): Promise<Pod> {
    let last: Pod | undefined;
    try {
      await waitFor(`pod ${name}: ${what}`, async () => {
        last = await this.pods.get(name).catch(() => undefined);
        return !!last && check(last);
      }, timeoutMs, 200);
    } catch (err) {
      const events = (await this.events(name).catch(() => [])).map((e) => `${e.type} ${e.reason}: ${e.message}`);
      throw new Error(`${(err as Error).message}\nlast status: ${JSON.stringify(last?.status, null, 1)?.slice(0, 3000)}\nevents:\n${events.join('\n')}\nkubelet errors: ${this.node.output.filter((l) => /"level":(40|50|60)/.test(l)).slice(-10).join('\n')}`);
    }
    return last!;
  }

  waitRunning(name: string, timeoutMs = 60_000): Promise<Pod> {
    return this.waitForPod(name, 'Running', (p) => p.status?.phase === 'Running', timeoutMs);
  }

  /** Events about a pod (all of them, any source). */
  async events(name: string): Promise<Event[]> {
    const list = await this.client.resource(Resources.events, this.namespace).list();
    return list.items.filter((e) => e.involvedObject.name === name);
  }

  async waitForEvent(name: string, reason: string, message?: RegExp, timeoutMs = 30_000): Promise<Event> {
    let found: Event | undefined;
    await waitFor(`event ${reason} for pod ${name}`, async () => {
      found = (await this.events(name)).find((e) => e.reason === reason && (!message || message.test(e.message ?? '')));
      return !!found;
    }, timeoutMs, 250);
    return found!;
  }

  /** The Docker id of a pod's container (newest instance) from its status. */
  containerID(p: Pod, name: string): string {
    const cs = [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])].find((c) => c.name === name);
    return (cs?.containerID ?? '').replace('docker://', '');
  }
}
