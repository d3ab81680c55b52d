/**
 * The whole control plane chain with the real programs working together, each its own process
 * against a real etcd and API server: tkube-controller-manager (every default controller, node
 * IPAM on), tkube-scheduler and tkube-simnode. A Deployment applied with the real kubectl becomes
 * a ReplicaSet, Pods, bindings and Running pods on the simulated nodes, with the Events of each
 * step; `kubectl rollout status` and `rollout undo` work on it. A simulated node whose process
 * dies stops heartbeating: it goes Unknown, is tainted unreachable, its pods are evicted after
 * their tolerationSeconds and replaced on a healthy node.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Event, Node, Pod } from '../../lib/api/index.js';
import { Resources, type RESTClient } from '../../lib/client/index.js';
import { CIDRSet } from '../../lib/controllers/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { clientFor } from '../support/cluster.js';
import { eventually, type Truthy } from '../support/controllers.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';
import { freePort } from '../support/ports.js';
import { ensureBuilt, startProgram, type RunningProgram } from '../support/programs.js';

let s: TestAPIServer;
let client: RESTClient;
let k: Kubectl;
const programs: RunningProgram[] = [];

/** Fails with the program's own log when it has exited on its own. */
function checkAlive(): void {
  for (const p of programs) if (p.proc.exitCode !== null) throw new Error(`${p.name} exited with ${p.proc.exitCode}:\n${p.stderr().slice(-3000)}`);
}

function until<T>(fn: () => T | Promise<T>, timeoutMs = 30_000): Promise<Truthy<T>> {
  return eventually(async () => {
    checkAlive();
    return fn();
  }, timeoutMs, 100);
}

function simnode(prefix: string, nodes: number): RunningProgram {
  // Leases every 500 ms stand for the kubelet's 10 s; status only on change.
  const p = startProgram('tkube-simnode', ['--kubeconfig', s.kubeconfig, '--nodes', String(nodes), '--node-name-prefix', prefix, '--node-lease-renew-interval', '500ms', '--cpu', '4', '--memory', '8Gi']);
  programs.push(p);
  return p;
}

beforeAll(async () => {
  await ensureBuilt(['tkube-controller-manager', 'tkube-scheduler', 'tkube-simnode']);
  s = await startAPIServer();
  client = clientFor(s);
  k = kubectls().at(-1)!;
  // The relations of the node lifecycle periods are the defaults' (5 s / 40 s), ten times faster.
  programs.push(
    startProgram('tkube-controller-manager', [
      '--kubeconfig', s.kubeconfig,
      '--leader-elect=false',
      '--secure-port', String(await freePort()),
      '--node-monitor-period', '500ms',
      '--node-monitor-grace-period', '4s',
      '--node-startup-grace-period', '6s',
      '--node-eviction-rate', '10',
      '--allocate-node-cidrs',
      '--cluster-cidr', '10.244.0.0/16',
    ]),
    startProgram('tkube-scheduler', ['--kubeconfig', s.kubeconfig, '--leader-elect=false', '--secure-port', String(await freePort())]),
  );
  simnode('sim-', 3);
  // Ready nodes lose the not-ready taint the API server registered them with (the node
  // lifecycle controller), and get a podCIDR each (node IPAM).
  await until(async () => {
    const nodes = (await client.resource(Resources.nodes).list()).items;
    return nodes.length === 3 && nodes.every((n) => !n.spec?.taints?.length && n.spec?.podCIDR);
  });
}, 180_000);

