/**
 * Pod startup through tkube-kubelet against Docker doing the same work directly.
 *
 *   kubelet   pods created through the API server, bound to the node (spec.nodeName set, no
 *             scheduler); creation (the POST) to Running as seen on a watch. The real program
 *             runs in a network namespace of its own, as in the e2e tests.
 *   direct    the same pause + app container per pod, with the same bridge/veth/IPAM setup,
 *             through the runtime and network modules from this process, at the same
 *             parallelism, in another network namespace.
 *
 * Two shapes: N pods created at once (p50 and p99 against the direct path at N in parallel),
 * and pods created one per second (each must be Running within 1s at p99).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import type { Pod } from '../lib/api/index.js';
import { silentLogger } from '../lib/base/index.js';
import { Resources, RESTClient } from '../lib/client/index.js';
import { DockerRuntime, ProcessCommandRunner, PodNetwork } from '../lib/kubelet/index.js';
import { busyboxImage, ensureTestImages, pauseImage } from '../hack/images/images.js';
import { startEtcd } from '../test/support/etcd.js';
import { TestKubeletNode } from '../test/support/kubelet-node.js';
import { createTestNetns, randomSuffix, waitFor } from '../test/support/node-host.js';
import { freePort } from '../test/support/ports.js';
import { percentile, progress, type Row } from './table.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const benchLabel = 'io.tkube.bench';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startAPIServerProcess(endpoints: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [path.join(root, 'dist/cmd/tkube-apiserver/main.js'), `--etcd-servers=${endpoints.join(',')}`, `--insecure-port=${port}`, '--secure-port=0'], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, TKUBE_LOG_LEVEL: 'warn' },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return { url, proc };
    await sleep(100);
  }
  proc.kill('SIGKILL');
  throw new Error('tkube-apiserver did not start');
}

/** Latencies (ms) of the direct path: sandbox, network, app container, `n` pods at once. */
async function directStartup(rt: DockerRuntime, net: PodNetwork, run: string, n: number, offset: number): Promise<number[]> {
  const t0 = performance.now();
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const meta = { uid: `bench-${run}-${offset + i}`, namespace: 'bench', name: `direct-${offset + i}`, attempt: 0 };
      // As the kubelet asks for a pod that names no seccomp profile: Unconfined (upstream's default).
      const sb = await rt.createSandbox({ metadata: meta, labels: { [benchLabel]: run }, seccomp: { type: 'Unconfined' } });
      await rt.startSandbox(sb);
      const { pid } = await rt.inspectSandbox(sb);
      await net.setUpPod({ uid: meta.uid, namespace: meta.namespace, name: meta.name }, { id: sb, pid: pid! });
      const c = await rt.createContainer(sb, { metadata: { name: 'app', attempt: 0 }, image: busyboxImage, command: ['sleep', '3600'], labels: { [benchLabel]: run }, security: { seccomp: { type: 'Unconfined' } } });
      await rt.startContainer(c);
      return performance.now() - t0;
    }),
  );
}

async function removeLabelled(docker: Docker, label: string, value: string): Promise<void> {
  const rows = await docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
  rows.sort((a, b) => Number(a.Labels['io.kubernetes.docker.type'] === 'podsandbox') - Number(b.Labels['io.kubernetes.docker.type'] === 'podsandbox'));
  await Promise.all(rows.map((r) => docker.getContainer(r.Id).remove({ force: true, v: true }).catch(() => undefined)));
}

function benchPod(name: string, node: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench' } },
    // No service account token volume: the direct path mounts none either, so both start the same pod.
    spec: { nodeName: node, terminationGracePeriodSeconds: 0, automountServiceAccountToken: false, containers: [{ name: 'app', image: busyboxImage, command: ['sleep', '3600'] }] },
  };
}

