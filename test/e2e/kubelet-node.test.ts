/**
 * tkube-kubelet's node side for real: the program registers its Node, renews its Lease, waits
 * for spec.podCIDR (set here by hand, as node IPAM would), then sets up cbr0 and turns Ready;
 * it routes other nodes' pod ranges and runs static pods with mirror pods.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lease, Node, Pod } from '../../lib/api/index.js';
import { Resources, RESTClient } from '../../lib/client/index.js';
import { busyboxImage, ensureTestImages, pauseImage } from '../../hack/images/images.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { TestKubeletNode } from '../support/kubelet-node.js';
import { waitFor } from '../support/node-host.js';
import fs from 'node:fs/promises';
import path from 'node:path';

let api: TestAPIServer;
let client: RESTClient;
let node: TestKubeletNode;

const condition = (n: Node | undefined, type: string) => n?.status?.conditions?.find((c) => c.type === type);

beforeAll(async () => {
  await ensureTestImages([pauseImage, busyboxImage]);
  api = await startAPIServer();
  client = new RESTClient({ config: { server: api.url, source: 'test', namespace: 'default' }, qps: 0 });
  node = new TestKubeletNode(api.url);
  await node.setUp();
  node.startKubelet({ args: ['--node-status-update-frequency=1s'] });
});

afterAll(async () => {
  await node?.cleanup();
  await api?.stop();
});

describe('tkube-kubelet: the node', { timeout: 120_000 }, () => {
  it('registers its Node with capacity, addresses, system info and images, NotReady until it has a podCIDR', async () => {
    const nodes = client.resource(Resources.nodes);
    let n: Node | undefined;
    await waitFor('the node to register with conditions', async () => {
      n = await nodes.get(node.nodeName).catch(() => undefined);
      return !!condition(n, 'Ready');
    }, 30_000, 200);
    expect(n!.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': node.nodeName, 'kubernetes.io/os': 'linux' });
    const st = n!.status!;
    expect(Number(st.capacity!.cpu)).toBeGreaterThan(0);
    expect(st.capacity!.memory).toMatch(/^\d+Ki$/);
    expect(st.capacity!.pods).toBe('110');
    expect(st.allocatable!.pods).toBe('110');
    expect(st.addresses).toEqual([
      { type: 'InternalIP', address: '192.0.2.10' },
      { type: 'Hostname', address: node.nodeName },
    ]);
    expect(st.daemonEndpoints?.kubeletEndpoint?.Port).toBe(10250);
    expect(st.nodeInfo?.containerRuntimeVersion).toMatch(/^docker:\/\/20\.10\./);
    expect(st.nodeInfo?.kubeletVersion).toMatch(/^v1\./);
    expect(st.nodeInfo?.operatingSystem).toBe('linux');
    expect(st.nodeInfo?.kernelVersion).not.toBe('');
    expect(st.images?.some((i) => i.names?.includes(pauseImage))).toBe(true);
    expect(condition(n, 'Ready')).toMatchObject({ status: 'False', reason: 'KubeletNotReady' });
    expect(condition(n, 'NetworkUnavailable')).toMatchObject({ status: 'True' });
    expect(condition(n, 'MemoryPressure')).toMatchObject({ status: 'False', reason: 'KubeletHasSufficientMemory' });
    expect(condition(n, 'DiskPressure')).toMatchObject({ status: 'False', reason: 'KubeletHasNoDiskPressure' });
    expect(condition(n, 'PIDPressure')).toMatchObject({ status: 'False', reason: 'KubeletHasSufficientPID' });
  });

  it('renews its Lease in kube-node-lease', async () => {
    const leases = client.resource(Resources.leases, 'kube-node-lease');
    let first: Lease | undefined;
    await waitFor('the lease', async () => !!(first = await leases.get(node.nodeName).catch(() => undefined)), 20_000, 200);
    expect(first!.spec).toMatchObject({ holderIdentity: node.nodeName, leaseDurationSeconds: 40 });
    expect(first!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: node.nodeName });
    await waitFor('a renewal', async () => (await leases.get(node.nodeName)).spec!.renewTime !== first!.spec!.renewTime, 15_000, 500);
  });

  it('sets up cbr0 once spec.podCIDR is set, then turns Ready', async () => {
    await client.resource(Resources.nodes).patch(node.nodeName, 'merge', { spec: { podCIDR: '10.244.7.0/24', podCIDRs: ['10.244.7.0/24'] } });
    await waitFor('Ready', async () => condition(await client.resource(Resources.nodes).get(node.nodeName), 'Ready')?.status === 'True', 20_000, 200);
    const n = await client.resource(Resources.nodes).get(node.nodeName);
    expect(condition(n, 'Ready')).toMatchObject({ reason: 'KubeletReady', message: 'kubelet is posting ready status' });
    expect(condition(n, 'NetworkUnavailable')).toMatchObject({ status: 'False', reason: 'RouteCreated' });
    const br = JSON.parse((await node.netns.runner.run(['ip', '-j', 'addr', 'show', 'dev', 'cbr0'])).stdout)[0];
    expect(br.addr_info.filter((a: { family: string }) => a.family === 'inet').map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`)).toEqual(['10.244.7.1/24']);
    const nat = (await node.netns.runner.run(['iptables', '-w', '-t', 'nat', '-S', 'TKUBE-POSTROUTING'])).stdout;
    expect(nat).toContain('-s 10.244.0.0/16 ! -d 10.244.0.0/16');
  });

  it('routes the pod ranges of other nodes via their InternalIPs', async () => {
    const nodes = client.resource(Resources.nodes);
    await nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: `other-${node.id}` }, spec: { podCIDR: '10.244.8.0/24' } });
    await nodes.patch(`other-${node.id}`, 'merge', { status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] } }, { subresource: 'status' });
    await waitFor('a route to the other node', async () => (await node.netns.runner.run(['ip', 'route', 'show', '10.244.8.0/24'])).stdout.includes('via 192.0.2.11'), 15_000, 200);
    await nodes.delete(`other-${node.id}`);
    await waitFor('the route to go', async () => (await node.netns.runner.run(['ip', 'route', 'show', '10.244.8.0/24'])).stdout.trim() === '', 15_000, 200);
  });

  it('runs a static pod from the manifest folder and mirrors it into the API server', async () => {
    await fs.writeFile(
      path.join(node.manifestDir, 'static-web.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\n  labels: {app: static}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: web\n    image: ${busyboxImage}\n    command: [sleep, '3600']\n`,
    );
    const pods = client.resource(Resources.pods, 'default');
    const name = `static-web-${node.nodeName}`;
    let mirror: Pod | undefined;
    await waitFor('the mirror pod Running', async () => (mirror = await pods.get(name).catch(() => undefined))?.status?.phase === 'Running', 40_000, 250);
    expect(mirror!.metadata.annotations?.['kubernetes.io/config.mirror']).toBeTruthy();
    expect(mirror!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: node.nodeName });
    expect(mirror!.status?.podIP).toMatch(/^10\.244\.7\./);
    // The mirror pod deleted by hand comes back; the static pod keeps running.
    const before = mirror!.metadata.uid;
    await pods.delete(name, { gracePeriodSeconds: 0 });
    await waitFor('the mirror pod to come back', async () => {
      const m = await pods.get(name).catch(() => undefined);
      return !!m && m.metadata.uid !== before && m.status?.phase === 'Running';
    }, 30_000, 250);
    // The manifest removed: the pod stops and its mirror goes.
    await fs.rm(path.join(node.manifestDir, 'static-web.yaml'));
    await waitFor('the mirror pod to be deleted', async () => !(await pods.get(name).catch(() => undefined)), 40_000, 250);
    await waitFor('the static pod containers to be removed', async () => (await node.containers()).every((c) => c.Labels['io.kubernetes.pod.name'] !== name), 30_000, 250);
  });

  it('serves /healthz and /metrics on 127.0.0.1:10248 in its namespace', async () => {
    const get = async (p: string) => (await node.netns.runner.run(['curl', '-s', '-w', '\n%{http_code}', `http://127.0.0.1:10248${p}`])).stdout;
    expect(await get('/healthz')).toBe('ok\n200');
    const metrics = await get('/metrics');
    expect(metrics).toMatch(/^kubelet_pleg_relist_duration_seconds_count \d+$/m);
    expect(metrics).toMatch(/^kubelet_running_pods \d+$/m);
    expect(metrics).toMatch(/^kubelet_running_containers\{container_state="running"\} \d+$/m);
    // The static pod above started once.
    expect(metrics).toMatch(/^kubelet_pod_start_duration_seconds_count [1-9]\d*$/m);
    expect(metrics).toMatch(/^kubelet_started_containers_total [1-9]\d*$/m);
  });
});
