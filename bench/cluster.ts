/**
 * The whole cluster: a 40-replica Deployment across the two nodes of a tkube-lab (real Docker
 * containers, real kubelets, the real kubectl), from `kubectl apply` to all 40 pods Ready.
 *
 * Pod startup is upstream's SLI: per pod, from its creation to Ready. Two readings of it:
 * the pod's own timestamps (creationTimestamp → the Ready condition's lastTransitionTime, both
 * to the second, as the API stores them), and a watch opened before the apply (first seen →
 * first seen Ready, to the millisecond). The bar is upstream's SLO: p99 <= 5 s.
 *
 * With --kubeconfig the bench uses a running lab (or any two-node cluster with the local
 * images); without it, it brings up a lab of its own (root, Docker) and takes it down after.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import type { Pod } from '../lib/api/index.js';
import { containerCreateOptions, sandboxCreateOptions } from '../lib/kubelet/runtime/docker/docker-config.js';
import { busyboxImage, pauseImage } from '../hack/images/images.js';
import { loadClientConfig, Resources, RESTClient } from '../lib/client/index.js';
import { kubectls } from '../test/support/kubectl.js';
import { labStatus } from '../lib/lab/index.js';
import { freeLabNetwork, labRoot, labUnavailable, testLab } from '../test/support/lab.js';
import { cpuRows, cpuSnapshot } from './cpu.js';
import { percentile, progress, type Row } from './table.js';

const replicas = 40;
const sloMs = 5000;

function manifest(ns: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: bench
  namespace: ${ns}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: bench}
  template:
    metadata:
      labels: {app: bench}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: sleep
        image: tkube/busybox:1.36
        imagePullPolicy: Never
        command: ["sleep", "3600"]
`;
}

/**
 * Docker alone, the floor under the kubelet: on each node's engine, its share of the pods as a
 * pause container and an app container joined to it (the very create options the kubelet
 * sends), all at once, timed from the start to each app container started. No veth (the network
 * is the kubelet's own step, measured by the kubelet bench) and no labels the kubelet knows, so
 * the lab's kubelets leave these containers alone.
 */
async function dockerAlone(stateDir: string, hosts: string[], perNode: number): Promise<{ times: number[]; cpu: Row[] }> {
  const tag = `tkube-bench-${randomBytes(3).toString('hex')}`;
  const engines = hosts.map((h) => new Docker({ socketPath: path.join(stateDir, 'hosts', h, 'docker.sock') }));
  const cpuBefore = cpuSnapshot();
  const t0 = performance.now();
  try {
    const times = await Promise.all(
      engines.flatMap((docker, e) =>
        Array.from({ length: perNode }, async (_, i) => {
          const metadata = { uid: `${tag}-${e}-${i}`, namespace: 'bench', name: `${tag}-${e}-${i}`, attempt: 0 };
          // What the kubelet sends for a pod naming no seccomp profile: Unconfined, as upstream.
          const unconfined = { type: 'Unconfined' } as const;
          const sbOpts = { ...sandboxCreateOptions({ metadata, seccomp: unconfined }, pauseImage), name: `${tag}-pause-${e}-${i}`, Labels: { [tag]: 'sandbox' } };
          const sb = await docker.createContainer(sbOpts);
          await sb.start();
          const appOpts = containerCreateOptions({ id: sb.id, metadata, hostPID: false, shareProcessNamespace: false }, { metadata: { name: 'sleep', attempt: 0 }, image: busyboxImage, command: ['sleep', '3600'], security: { seccomp: unconfined } });
          const app = await docker.createContainer({ ...appOpts, name: `${tag}-app-${e}-${i}`, Labels: { [tag]: 'app' } });
          await app.start();
          return performance.now() - t0;
        }),
      ),
    );
    const cpu = cpuRows(cpuBefore, cpuSnapshot(), 'Docker alone (start → the last app container started)');
    return { times: times.sort((a, b) => a - b), cpu };
  } finally {
    for (const docker of engines) {
      const rows = await docker.listContainers({ all: true, filters: { label: [tag] } }).catch(() => []);
      rows.sort((a, b) => Number(a.Labels[tag] === 'sandbox') - Number(b.Labels[tag] === 'sandbox'));
      for (const r of rows) await docker.getContainer(r.Id).remove({ force: true }).catch(() => undefined);
    }
  }
}

const ready = (p: Pod) => (p.status?.conditions ?? []).find((c) => c.type === 'Ready' && c.status === 'True');