afterAll(async () => {
  for (const p of programs.reverse()) await p.stop();
  client?.close();
  await s?.stop();
});

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await runKubectl(k, s.kubeconfig, args, { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function deployment(name: string, ns: string, replicas: number, image: string, extraSpec = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
${extraSpec}      containers:
      - name: web
        image: ${image}
        resources:
          requests: {cpu: 100m, memory: 64Mi}
`;
}

async function namespace(name: string): Promise<string> {
  await client.resource(Resources.namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

const running = (p: Pod) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp;
const livePods = async (ns: string, app: string) => (await client.resource(Resources.pods, ns).list({ labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);
const eventsOf = async (ns: string, kind: string, name: string, reason: string): Promise<Event[]> =>
  (await client.resource(Resources.events, ns).list()).items.filter((e) => e.involvedObject.kind === kind && e.involvedObject.name === name && e.reason === reason);

describe('controller manager + scheduler + simulated nodes, as processes', () => {
  test('Deployment → ReplicaSet → Pods → bindings → Running, with the Events of each step; rollout status and undo with kubectl', async () => {
    const ns = await namespace('chain');
    await kubectl(['apply', '-f', '-'], deployment('web', ns, 4, 'nginx:1.27'));
    expect(await kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=90s'])).toContain('deployment "web" successfully rolled out');

    const [rs, ...others] = (await client.resource(Resources.replicaSets, ns).list()).items;
    expect(others).toEqual([]);
    expect(rs!.metadata.ownerReferences).toMatchObject([{ kind: 'Deployment', name: 'web', controller: true }]);
    const pods = await livePods(ns, 'web');
    expect(pods).toHaveLength(4);
    for (const p of pods) {
      expect(p.metadata.ownerReferences).toMatchObject([{ kind: 'ReplicaSet', name: rs!.metadata.name, controller: true }]);
      expect(p.spec!.nodeName).toMatch(/^sim-\d$/);
      expect(p.status).toMatchObject({ phase: 'Running' });
      expect(p.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
      // Admission did its part on the way: the service account token volume.
      expect(p.spec!.serviceAccountName).toBe('default');
      expect(p.spec!.volumes?.some((v) => v.name.startsWith('kube-api-access-'))).toBe(true);
    }
    // The default spreading put the four replicas on all three nodes.
    expect(new Set(pods.map((p) => p.spec!.nodeName)).size).toBe(3);

    // Each step left its Event, from its own component.
    const [scaled] = await until(() => eventsOf(ns, 'Deployment', 'web', 'ScalingReplicaSet').then((e) => e.length && e));
    expect(scaled!.message).toBe(`Scaled up replica set ${rs!.metadata.name} to 4`);
    expect(scaled!.source?.component).toBe('deployment-controller');
    const created = await until(() => eventsOf(ns, 'ReplicaSet', rs!.metadata.name!, 'SuccessfulCreate').then((e) => e.length && e));
    expect(created.reduce((n, e) => n + (e.count ?? 1), 0)).toBe(4);
    expect(created[0]!.source?.component).toBe('replicaset-controller');
    for (const p of pods) {
      const [scheduled] = await until(() => eventsOf(ns, 'Pod', p.metadata.name!, 'Scheduled').then((e) => e.length && e));
      expect(scheduled!.message).toBe(`Successfully assigned ${ns}/${p.metadata.name} to ${p.spec!.nodeName}`);
      expect(scheduled!.source?.component ?? scheduled!.reportingComponent).toBe('default-scheduler');
    }
    // kubectl describe shows the chain too.
    expect(await kubectl(['describe', 'deployment', 'web', '-n', ns])).toMatch(/ScalingReplicaSet\s+.*deployment-controller\s+Scaled up replica set web-\w+ to 4/);

    // A rolling update to a new image, then back with rollout undo.
    await kubectl(['set', 'image', 'deployment/web', 'web=nginx:1.28', '-n', ns]);
    expect(await kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=90s'])).toContain('successfully rolled out');
    const updated = await livePods(ns, 'web');
    expect(updated.filter(running).map((p) => p.spec!.containers[0]!.image)).toEqual(Array(4).fill('nginx:1.28'));
    expect(await kubectl(['rollout', 'history', 'deployment/web', '-n', ns])).toMatch(/REVISION\s+CHANGE-CAUSE\s+1\s+<none>\s+2\s+<none>/);

    expect(await kubectl(['rollout', 'undo', 'deployment/web', '-n', ns])).toContain('deployment.apps/web rolled back');
    expect(await kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=90s'])).toContain('successfully rolled out');
    // Old pods of revision 2 may still be terminating; the live ones run the first image again, in the first ReplicaSet.
    await until(async () => {
      const now = await livePods(ns, 'web');
      return now.length === 4 && now.every((p) => running(p) && p.spec!.containers[0]!.image === 'nginx:1.27' && p.metadata.ownerReferences![0]!.name === rs!.metadata.name);
    });
    const back = await client.resource(Resources.replicaSets, ns).get(rs!.metadata.name!);
    expect(back.metadata.annotations!['deployment.kubernetes.io/revision']).toBe('3');
    expect(back.status).toMatchObject({ replicas: 4, readyReplicas: 4, availableReplicas: 4 });
    const d = await client.resource(Resources.deployments, ns).get('web');
    expect(d.status).toMatchObject({ replicas: 4, updatedReplicas: 4, readyReplicas: 4, availableReplicas: 4, observedGeneration: d.metadata.generation });
  }, 300_000);

  test('a simulated node that dies goes Unknown and is tainted unreachable; its pods are evicted after their tolerationSeconds and replaced on healthy nodes', async () => {
    const ns = await namespace('failover');
    const nodes = client.resource(Resources.nodes);
    // The pods can only land on the node that will die: the healthy ones are cordoned first.
    const doomed = simnode('doomed-', 1);
    await until(async () => {
      const n = await nodes.get('doomed-0').catch(() => undefined);
      return n && !n.spec?.taints?.length;
    });
    for (const n of ['sim-0', 'sim-1', 'sim-2']) await kubectl(['cordon', n]);
    // Short tolerations of the NoExecute taints in place of the 300 s ones admission would add.
    const tolerations = `      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 3}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 3}
`;
    await kubectl(['apply', '-f', '-'], deployment('api', ns, 2, 'nginx:1.27', tolerations));
    await kubectl(['rollout', 'status', 'deployment/api', '-n', ns, '--timeout=90s']);
    const first = await livePods(ns, 'api');
    expect(first.map((p) => p.spec!.nodeName)).toEqual(['doomed-0', 'doomed-0']);
    expect(first[0]!.spec!.tolerations!.filter((t) => t.effect === 'NoExecute').map((t) => t.tolerationSeconds)).toEqual([3, 3]);
    for (const n of ['sim-0', 'sim-1', 'sim-2']) await kubectl(['uncordon', n]);

    // The node's kubelet (here its simnode process) dies without a word.
    await doomed.kill();
    const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready');
    const lost = await until(async () => {
      const n = await nodes.get('doomed-0');
      return ready(n)?.status === 'Unknown' && n;
    });
    expect(ready(lost)).toMatchObject({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    const tainted = await until(async () => {
      const n = await nodes.get('doomed-0');
      return n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') && n;
    });
    expect(tainted.spec!.taints!.map((t) => `${t.key}:${t.effect}`).sort()).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    const taintedAt = Date.parse(tainted.spec!.taints!.find((t) => t.effect === 'NoExecute')!.timeAdded!);

    // After the 3 s of toleration, both pods are evicted (deleted; no kubelet will confirm)...
    const evicted = await until(async () => {
      const ps = await Promise.all(first.map((p) => client.resource(Resources.pods, ns).get(p.metadata.name!)));
      return ps.every((p) => p.metadata.deletionTimestamp) && ps;
    });
    for (const p of evicted) {
      const disruption = p.status!.conditions!.find((c) => c.type === 'DisruptionTarget')!;
      expect(disruption).toMatchObject({ status: 'True', reason: 'DeletionByTaintManager' });
      // The server's own timestamps (whole seconds): the eviction came the 3 s of toleration after the taint.
      expect(Date.parse(disruption.lastTransitionTime!) - taintedAt).toBeGreaterThanOrEqual(2000);
      expect(await eventsOf(ns, 'Pod', p.metadata.name!, 'TaintManagerEviction')).not.toEqual([]);
    }
    // ...and the ReplicaSet's replacements run on the healthy nodes; the deployment is whole again.
    const replacements = await until(async () => {
      const now = await livePods(ns, 'api');
      return now.length === 2 && now.every(running) && now;
    }, 60_000);
    for (const p of replacements) {
      expect(first.map((f) => f.metadata.name)).not.toContain(p.metadata.name);
      expect(p.spec!.nodeName).toMatch(/^sim-\d$/);
    }
    expect(await kubectl(['rollout', 'status', 'deployment/api', '-n', ns, '--timeout=60s'])).toContain('successfully rolled out');
    expect(await kubectl(['get', 'node', 'doomed-0'])).toMatch(/doomed-0\s+NotReady/);
  }, 300_000);

  test('every node, the late one too, has its own podCIDR from the cluster CIDR', async () => {
    const nodes = (await client.resource(Resources.nodes).list()).items;
    expect(nodes.length).toBeGreaterThanOrEqual(3);
    const set = new CIDRSet('10.244.0.0/16', 24);
    for (const n of nodes) {
      expect(set.isUsed(n.spec!.podCIDR!)).toBe(false);
      set.occupy(n.spec!.podCIDR!);
    }
  });
});