export async function benchKubelet(opts: { quick: boolean }): Promise<Row[]> {
  const burst = opts.quick ? 10 : 30;
  const paced = opts.quick ? 5 : 15;
  const run = randomSuffix();
  const docker = new Docker();
  const rows: Row[] = [];
  await ensureTestImages([pauseImage, busyboxImage]);

  // ---- direct path ------------------------------------------------------------------------------
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), `tkube-bench-${run}-`));
  const netns = await createTestNetns(`tkube-bench-${run}`);
  const rt = new DockerRuntime({ log: silentLogger(), docker });
  let directBurst: number[];
  const directPaced: number[] = [];
  try {
    const net = new PodNetwork({ runner: new ProcessCommandRunner({ netnsPath: netns.path }), log: silentLogger(), podCIDR: '10.245.0.0/24', clusterCIDR: '10.245.0.0/16', ipamDir: path.join(tmp, 'ipam') });
    await net.ensureNode();
    progress(`direct: ${burst} pause + app containers with veth setup at once`);
    directBurst = (await directStartup(rt, net, run, burst, 0)).sort((a, b) => a - b);
    await removeLabelled(docker, benchLabel, run);
    await net.garbageCollect([]);
    progress(`direct: ${paced} pods one at a time`);
    for (let i = 0; i < paced; i++) {
      directPaced.push(...(await directStartup(rt, net, run, 1, 1000 + i)));
      await sleep(200);
    }
    directPaced.sort((a, b) => a - b);
  } finally {
    await removeLabelled(docker, benchLabel, run);
    await netns.remove();
  }

  // ---- through the kubelet ----------------------------------------------------------------------
  const etcd = await startEtcd();
  let server: { url: string; proc: ChildProcess } | undefined;
  let node: TestKubeletNode | undefined;
  try {
    server = await startAPIServerProcess(etcd.endpoints);
    const client = new RESTClient({ config: { server: server.url, source: 'bench', namespace: 'default' }, qps: 0 });
    node = new TestKubeletNode(server.url, `bench-${run}`);
    await node.setUp();
    node.startKubelet({ args: ['--cluster-dns=10.96.0.10'], logLevel: 'warn' });
    const nodes = client.resource(Resources.nodes);
    await waitFor('the node to register', async () => !!(await nodes.get(node!.nodeName).catch(() => undefined)), 60_000, 200);
    await nodes.patch(node.nodeName, 'merge', { spec: { podCIDR: '10.244.9.0/24', podCIDRs: ['10.244.9.0/24'] } });
    await waitFor('the node to be Ready', async () => (await nodes.get(node!.nodeName)).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true, 60_000, 200);
    const pods = client.resource(Resources.pods, 'default');

    const created = new Map<string, number>();
    const runningAt = new Map<string, number>();
    const w = await pods.watch({ labelSelector: 'app=bench' });
    const watching = (async () => {
      for await (const ev of w) {
        if (ev.type === 'ERROR') continue;
        const name = ev.object.metadata.name!;
        if (ev.object.status?.phase === 'Running' && !runningAt.has(name)) runningAt.set(name, performance.now());
      }
    })();
    const latency = (names: string[]) => names.map((n) => runningAt.get(n)! - created.get(n)!).sort((a, b) => a - b);
    const removeAll = async (names: string[]) => {
      await Promise.all(names.map((n) => pods.delete(n, { gracePeriodSeconds: 0 }).catch(() => undefined)));
      await waitFor('the kubelet to remove the pods', async () => (await node!.containers()).length === 0, 120_000, 500);
    };

    progress(`kubelet: ${burst} pods created at once`);
    const burstNames = Array.from({ length: burst }, (_, i) => `burst-${i}`);
    await Promise.all(
      burstNames.map(async (n) => {
        created.set(n, performance.now());
        await pods.create(benchPod(n, node!.nodeName));
      }),
    );
    await waitFor(`${burst} pods Running`, () => burstNames.every((n) => runningAt.has(n)), 180_000, 50);
    const kubeletBurst = latency(burstNames);
    await removeAll(burstNames);

    progress(`kubelet: ${paced} pods, one per second`);
    const pacedNames = Array.from({ length: paced }, (_, i) => `paced-${i}`);
    for (const n of pacedNames) {
      created.set(n, performance.now());
      await pods.create(benchPod(n, node.nodeName));
      await sleep(1000);
    }
    await waitFor(`${paced} pods Running`, () => pacedNames.every((n) => runningAt.has(n)), 60_000, 50);
    const kubeletPaced = latency(pacedNames);
    await removeAll(pacedNames);
    w.stop();
    await watching;

    const ratio = (a: number, b: number) => a / b;
    const p50 = percentile(kubeletBurst, 50);
    const p99 = percentile(kubeletBurst, 99);
    rows.push({ name: `${burst} pods at once, creation → Running, p50`, measured: p50 / 1000, unit: 's', baseline: percentile(directBurst, 50) / 1000, baselineName: 'Docker + veth directly', target: 'ratio <= 1.50', ok: ratio(p50, percentile(directBurst, 50)) <= 1.5 });
    rows.push({ name: `${burst} pods at once, creation → Running, p99`, measured: p99 / 1000, unit: 's', baseline: percentile(directBurst, 99) / 1000, baselineName: 'Docker + veth directly', target: 'ratio <= 1.50', ok: ratio(p99, percentile(directBurst, 99)) <= 1.5 });
    rows.push({ name: `one pod per second (${paced}), creation → Running, p50`, measured: percentile(kubeletPaced, 50) / 1000, unit: 's', baseline: percentile(directPaced, 50) / 1000, baselineName: 'Docker + veth directly' });
    rows.push({ name: `one pod per second (${paced}), creation → Running, p99`, measured: percentile(kubeletPaced, 99) / 1000, unit: 's', baseline: percentile(directPaced, 99) / 1000, baselineName: 'Docker + veth directly', target: 'measured <= 1 s', ok: percentile(kubeletPaced, 99) <= 1000 });
  } finally {
    await node?.cleanup();
    server?.proc.kill('SIGTERM');
    await etcd.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return rows;
}
