/**
 * Deployment → ReplicaSet → Pod against the real API server and etcd, driven with the real
 * kubectl: rollout status, history, undo, restart, pause/resume, Recreate, the invariants of
 * a rolling update, and the events `kubectl describe` shows.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Pod } from '../../lib/api/index.js';
import { Resources } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { startControllers, until, type ControllerHarness } from '../support/workload-harness.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';

let s: TestAPIServer;
let h: ControllerHarness;
let k: Kubectl;

beforeAll(async () => {
  s = await startAPIServer();
  h = await startControllers(s, { controllers: ['deployment', 'replicaset'], kubelet: { nodes: ['node-a', 'node-b'] } });
  const found = kubectls();
  // Prefer the newest kubectl (1.32 from the PATH when present).
  k = found[found.length - 1]!;
});
afterAll(async () => {
  await h?.stop();
  await s?.stop();
});

async function kubectl(...args: string[]): Promise<string> {
  const r = await runKubectl(k, s.kubeconfig, args, { timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function kubectlIn(input: string, ...args: string[]): Promise<string> {
  const r = await runKubectl(k, s.kubeconfig, args, { input, timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function manifest(name: string, ns: string, replicas: number, strategy = '', image = 'nginx:1.27'): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
${strategy}  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: web
        image: ${image}
`;
}

async function namespace(name: string): Promise<string> {
  await h.client.resource(Resources.namespaces).create({ metadata: { name } });
  return name;
}

const replicaSets = (ns: string) => h.client.resource(Resources.replicaSets, ns);
const pods = (ns: string) => h.client.resource(Resources.pods, ns);
const deployments = (ns: string) => h.client.resource(Resources.deployments, ns);

describe('Deployment controller with the real kubectl', () => {
  test('kubectl apply → replica set → pods; rollout status; describe and get events show the chain in order', async () => {
    const ns = await namespace('chain');
    await kubectlIn(manifest('web', ns, 3), 'apply', '-f', '-');
    const status = await kubectl('rollout', 'status', `deployment/web`, '-n', ns, '--timeout=60s');
    expect(status).toContain('deployment "web" successfully rolled out');

    const rs = (await replicaSets(ns).list()).items;
    expect(rs.length).toBe(1);
    const rsName = rs[0]!.metadata.name!;
    expect(rsName).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    const podList = (await pods(ns).list()).items;
    expect(podList.length).toBe(3);
    for (const p of podList) expect(p.metadata.name!.startsWith(`${rsName}-`)).toBe(true);

    await h.broadcaster.flush();
    const describe = await kubectl('describe', 'deployment', 'web', '-n', ns);
    expect(describe).toMatch(/deployment\.kubernetes\.io\/revision: 1/);
    expect(describe).toMatch(/Available\s+True\s+MinimumReplicasAvailable/);
    expect(describe).toMatch(/Progressing\s+True\s+NewReplicaSetAvailable/);
    expect(describe).toContain(`NewReplicaSet:   ${rsName} (3/3 replicas created)`);
    expect(describe).toMatch(new RegExp(`Normal\\s+ScalingReplicaSet\\s+\\S+\\s+deployment-controller\\s+Scaled up replica set ${rsName} to 3`));

    // kubectl get events: the deployment's scale first, then the replica set's pod creations.
    const events = await kubectl('get', 'events', '-n', ns, '-o', 'jsonpath={range .items[*]}{.involvedObject.kind}/{.reason}/{.source.component}{"\\n"}{end}', '--sort-by=.metadata.resourceVersion');
    const lines = events.trim().split('\n');
    expect(lines[0]).toBe('Deployment/ScalingReplicaSet/deployment-controller');
    expect(lines.slice(1).filter((l) => l === 'ReplicaSet/SuccessfulCreate/replicaset-controller').length).toBe(3);
    const rsEvents = await kubectl('get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${rsName}`, '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}');
    expect(rsEvents.trim().split('\n').sort()).toEqual(podList.map((p) => `Created pod: ${p.metadata.name}`).sort());
  });

  test('a rolling update never exceeds maxSurge or drops below replicas - maxUnavailable, step by step', async () => {
    const ns = await namespace('rolling');
    const strategy = '  strategy:\n    type: RollingUpdate\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}\n';
    await kubectlIn(manifest('web', ns, 4, strategy), 'apply', '-f', '-');
    await kubectl('rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s');

    // Hold new pods back: each becomes ready only when the test says so.
    const oldHash = (await replicaSets(ns).list()).items[0]!.metadata.labels!['pod-template-hash'];
    const readied = new Set<string>();
    h.kubelet.behaviour = (p) => (p.metadata.namespace !== ns || p.metadata.labels?.['pod-template-hash'] === oldHash || readied.has(p.metadata.name!) ? 'ready' : 'running');
    // Every state the pods and replica sets pass through, as informers see them.
    const violations: string[] = [];
    const steps: string[] = [];
    const podInf = h.factory.informerFor(Resources.pods);
    const rsInf = h.factory.informerFor(Resources.replicaSets);
    const sizes = () => {
      const list = rsInf.lister().namespace(ns).list();
      const old = list.find((r) => r.metadata.labels!['pod-template-hash'] === oldHash);
      const cur = list.find((r) => r.metadata.labels!['pod-template-hash'] !== oldHash);
      return `${old?.spec?.replicas ?? 0}/${cur?.spec?.replicas ?? 0}`;
    };
    const check = () => {
      const live = podInf.lister().namespace(ns).list().filter((p) => !p.metadata.deletionTimestamp);
      const ready = live.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      if (live.length > 5) violations.push(`${live.length} pods`);
      if (ready.length < 3) violations.push(`${ready.length} ready`);
      const st = sizes();
      if (steps[steps.length - 1] !== st) steps.push(st);
    };
    const regs = [podInf.addEventHandler({ onAdd: check, onUpdate: check, onDelete: check }), rsInf.addEventHandler({ onAdd: check, onUpdate: check })];
    try {
      await kubectl('set', 'image', 'deployment/web', 'web=nginx:1.28', '-n', ns);
      const unready = () =>
        podInf
          .lister()
          .namespace(ns)
          .list()
          .find((p) => p.metadata.labels?.['pod-template-hash'] !== oldHash && !readied.has(p.metadata.name!) && !p.metadata.deletionTimestamp && p.status?.phase === 'Running');
      const done = () => sizes() === '0/4' && readied.size >= 4 && !unready();
      for (let i = 0; i < 20 && !done(); i++) {
        // Wait for a new pod the kubelet runs (not ready), make it ready, and watch the rollout take a step.
        await until(() => !!unready() || done(), 'a running new pod', 10_000);
        const pod = unready();
        if (!pod) break;
        const before = sizes();
        readied.add(pod.metadata.name!);
        await h.kubelet.set(ns, pod.metadata.name!, 'ready');
        await until(() => sizes() !== before || before === '0/4', `a step after ${before}`, 10_000);
      }
      await kubectl('rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s');
      expect(sizes()).toBe('0/4');
      expect(violations).toEqual([]);
      // The old replica set only shrinks and the new one only grows, one surge at a time.
      const olds = steps.map((x) => Number(x.split('/')[0]));
      const news = steps.map((x) => Number(x.split('/')[1]));
      for (let i = 1; i < steps.length; i++) {
        expect(olds[i]!).toBeLessThanOrEqual(olds[i - 1]!);
        expect(news[i]!).toBeGreaterThanOrEqual(news[i - 1]!);
        expect(olds[i]! + news[i]!).toBeLessThanOrEqual(5);
      }
      expect(steps.slice(0, 3)).toEqual(['4/0', '4/1', '3/1']);
      expect(steps.length).toBeGreaterThanOrEqual(6);
    } finally {
      for (const r of regs) r.remove();
      h.kubelet.behaviour = () => 'ready';
    }
  });

  test('rollout history, undo, restart, pause and resume with the real kubectl', async () => {
    const ns = await namespace('history');
    await kubectlIn(manifest('web', ns, 2), 'apply', '-f', '-');
    await kubectl('rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s');
    await kubectl('set', 'image', 'deployment/web', 'web=nginx:1.28', '-n', ns);
    await kubectl('annotate', 'deployment/web', '-n', ns, 'kubernetes.io/change-cause=upgrade to 1.28', '--overwrite');
    await kubectl('rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s');

    const history = await kubectl('rollout', 'history', 'deployment/web', '-n', ns);
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE/);
    expect(history).toMatch(/^1\s+<none>$/m);
    expect(history).toMatch(/^2\s+upgrade to 1\.28$/m);
    const rev1 = await kubectl('rollout', 'history', 'deployment/web', '-n', ns, '--revision=1');
    expect(rev1).toContain('nginx:1.27');

    // Undo: the template of revision 1 comes back and its replica set becomes revision 3.
    const undo = await kubectl('rollout', 'undo', 'deployment/web', '-n', ns);
    expect(undo).toContain('deployment.apps/web rolled back');
    await kubectl('rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s');
    const d = await deployments(ns).get('web');
    expect(d.spec!.template.spec!.containers[0]!.image).toBe('nginx:1.27');
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    const rsList = (await replicaSets(ns).list()).items;
    expect(rsList.length).toBe(2);
    const back = rsList.find((r) => r.spec!.template!.spec!.containers[0]!.image === 'nginx:1.27')!;
    expect(back.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
    expect(back.spec!.replicas).toBe(2);
    const history2 = await kubectl('rollout', 'history', 'deployment/web', '-n', ns);
    expect(history2).toMatch(/^2\s+upgrade to 1\.28$/m);
    expect(history2).toMatch(/^3\s+/m);

    // Restart: a new template annotation, so a new replica set and revision 4.
    await kubectl('rollout', 'restart', 'deployment/web', '-n', ns);
    await kubectl('rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s');
    const restarted = (await replicaSets(ns).list()).items.find((r) => r.metadata.annotations?.['deployment.kubernetes.io/revision'] === '4');
    expect(restarted?.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeTruthy();
    expect(restarted?.status?.readyReplicas).toBe(2);

    // Pause: a template change waits; resume rolls it out.
    await kubectl('rollout', 'pause', 'deployment/web', '-n', ns);
    await kubectl('set', 'image', 'deployment/web', 'web=nginx:1.29', '-n', ns);
    await until(async () => (await deployments(ns).get('web')).status?.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'DeploymentPaused') ?? false, 'paused condition');
    await new Promise((r) => setTimeout(r, 500));
    expect((await replicaSets(ns).list()).items.some((r) => r.spec!.template!.spec!.containers[0]!.image === 'nginx:1.29')).toBe(false);
    const undoPaused = await runKubectl(k, s.kubeconfig, ['rollout', 'undo', 'deployment/web', '-n', ns]);
    expect(undoPaused.code).not.toBe(0);
    expect(undoPaused.stderr).toContain('you cannot rollback a paused deployment');
    await kubectl('rollout', 'resume', 'deployment/web', '-n', ns);
    await kubectl('rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s');
    expect((await replicaSets(ns).list()).items.find((r) => r.spec!.template!.spec!.containers[0]!.image === 'nginx:1.29')?.status?.availableReplicas).toBe(2);
  });

  test('Recreate: every old pod is gone before the first new one is created', async () => {
    const ns = await namespace('recreate');
    await kubectlIn(manifest('db', ns, 2, '  strategy:\n    type: Recreate\n'), 'apply', '-f', '-');
    await kubectl('rollout', 'status', 'deployment/db', '-n', ns, '--timeout=60s');
    const timeline: string[] = [];
    const inf = h.factory.informerFor(Resources.pods);
    const reg = inf.addEventHandler({
      onAdd: (p) => p.metadata.namespace === ns && timeline.push(`+${p.spec!.containers[0]!.image}`),
      onDelete: (p) => {
        const pod = 'obj' in p ? (p.obj as Pod) : p;
        if (pod.metadata.namespace === ns) timeline.push(`-${pod.spec!.containers[0]!.image}`);
      },
    });
    try {
      await kubectl('set', 'image', 'deployment/db', 'web=nginx:1.28', '-n', ns);
      await kubectl('rollout', 'status', 'deployment/db', '-n', ns, '--timeout=60s');
      const firstNew = timeline.indexOf('+nginx:1.28');
      const lastOld = timeline.lastIndexOf('-nginx:1.27');
      expect(timeline.filter((t) => t === '-nginx:1.27').length).toBe(2);
      expect(lastOld).toBeLessThan(firstNew);
    } finally {
      reg.remove();
    }
  });

  test('a deployment that cannot progress reports ProgressDeadlineExceeded to kubectl rollout status', async () => {
    const ns = await namespace('stuck');
    h.kubelet.behaviour = (p) => (p.metadata.namespace === ns ? 'running' : 'ready');
    try {
      const m = manifest('stuck', ns, 1).replace('  replicas: 1\n', '  replicas: 1\n  progressDeadlineSeconds: 2\n');
      await kubectlIn(m, 'apply', '-f', '-');
      const r = await runKubectl(k, s.kubeconfig, ['rollout', 'status', 'deployment/stuck', '-n', ns, '--timeout=60s'], { timeoutMs: 90_000 });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('deployment "stuck" exceeded its progress deadline');
    } finally {
      h.kubelet.behaviour = () => 'ready';
    }
  });
});