async function measure(kubeconfig: string, direct?: { times: number[]; cpu: Row[] }): Promise<Row[]> {
  const kubectl = kubectls()[0];
  if (!kubectl) throw new Error('the cluster bench needs a kubectl binary');
  const k = (args: string[], input?: string) => {
    const r = spawnSync(kubectl.path, [`--kubeconfig=${kubeconfig}`, ...args], { encoding: 'utf8', input, timeout: 120_000 });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}${r.error?.message ?? ''}`);
    return r.stdout;
  };
  const ns = `bench-cluster-${randomBytes(3).toString('hex')}`;
  const client = new RESTClient({ config: loadClientConfig({ kubeconfig }), component: 'bench', timeoutMs: 30_000 });
  k(['create', 'namespace', ns]);
  try {
    const until = async (what: string, f: () => Promise<boolean>, ms = 300_000) => {
      const end = Date.now() + ms;
      while (!(await f().catch(() => false))) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    // The pods' token volume needs the namespace's service account and root CA.
    await until(`the service account and kube-root-ca.crt in ${ns}`, async () => {
      await client.resource(Resources.serviceAccounts, ns).get('default');
      await client.resource(Resources.configMaps, ns).get('kube-root-ca.crt');
      return true;
    }, 60_000);
    const nodes = (await client.resource(Resources.nodes).list()).items.filter((n) => (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));
    const pods = client.resource(Resources.pods, ns);
    const firstSeen = new Map<string, number>();
    const boundSeen = new Map<string, number>();
    const readySeen = new Map<string, number>();
    const w = await pods.watch({ resourceVersion: (await pods.list()).metadata.resourceVersion });
    const watching = (async () => {
      for await (const ev of w) {
        if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
        const p = ev.object as Pod;
        const name = p.metadata!.name!;
        const at = performance.now();
        if (!firstSeen.has(name)) firstSeen.set(name, at);
        if (p.spec?.nodeName && !boundSeen.has(name)) boundSeen.set(name, at);
        if (ready(p) && !readySeen.has(name)) readySeen.set(name, at);
      }
    })();
    progress(`kubectl apply: a ${replicas}-replica Deployment in ${ns} over ${nodes.length} Ready nodes`);
    // The lab's units (each leads its process group), from its state folder, where its kubeconfig lives.
    const units = new Map(labStatus(path.dirname(kubeconfig), labRoot).rows.flatMap((r) => (r.pid ? [[`${r.component} (${r.host})`, r.pid] as const] : [])));
    const cpuBefore = cpuSnapshot(units);
    const start = performance.now();
    k(['apply', '-f', '-'], manifest(ns));
    await until(`${replicas} pods Ready`, async () => readySeen.size >= replicas);
    const cpuAfter = cpuSnapshot(units);
    const total = Math.max(...readySeen.values()) - start;
    w.stop();
    await watching;
    const list = (await pods.list()).items;
    const byNode = new Map<string, number>();
    for (const p of list) byNode.set(p.spec?.nodeName ?? '', (byNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
    progress(`pods per node: ${[...byNode].map(([n, c]) => `${n} ${c}`).join(', ')}`);
    const own = list.map((p) => Date.parse(ready(p)!.lastTransitionTime!) - Date.parse(p.metadata!.creationTimestamp!)).sort((a, b) => a - b);
    const watched = [...readySeen].map(([name, t]) => t - firstSeen.get(name)!).sort((a, b) => a - b);
    const bound = [...boundSeen].map(([name, t]) => t - firstSeen.get(name)!).sort((a, b) => a - b);
    const slo = (v: number) => ({ target: `p99 <= ${sloMs} ms (upstream SLO)`, ok: v <= sloMs });
    const floor = (q: number) => (direct ? { baseline: percentile(direct.times, q), baselineName: 'Docker alone, same pods' } : {});
    return [
      { name: `${replicas}-replica Deployment over ${byNode.size} nodes: kubectl apply → all ${replicas} pods Ready`, measured: total, unit: 'ms' },
      { name: 'pod startup, creationTimestamp → Ready condition (the pods\' own timestamps, 1 s resolution), p50', measured: percentile(own, 50), unit: 'ms' },
      { name: 'pod startup, creationTimestamp → Ready condition, p99', measured: percentile(own, 99), unit: 'ms', ...slo(percentile(own, 99)) },
      { name: 'pod startup, first seen → first seen Ready on a watch, p50', measured: percentile(watched, 50), unit: 'ms', ...floor(50) },
      { name: 'pod startup, first seen → first seen Ready on a watch, p99', measured: percentile(watched, 99), unit: 'ms', ...floor(99), ...slo(percentile(watched, 99)) },
      { name: 'of which first seen → bound to a node (the scheduler), p50', measured: percentile(bound, 50), unit: 'ms' },
      { name: 'of which first seen → bound to a node (the scheduler), p99', measured: percentile(bound, 99), unit: 'ms' },
      ...(direct?.cpu ?? []),
      ...cpuRows(cpuBefore, cpuAfter, 'kubectl apply → all Ready'),
    ];
  } finally {
    spawnSync(kubectl.path, [`--kubeconfig=${kubeconfig}`, 'delete', 'namespace', ns, '--wait=false'], { stdio: 'ignore', timeout: 60_000 });
    client.close();
  }
}

export async function benchCluster(opts: { kubeconfig: string }): Promise<Row[]> {
  if (opts.kubeconfig) return measure(opts.kubeconfig);
  const why = labUnavailable();
  if (why) {
    progress(`skipped: a lab ${why} (or pass --kubeconfig of a running one)`);
    return [];
  }
  const lab = testLab('tkb', freeLabNetwork());
  lab.stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-bench-cluster-'));
  try {
    progress(`tkube-lab up (${lab.prefix}, ${lab.network})`);
    const started = Date.now();
    const r = lab.run(['up', ...lab.flags(), '--timeout=180s'], 600_000);
    if (r.status !== 0) throw new Error(`tkube-lab up failed:\n${r.stdout}${r.stderr}`);
    progress(`lab up in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    progress(`Docker alone: ${replicas / 2} pause + app containers on each node's engine at once`);
    const direct = await dockerAlone(lab.stateDir, ['cp', 'worker'], replicas / 2);
    return await measure(path.join(lab.stateDir, 'admin.kubeconfig'), direct);
  } finally {
    progress('tkube-lab down');
    const r = lab.run(['down', ...lab.flags()], 180_000);
    if (r.status !== 0) process.stderr.write(`tkube-lab down failed:\n${r.stdout}${r.stderr}\n`);
    fs.rmSync(lab.stateDir, { recursive: true, force: true });
  }
}
